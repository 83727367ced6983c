// Bidirectional 5-tuple: both directions of a conversation map to the same key.
import WireBytes

public struct FlowKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The lower (address, port) endpoint.
    public var a: IPAddress
    public var aPort: UInt16
    public var b: IPAddress
    public var bPort: UInt16
    public var proto: UInt8

    public init(a: IPAddress, aPort: UInt16, b: IPAddress, bPort: UInt16, proto: UInt8) {
        self.a = a; self.aPort = aPort; self.b = b; self.bPort = bPort; self.proto = proto
    }

    /// The canonical key of a decoded packet: the lower (ip, port) first. `aIsSource` says whether
    /// the packet's source is endpoint `a`.
    @inlinable public static func canonical(_ p: DecodedPacket) -> (key: FlowKey, aIsSource: Bool) {
        let srcFirst = (p.src, p.srcPort) <= (p.dst, p.dstPort)
        return srcFirst
            ? (FlowKey(a: p.src, aPort: p.srcPort, b: p.dst, bPort: p.dstPort, proto: p.ipProtocol), true)
            : (FlowKey(a: p.dst, aPort: p.dstPort, b: p.src, bPort: p.srcPort, proto: p.ipProtocol), false)
    }

    /// Inlinable: the flow table compares keys for every packet (issue 6).
    @inlinable @inline(__always) public static func == (x: FlowKey, y: FlowKey) -> Bool {
        x.a == y.a && x.b == y.b && x.aPort == y.aPort && x.bPort == y.bPort && x.proto == y.proto
    }

    public static func < (x: FlowKey, y: FlowKey) -> Bool {
        (x.a, x.aPort, x.b, x.bPort) < (y.a, y.aPort, y.b, y.bPort) || ((x.a, x.aPort, x.b, x.bPort) == (y.a, y.aPort, y.b, y.bPort) && x.proto < y.proto)
    }

    /// A deterministic hash, equal for both directions (the key is canonical), for sharding flows
    /// across workers. Unlike `hashValue` it does not change between runs.
    @inlinable public var symmetricHash: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ v: UInt64) { h = (h ^ v) &* 0x100_0000_01b3; h ^= h >> 29 }
        mix(a.hi); mix(a.lo); mix(b.hi); mix(b.lo)
        mix(UInt64(aPort) << 24 | UInt64(bPort) << 8 | UInt64(proto))
        return h
    }

    public var description: String { "\(proto) \(a):\(aPort) <-> \(b):\(bPort)" }
}
