// Flow identity is PacketDecode's FlowKey (the two endpoints in canonical order plus the IP protocol);
// this file names the protocol numbers the flow layer uses (IANA "Assigned Internet Protocol Numbers").
import PacketDecode

extension FlowKey {
    /// The key of a packet from `src` to `dst`, and whether `src` is the key's endpoint `a`.
    /// Compared field by field: the tuple comparison went through the generic Comparable witnesses
    /// (issue 6's instruction count: 44 per packet).
    @inline(__always)
    static func of(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16, ipProtocol: UInt8) -> (key: FlowKey, srcIsA: Bool) {
        src < dst || (src == dst && srcPort <= dstPort)
            ? (FlowKey(a: src, aPort: srcPort, b: dst, bPort: dstPort, proto: ipProtocol), true)
            : (FlowKey(a: dst, aPort: dstPort, b: src, bPort: srcPort, proto: ipProtocol), false)
    }
}

/// IANA protocol numbers the flow layer names.
public enum IPProtocolNumber {
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
}
