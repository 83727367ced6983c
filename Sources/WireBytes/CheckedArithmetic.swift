// Overflow-checked arithmetic for lengths that come off the wire (DESIGN.md rule 2):
// a hostile length never wraps into a small one.

infix operator +? : AdditionPrecedence
infix operator *? : MultiplicationPrecedence

/// Sum, or nil on overflow.
@inlinable public func +? (lhs: Int, rhs: Int) -> Int? {
    let (v, o) = lhs.addingReportingOverflow(rhs)
    return o ? nil : v
}
/// Product, or nil on overflow.
@inlinable public func *? (lhs: Int, rhs: Int) -> Int? {
    let (v, o) = lhs.multipliedReportingOverflow(by: rhs)
    return o ? nil : v
}

/// Rounds `n` up to a multiple of 4 (pcapng block and option padding), nil on overflow.
@inlinable public func paddedTo4(_ n: Int) -> Int? {
    guard let v = n +? 3 else { return nil }
    return v & ~3
}
