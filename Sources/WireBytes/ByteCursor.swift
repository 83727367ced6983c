// Bounds-checked reading of borrowed bytes (DESIGN.md rules 1-3).
//
// Every reader in torscan reads through ByteCursor: a raw pointer and an offset over bytes that
// someone else owns (the capture reader's file or stream buffer). Reads return nil when the bytes
// are short; nothing here traps on wire data and nothing copies. The caller guarantees that the
// underlying memory outlives the cursor (the capture reader keeps a record's buffer until the
// record is processed), which is why cursors are created inside closures and never stored in flows.

/// A forward-only reader over borrowed bytes. Every read checks the remaining length first.
public struct ByteCursor {
    public let bytes: UnsafeRawBufferPointer
    /// Offset of the next unread byte, from the start of `bytes`.
    public var offset: Int

    @inlinable public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = min(max(offset, 0), bytes.count)
    }

    @inlinable public var remaining: Int { bytes.count - offset }
    @inlinable public var isAtEnd: Bool { offset >= bytes.count }

    /// The unread bytes, without consuming them.
    @inlinable public var rest: UnsafeRawBufferPointer { bytes.slice(offset, bytes.count - offset) }

    @inlinable public mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, n <= remaining else { return false }
        offset += n
        return true
    }

    @inlinable public mutating func take(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= remaining else { return nil }
        defer { offset += n }
        return bytes.slice(offset, n)
    }

    @inlinable public func peekU8(at delta: Int = 0) -> UInt8? {
        bytes.u8(at: offset &+ delta)
    }

    @inlinable public mutating func u8() -> UInt8? {
        guard let v = bytes.u8(at: offset) else { return nil }
        offset += 1
        return v
    }
    @inlinable public mutating func u16be() -> UInt16? { read(2) { $0.u16be(at: $1) } }
    @inlinable public mutating func u16le() -> UInt16? { read(2) { $0.u16le(at: $1) } }
    @inlinable public mutating func u32be() -> UInt32? { read(4) { $0.u32be(at: $1) } }
    @inlinable public mutating func u32le() -> UInt32? { read(4) { $0.u32le(at: $1) } }
    @inlinable public mutating func u64be() -> UInt64? { read(8) { $0.u64be(at: $1) } }
    @inlinable public mutating func u64le() -> UInt64? { read(8) { $0.u64le(at: $1) } }

    @inlinable @inline(__always) public mutating func read<T>(_ width: Int, _ load: (UnsafeRawBufferPointer, Int) -> T?) -> T? {
        guard let v = load(bytes, offset) else { return nil }
        offset += width
        return v
    }
}
