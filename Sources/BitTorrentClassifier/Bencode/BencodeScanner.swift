// Zero-copy bencode scanner (BEP 3, https://www.bittorrent.org/beps/bep_0003.html, "bencoding").
//
// BEP 3: "Strings are length-prefixed base ten followed by a colon and the string. For example
// 4:spam corresponds to 'spam'. Integers are represented by an 'i' followed by the number in base 10
// followed by an 'e'. For example i3e corresponds to 3 and i-3e corresponds to -3. Integers have no
// size limitation. i-0e is invalid. All encodings with a leading zero, such as i03e, are invalid,
// other than i0e, which of course corresponds to 0. Lists are encoded as an 'l' followed by their
// elements (also bencoded) followed by an 'e'. Dictionaries are encoded as a 'd' followed by a list
// of alternating keys and their corresponding values followed by an 'e'. Keys must be strings and
// appear in sorted order (sorted as raw strings, not alphanumerics)."
//
// Design: `BencodeScanner.value` validates a whole value once (limits, key types, canonical
// integers) and returns a `BencodeItem`: offsets into the caller's bytes, no tree, no allocation.
// Navigation (`entries`, `elements`, `item[key]`) then walks the validated bytes. Key order is not
// enforced: real clients send unsorted dictionaries (the parse, not the order, is the judge).
import WireBytes

/// Why bytes are not (yet) one bencoded value. `needMore` means the bytes so far are a valid prefix.
public struct BencodeError: Error, Equatable, Sendable {
    public enum Reason: String, Sendable {
        case needMore = "need_more"
        case unexpectedByte = "unexpected_byte"          // not i/l/d/digit where a value must start
        case nonCanonicalInteger = "non_canonical_integer"  // i-0e, i03e, ie, i-e, junk before 'e'
        case integerTooLong = "integer_too_long"
        case badStringLength = "bad_string_length"       // leading zero, junk before ':'
        case stringTooLong = "string_too_long"
        case tooDeep = "too_deep"
        case tooManyItems = "too_many_items"
        case nonStringKey = "non_string_key"
        case trailingBytes = "trailing_bytes"
    }
    public var reason: Reason
    /// Offset (from the start of the scanned bytes) of the byte that broke the grammar.
    public var offset: Int
    public init(_ reason: Reason, at offset: Int) { self.reason = reason; self.offset = offset }
    public var isNeedMore: Bool { reason == .needMore }
}

public enum BencodeKind: UInt8, Sendable { case integer, string, list, dictionary }

public enum BencodeScanner {
    /// Validates the one value that starts at `offset` (bytes after it are not looked at).
    public static func value(in bytes: UnsafeRawBufferPointer, at offset: Int = 0,
                             limits: BencodeLimits) throws(BencodeError) -> BencodeItem {
        var walker = Walker(bytes: bytes, limits: limits)
        return try walker.scan(at: offset, depth: 0)
    }

    /// Validates that `bytes` hold exactly one value and nothing after it.
    public static func document(_ bytes: UnsafeRawBufferPointer, limits: BencodeLimits) throws(BencodeError) -> BencodeItem {
        let item = try value(in: bytes, limits: limits)
        guard item.end == bytes.count else { throw BencodeError(.trailingBytes, at: item.end) }
        return item
    }
}

/// One validated value inside borrowed bytes: its kind and offsets. Valid while the bytes are.
public struct BencodeItem {
    public let bytes: UnsafeRawBufferPointer
    public let kind: BencodeKind
    /// Offset of the first byte of the encoding (`i`, `l`, `d` or the first length digit).
    public let start: Int
    /// Strings: first byte of the string. Integers: first digit or sign. Containers: `start + 1`.
    public let contentStart: Int
    /// One past the last byte of the encoding.
    public let end: Int

    public var range: Range<Int> { start..<end }
    /// The encoded bytes of this value (e.g. the raw `info` dictionary to hash).
    public var encoded: UnsafeRawBufferPointer { bytes.slice(start, end - start) }

    /// The string's bytes, or nil when this is not a string.
    public var stringBytes: UnsafeRawBufferPointer? {
        kind == .string ? bytes.slice(contentStart, end - contentStart) : nil
    }
    /// The string's length, or nil when this is not a string.
    public var stringLength: Int? { kind == .string ? end - contentStart : nil }

    /// The string decoded as UTF-8 (invalid sequences replaced), capped at `maxBytes` (allocates).
    public func string(maxBytes: Int = 4_096) -> String? {
        guard let s = stringBytes else { return nil }
        return String(decoding: s.slice(0, maxBytes), as: UTF8.self)
    }

    /// True when this is the string `literal`.
    public func isString(_ literal: StaticString) -> Bool {
        kind == .string && end - contentStart == literal.utf8CodeUnitCount && bytes.matches(literal, at: contentStart)
    }

