// Flow identity is PacketDecode's FlowKey (the two endpoints in canonical order plus the IP protocol);
// this file names the protocol numbers the flow layer uses (IANA "Assigned Internet Protocol Numbers").
import PacketDecode

extension FlowKey {
    /// The key of a packet from `src` to `dst`, and whether `src` is the key's endpoint `a`.
    static func of(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16, ipProtocol: UInt8) -> (key: FlowKey, srcIsA: Bool) {
        (src, srcPort) <= (dst, dstPort)
            ? (FlowKey(a: src, aPort: srcPort, b: dst, bPort: dstPort, proto: ipProtocol), true)
            : (FlowKey(a: dst, aPort: dstPort, b: src, bPort: srcPort, proto: ipProtocol), false)
    }
}

/// IANA protocol numbers the flow layer names.
public enum IPProtocolNumber {
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
}
