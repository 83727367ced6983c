// Small ASCII helpers for HTTP request and response heads (RFC 9112), over borrowed bytes.

extension UnsafeRawBufferPointer {
    /// Offset of the first `byte` in `from..<min(limit, count)`.
    func firstOffset(of byte: UInt8, from: Int, limit: Int) -> Int? {
        var i = Swift.max(from, 0)
        let stop = Swift.min(limit, count)
        while i < stop {
            if self[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// True when these bytes (all of them) are a prefix of `literal`.
    func isPrefix(of literal: StaticString) -> Bool {
        guard count <= literal.utf8CodeUnitCount else { return false }
        for i in 0..<count where self[i] != literal.utf8Start[i] { return false }
        return true
    }

    /// True when these bytes are exactly `literal`.
    func bytesEqual(_ literal: StaticString) -> Bool { count == literal.utf8CodeUnitCount && matches(literal) }

    /// ASCII case-insensitive prefix test (`literal` must be lowercase).
    func hasPrefixIgnoringCase(_ literal: StaticString, at offset: Int = 0) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard has(offset, n) else { return false }
        for i in 0..<n {
            var c = self[offset + i]
            if c >= 65, c <= 90 { c += 32 }
            if c != literal.utf8Start[i] { return false }
        }
        return true
    }

    /// Without leading/trailing spaces, tabs and CR.
    func trimmingHTTPSpace() -> UnsafeRawBufferPointer {
        var s = 0, e = count
        while s < e, self[s] == 32 || self[s] == 9 { s += 1 }
        while e > s, self[e - 1] == 32 || self[e - 1] == 9 || self[e - 1] == 13 { e -= 1 }
        return slice(s, e - s)
    }
}
