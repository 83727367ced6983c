// Infohashes (BEP 3: SHA-1 of the bencoded info dictionary, 20 bytes; BEP 52: SHA-256, 32 bytes,
// truncated to 20 bytes in peer-wire handshakes and tracker requests). Stored as words so the type
// is a trivial, hashable value (InlineArray is not Hashable in Swift 6.3).
import WireBytes

public struct InfoHash: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64
    /// 20 for v1 (or a v2 hash truncated as on the wire), 32 for a full v2 hash.
    public var byteCount: Int

    /// Reads 20 or 32 bytes; nil for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 20 || bytes.count == 32 else { return nil }
        byteCount = bytes.count
        w0 = bytes.u64be(at: 0)!
        w1 = bytes.u64be(at: 8)!
        if bytes.count == 20 {
            w2 = UInt64(bytes.u32be(at: 16)!) << 32
            w3 = 0
        } else {
            w2 = bytes.u64be(at: 16)!
            w3 = bytes.u64be(at: 24)!
        }
    }

    public init?(bytes: [UInt8]) {
        guard let v = bytes.withUnsafeBytes({ InfoHash(bytes: $0) }) else { return nil }
        self = v
    }

    /// Parses 40 or 64 hex digits (either case).
    public init?(hex: String) {
        var out: [UInt8] = []
        var hi: UInt8? = nil
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: return nil
            }
            if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
        }
        guard hi == nil else { return nil }
        self.init(bytes: out)
    }

    /// The first 20 bytes: a full v2 hash as it appears on the wire (BEP 52 "truncated").
    public var truncated: InfoHash {
        var t = self
        t.byteCount = 20
        t.w2 &= 0xFFFF_FFFF_0000_0000
        t.w3 = 0
        return t
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount)
        for w in [w0, w1, w2, w3] { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
        return Array(out.prefix(byteCount))
    }

    /// Lowercase hex: 40 or 64 characters (DESIGN.md output contract).
    public var hex: String { bytes.withUnsafeBytes { $0.hexString } }
    public var description: String { hex }

    public static func < (a: InfoHash, b: InfoHash) -> Bool {
        (a.w0, a.w1, a.w2, a.w3, a.byteCount) < (b.w0, b.w1, b.w2, b.w3, b.byteCount)
    }
}