    /// The integer's value, or nil when this is not an integer.
    public var integer: Int64? {
        guard kind == .integer else { return nil }
        var i = contentStart
        let negative = bytes.u8(at: i) == UInt8(ascii: "-")
        if negative { i += 1 }
        var v: Int64 = 0
        while i < end - 1, let c = bytes.u8(at: i) {   // validated: digits only, fits Int64
            v = v &* 10 &+ Int64(c &- 48)
            i += 1
        }
        return negative ? 0 &- v : v
    }
    /// The integer as `Int` when it is in `range`.
    public func integer(in range: ClosedRange<Int64>) -> Int? {
        guard let v = integer, range.contains(v) else { return nil }
        return Int(v)
    }

    /// Key/value pairs of a dictionary in wire order (empty for other kinds). No allocation.
    public var entries: DictionaryEntries { DictionaryEntries(bytes: bytes, cursor: kind == .dictionary ? contentStart : end, end: end) }
    /// Elements of a list in wire order (empty for other kinds). No allocation.
    public var elements: ListElements { ListElements(bytes: bytes, cursor: kind == .list ? contentStart : end, end: end) }

    /// The first element of a list.
    public var firstElement: BencodeItem? { var it = elements; return it.next() }

    /// The value of the first entry whose key is `key` (dictionaries only).
    public subscript(key: StaticString) -> BencodeItem? {
        for entry in entries where entry.key.isString(key) { return entry.value }
        return nil
    }

    /// Number of elements (lists) or entries (dictionaries); 0 for scalars.
    public var count: Int {
        var n = 0
        if kind == .list { for _ in elements { n += 1 } }
        if kind == .dictionary { for _ in entries { n += 1 } }
        return n
    }
}

public struct DictionaryEntries: Sequence, IteratorProtocol {
    let bytes: UnsafeRawBufferPointer
    var cursor: Int
    let end: Int
    public mutating func next() -> (key: BencodeItem, value: BencodeItem)? {
        guard cursor < end - 1, let key = trustedItem(bytes, at: cursor),
              let value = trustedItem(bytes, at: key.end) else { cursor = end; return nil }
        cursor = value.end
        return (key, value)
    }
}

public struct ListElements: Sequence, IteratorProtocol {
    let bytes: UnsafeRawBufferPointer
    var cursor: Int
    let end: Int
    public mutating func next() -> BencodeItem? {
        guard cursor < end - 1, let item = trustedItem(bytes, at: cursor) else { cursor = end; return nil }
        cursor = item.end
        return item
    }
}

