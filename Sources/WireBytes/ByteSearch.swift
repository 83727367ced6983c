// Finding one byte value in a buffer eight bytes at a time, for scans over whole payloads (the
// classifier looks for handshakes and message headers in every undecided TCP stream). The test is
// the "word has a zero byte" expression of Hacker's Delight (2nd ed., section 6-1) applied to the
// word XOR the byte repeated: it never misses a match, and reports one only when the word holds one.
extension UnsafeRawBufferPointer {
    /// The first offset at or after `from` holding `byte`; nil when there is none (or `from` < 0).
    @inlinable public func offset(ofByte byte: UInt8, from: Int) -> Int? {
        guard from >= 0, let base = baseAddress else { return nil }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let pattern = UInt64(byte) &* ones
        var k = from
        while k + 8 <= count {
            let v = base.loadUnaligned(fromByteOffset: k, as: UInt64.self) ^ pattern
            if (v &- ones) & ~v & highs != 0 { break }
            k += 8
        }
        while k < count {
            if base.load(fromByteOffset: k, as: UInt8.self) == byte { return k }
            k += 1
        }
        return nil
    }
}
