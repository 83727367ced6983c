// The 20-byte peer id of BEP 3 / BEP 20, stored as words (trivial, hashable).
import WireBytes

public struct PeerID: Hashable, Sendable {
    public var w0: UInt64, w1: UInt64, w2: UInt32

    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 20 else { return nil }
        w0 = bytes.u64be(at: 0)!
        w1 = bytes.u64be(at: 8)!
        w2 = bytes.u32be(at: 16)!
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w0 >> UInt64(s))) }
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w1 >> UInt64(s))) }
        for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w2 >> UInt32(s))) }
        return out
    }

    public var hex: String { bytes.withUnsafeBytes { $0.hexString } }
}