/// Re-reads an item inside an already validated value: the limits were enforced by the first scan,
/// so this only finds the item's end, iteratively, without building anything.
@inline(__always) func trustedItem(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> BencodeItem? {
    guard offset >= 0, offset < bytes.count else { return nil }
    let c = bytes.load(fromByteOffset: offset, as: UInt8.self)
    switch c {
    case UInt8(ascii: "i"):
        guard let end = trustedEnd(bytes, at: offset) else { return nil }
        return BencodeItem(bytes: bytes, kind: .integer, start: offset, contentStart: offset + 1, end: end)
    case UInt8(ascii: "l"), UInt8(ascii: "d"):
        guard let end = trustedEnd(bytes, at: offset) else { return nil }
        return BencodeItem(bytes: bytes, kind: c == UInt8(ascii: "d") ? .dictionary : .list, start: offset, contentStart: offset + 1, end: end)
    default:
        guard let (content, end) = trustedString(bytes, at: offset) else { return nil }
        return BencodeItem(bytes: bytes, kind: .string, start: offset, contentStart: content, end: end)
    }
}

/// End of the validated value at `offset`: one loop with a depth counter instead of recursion.
@inline(__always) func trustedEnd(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
    var i = offset
    var depth = 0
    let n = bytes.count
    repeat {
        guard i < n else { return nil }
        let c = bytes.load(fromByteOffset: i, as: UInt8.self)
        switch c {
        case UInt8(ascii: "i"):
            i += 1
            while i < n, bytes.load(fromByteOffset: i, as: UInt8.self) != UInt8(ascii: "e") { i += 1 }
            i += 1
        case UInt8(ascii: "l"), UInt8(ascii: "d"):
            depth += 1; i += 1
        case UInt8(ascii: "e"):
            depth -= 1; i += 1
        default:
            guard let (_, end) = trustedString(bytes, at: i) else { return nil }
            i = end
        }
    } while depth > 0
    return i <= n ? i : nil
}

/// `length ':' bytes` of a validated string: (content start, end).
@inline(__always) func trustedString(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (Int, Int)? {
    var i = offset
    var length = 0
    let n = bytes.count
    while i < n {
        let c = bytes.load(fromByteOffset: i, as: UInt8.self)
        if c == UInt8(ascii: ":") {
            let end = i + 1 + length
            return end <= n ? (i + 1, end) : nil
        }
        guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), i - offset < BencodeLimits.maxLengthDigits else { return nil }
        length = length &* 10 &+ Int(c &- 48)
        i += 1
    }
    return nil
}

/// The validating recursive walk. Recursion depth is bounded by `limits.maxDepth`.
struct Walker {
    let bytes: UnsafeRawBufferPointer
    let limits: BencodeLimits
    var items = 0

    /// The byte at `i`, or nil past the end (offsets here are never negative).
    @inline(__always) func byte(_ i: Int) -> UInt8? {
        i < bytes.count ? bytes.load(fromByteOffset: i, as: UInt8.self) : nil
    }

    mutating func scan(at start: Int, depth: Int) throws(BencodeError) -> BencodeItem {
        guard let c = byte(start) else { throw BencodeError(.needMore, at: start) }
        items += 1
        guard items <= limits.maxItems else { throw BencodeError(.tooManyItems, at: start) }
        switch c {
        case UInt8(ascii: "i"):
            let end = try integerEnd(at: start + 1)
            return BencodeItem(bytes: bytes, kind: .integer, start: start, contentStart: start + 1, end: end)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            let (content, end) = try stringBounds(at: start)
            return BencodeItem(bytes: bytes, kind: .string, start: start, contentStart: content, end: end)
        case UInt8(ascii: "l"), UInt8(ascii: "d"):
            guard depth < limits.maxDepth else { throw BencodeError(.tooDeep, at: start) }
            let isDict = c == UInt8(ascii: "d")
            var i = start + 1
            while true {
                guard let next = byte(i) else { throw BencodeError(.needMore, at: i) }
                if next == UInt8(ascii: "e") { break }
                if isDict {
                    guard next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") else {
                        let isValueStart = next == UInt8(ascii: "i") || next == UInt8(ascii: "l") || next == UInt8(ascii: "d")
                        throw BencodeError(isValueStart ? .nonStringKey : .unexpectedByte, at: i)
                    }
                    i = try scan(at: i, depth: depth + 1).end
                }
                i = try scan(at: i, depth: depth + 1).end
            }
            return BencodeItem(bytes: bytes, kind: isDict ? .dictionary : .list, start: start, contentStart: start + 1, end: i + 1)
        default:
            throw BencodeError(.unexpectedByte, at: start)
        }
    }

    /// `digits 'e'` after the `i`: returns the offset after `e`.
    func integerEnd(at first: Int) throws(BencodeError) -> Int {
        var i = first
        guard let c0 = byte(i) else { throw BencodeError(.needMore, at: i) }
        let negative = c0 == UInt8(ascii: "-")
        if negative { i += 1 }
        let digitsStart = i
        var magnitude: UInt64 = 0
        while true {
            guard let c = byte(i) else { throw BencodeError(.needMore, at: i) }
            if c == UInt8(ascii: "e") { break }
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { throw BencodeError(.nonCanonicalInteger, at: i) }
            guard i - digitsStart < limits.maxIntegerDigits else { throw BencodeError(.integerTooLong, at: i) }
            magnitude = magnitude &* 10 &+ UInt64(c - 48)   // 19 digits < 1e19 < UInt64.max
            i += 1
        }
        let digits = i - digitsStart
        guard digits > 0 else { throw BencodeError(.nonCanonicalInteger, at: i) }
        if byte(digitsStart) == UInt8(ascii: "0"), digits > 1 || negative {
            throw BencodeError(.nonCanonicalInteger, at: digitsStart)    // i03e, i-0e
        }
        let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        guard magnitude <= limit else { throw BencodeError(.integerTooLong, at: digitsStart) }
        return i + 1
    }

    /// `length ':' bytes`: returns (offset of the first string byte, offset after the string).
    func stringBounds(at start: Int) throws(BencodeError) -> (Int, Int) {
        var i = start
        var length = 0
        while true {
            guard let c = byte(i) else { throw BencodeError(.needMore, at: i) }
            if c == UInt8(ascii: ":") { break }
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), i - start < BencodeLimits.maxLengthDigits else {
                throw BencodeError(.badStringLength, at: i)
            }
            length = length * 10 + Int(c - 48)    // at most 10 digits: no overflow in Int64
            i += 1
        }
        guard i > start, !(byte(start) == UInt8(ascii: "0") && i - start > 1) else {
            throw BencodeError(.badStringLength, at: start)
        }
        guard length <= limits.maxStringLength else { throw BencodeError(.stringTooLong, at: start) }
        let content = i + 1
        guard let end = content +? length else { throw BencodeError(.stringTooLong, at: start) }
        guard end <= bytes.count else { throw BencodeError(.needMore, at: bytes.count) }
        return (content, end)
    }
}
