// Finding one byte value in a buffer, for scans over whole payloads (the classifier looks for
// handshakes and message headers in every undecided TCP stream): the C library's memchr, which
// compares 32 or 64 bytes per step with vector instructions (the two scans that use it took 195
// instructions per packet with an eight-bytes-at-a-time loop, 55 with memchr: Scripts/bench-instructions).
// Where there is no C library, that eight-byte test in Swift: the "word has a zero byte" expression
// of Hacker's Delight (2nd ed., section 6-1) applied to the word XOR the byte repeated.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension UnsafeRawBufferPointer {
    /// The first offset at or after `from` holding `byte`; nil when there is none (or `from` < 0).
    @inlinable public func offset(ofByte byte: UInt8, from: Int) -> Int? {
        guard from >= 0, from < count, let base = baseAddress else { return nil }
        #if canImport(Glibc) || canImport(Darwin)
        guard let hit = memchr(base + from, Int32(byte), count - from) else { return nil }
        return UnsafeRawPointer(hit) - base
        #else
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
        #endif
    }
}
