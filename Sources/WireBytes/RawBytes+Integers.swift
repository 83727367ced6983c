// Fixed-offset integer loads with their endianness (DESIGN.md rule 3: never overlay a struct).
// Each returns nil when the bytes at `offset` are short, so a validated view can use them freely.

extension UnsafeRawBufferPointer {
    /// A sub-range, clamped to the buffer: never traps, may be shorter than asked.
    @inlinable @inline(__always) public func slice(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        let s = Swift.min(Swift.max(start, 0), self.count)
        let c = Swift.min(Swift.max(count, 0), self.count - s)
        guard let base = baseAddress else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + s, count: c)
    }

    @inlinable @inline(__always) public func has(_ offset: Int, _ width: Int) -> Bool {
        offset >= 0 && width >= 0 && offset <= count && width <= count - offset
    }

    @inlinable @inline(__always) public func u8(at offset: Int) -> UInt8? {
        guard has(offset, 1) else { return nil }
        return load(fromByteOffset: offset, as: UInt8.self)
    }
    @inlinable @inline(__always) public func u16be(at offset: Int) -> UInt16? {
        guard has(offset, 2) else { return nil }
        return UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable @inline(__always) public func u16le(at offset: Int) -> UInt16? {
        guard has(offset, 2) else { return nil }
        return UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable @inline(__always) public func u32be(at offset: Int) -> UInt32? {
        guard has(offset, 4) else { return nil }
        return UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inlinable @inline(__always) public func u32le(at offset: Int) -> UInt32? {
        guard has(offset, 4) else { return nil }
        return UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inlinable @inline(__always) public func u64be(at offset: Int) -> UInt64? {
        guard has(offset, 8) else { return nil }
        return UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable @inline(__always) public func u64le(at offset: Int) -> UInt64? {
        guard has(offset, 8) else { return nil }
        return UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    /// A 16- or 32-bit integer in the given byte order (capture headers declare theirs).
    @inlinable @inline(__always) public func u16(at offset: Int, bigEndian: Bool) -> UInt16? {
        bigEndian ? u16be(at: offset) : u16le(at: offset)
    }
    @inlinable @inline(__always) public func u32(at offset: Int, bigEndian: Bool) -> UInt32? {
        bigEndian ? u32be(at: offset) : u32le(at: offset)
    }

    /// True when the bytes at `offset` equal `literal` (ASCII/byte literal), false when short.
    @inlinable public func matches(_ literal: StaticString, at offset: Int = 0) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard has(offset, n) else { return false }
        let lit = literal.utf8Start
        for i in 0..<n where load(fromByteOffset: offset + i, as: UInt8.self) != lit[i] { return false }
        return true
    }

    /// Lowercase hex of the bytes (allocates: for reports and tests, not the hot path).
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(count * 2)
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0f)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The same loads without a check, for a parser that has checked once that a whole header is
/// present (the pcap record and pcapng block headers, the decoder's fast path: issue 6, where a
/// check per field cost tens of instructions per packet). The caller guarantees the bytes exist.
extension UnsafeRawPointer {
    @inlinable @inline(__always) public func uncheckedU16be(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable @inline(__always) public func uncheckedU32be(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inlinable @inline(__always) public func uncheckedU64be(at offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable @inline(__always) public func uncheckedU16(at offset: Int, bigEndian: Bool) -> UInt16 {
        let v = loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return bigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v)
    }
    @inlinable @inline(__always) public func uncheckedU32(at offset: Int, bigEndian: Bool) -> UInt32 {
        let v = loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
    }
}
