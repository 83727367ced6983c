// TCP sequence numbers compared with serial-number arithmetic (RFC 793 section 3.3: "all arithmetic
// dealing with sequence numbers must be performed modulo 2**32"; RFC 1982 defines the comparison).
// Two numbers are compared through their signed 32-bit distance, which is correct as long as they are
// less than 2^31 apart: always true inside one TCP window (at most 2^30 with window scaling, RFC 7323).

@usableFromInline struct SequenceNumber {
    /// `b - a` as a signed distance: positive when `b` is after `a`.
    @inlinable static func distance(from a: UInt32, to b: UInt32) -> Int {
        Int(Int32(bitPattern: b &- a))
    }

    /// `a + n` modulo 2^32.
    @inlinable static func advance(_ a: UInt32, by n: Int) -> UInt32 {
        a &+ UInt32(truncatingIfNeeded: n)
    }
}
