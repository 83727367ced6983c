// IPv4 and IPv6 addresses as one trivial value type, formatted per RFC 5952 (IPv6) and
// dotted quad (IPv4). IPv4 is stored in `lo`'s low 32 bits with `isV6 == false`.
import WireBytes

public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var hi: UInt64
    public var lo: UInt64
    public var isV6: Bool

    @inlinable public init(v4: UInt32) { hi = 0; lo = UInt64(v4); isV6 = false }
    @inlinable public init(v6hi: UInt64, v6lo: UInt64) { hi = v6hi; lo = v6lo; isV6 = true }
    /// From the stored words (compact records keep the family apart, as a flag).
    @inlinable public init(hi: UInt64, lo: UInt64, isV6: Bool) { self.hi = hi; self.lo = lo; self.isV6 = isV6 }

    /// From 4 or 16 network-order bytes.
    public init?(bytes: UnsafeRawBufferPointer) {
        switch bytes.count {
        case 4: self.init(v4: bytes.u32be(at: 0)!)
        case 16: self.init(v6hi: bytes.u64be(at: 0)!, v6lo: bytes.u64be(at: 8)!)
        default: return nil
        }
    }
    public init?(bytes: [UInt8]) {
        guard let a = bytes.withUnsafeBytes({ IPAddress(bytes: $0) }) else { return nil }
        self = a
    }

    public var v4: UInt32? { isV6 ? nil : UInt32(truncatingIfNeeded: lo) }

    /// IPv4 sorts before IPv6, then numerically (deterministic report order).
    /// Inlinable, as `==`: every packet's flow lookup compares addresses (issue 6).
    @inlinable @inline(__always) public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.isV6 != b.isV6 ? b.isV6 : (a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo)
    }
    @inlinable @inline(__always) public static func == (a: IPAddress, b: IPAddress) -> Bool {
        a.lo == b.lo && a.hi == b.hi && a.isV6 == b.isV6
    }
    /// One word into the hasher, not three (sets of addresses are looked up at every flow's end).
    @inlinable public func hash(into h: inout Hasher) {
        h.combine(lo ^ (hi &* 0x9E37_79B9_7F4A_7C15) ^ (isV6 ? 0x8000_0000_0000_0000 : 0))
    }

    public var bytes: [UInt8] {
        if !isV6 { return (0..<4).map { UInt8(truncatingIfNeeded: lo >> UInt64(24 - 8 * $0)) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: hi >> UInt64(56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: lo >> UInt64(56 - 8 * $0)) }
    }

    public var description: String {
        if !isV6 { return bytes.map(String.init).joined(separator: ".") }
        // RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as "::" (first on ties),
        // and IPv4-mapped addresses with a dotted tail.
        let groups: [UInt16] = (0..<4).map { UInt16(truncatingIfNeeded: hi >> UInt64(48 - 16 * $0)) }
            + (0..<4).map { UInt16(truncatingIfNeeded: lo >> UInt64(48 - 16 * $0)) }
        if hi == 0, lo >> 32 == 0xFFFF {
            return "::ffff:" + IPAddress(v4: UInt32(truncatingIfNeeded: lo)).description
        }
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLen { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ g: UInt16) -> String { String(g, radix: 16) }
        if bestLen < 2 { return groups.map(hex).joined(separator: ":") }
        let head = groups[0..<bestStart].map(hex).joined(separator: ":")
        let tail = groups[(bestStart + bestLen)...].map(hex).joined(separator: ":")
        return head + "::" + tail
    }

    /// Parses dotted IPv4 or textual IPv6 (with `::`, and an optional dotted tail).
    public init?(_ text: String) {
        if !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var v: UInt32 = 0
            for p in parts {
                guard !p.isEmpty, p.count <= 3, let n = UInt32(p), n <= 255 else { return nil }
                v = v << 8 | n
            }
            self.init(v4: v)
            return
        }
        var text = Substring(text)
        var tail: [UInt16] = []
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = IPAddress(String(text[text.index(after: lastColon)...]))?.v4 else { return nil }
            tail = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for p in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !p.isEmpty, p.count <= 4, let g = UInt16(p, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        var all: [UInt16]
        if let dc = text.indices.first(where: { text[$0] == ":" && text.index(after: $0) < text.endIndex && text[text.index(after: $0)] == ":" }) {
            let after = text.index(dc, offsetBy: 2)
            guard let a = groups(text[..<dc]), let b = groups(text[after...]) else { return nil }
            let missing = 8 - a.count - b.count - tail.count
            guard missing >= 1 else { return nil }
            all = a + Array(repeating: 0, count: missing) + b + tail
        } else {
            guard let a = groups(text) else { return nil }
            all = a + tail
        }
        guard all.count == 8 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for k in 0..<4 { h = h << 16 | UInt64(all[k]) }
        for k in 4..<8 { l = l << 16 | UInt64(all[k]) }
        self.init(v6hi: h, v6lo: l)
    }
}
