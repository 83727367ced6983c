// A flow's identity regardless of direction: the two (address, port) endpoints in a fixed order
// plus the IP protocol number (IANA "Assigned Internet Protocol Numbers": 6 TCP, 17 UDP).
import PacketDecode

public struct BidirectionalFlowKey: Hashable, Sendable {
    /// The endpoint that sorts first (address, then port), and the other one.
    public var lowIP: IPAddress, lowPort: UInt16
    public var highIP: IPAddress, highPort: UInt16
    public var ipProtocol: UInt8

    /// The key of the flow a packet belongs to, and whether its sender is the low endpoint.
    @inlinable public static func of(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16,
                                     ipProtocol: UInt8) -> (key: BidirectionalFlowKey, senderIsLow: Bool) {
        let srcIsLow = src < dst || (src == dst && srcPort <= dstPort)
        if srcIsLow {
            return (BidirectionalFlowKey(lowIP: src, lowPort: srcPort, highIP: dst, highPort: dstPort, ipProtocol: ipProtocol), true)
        }
        return (BidirectionalFlowKey(lowIP: dst, lowPort: dstPort, highIP: src, highPort: srcPort, ipProtocol: ipProtocol), false)
    }

    @inlinable public init(lowIP: IPAddress, lowPort: UInt16, highIP: IPAddress, highPort: UInt16, ipProtocol: UInt8) {
        self.lowIP = lowIP; self.lowPort = lowPort; self.highIP = highIP; self.highPort = highPort; self.ipProtocol = ipProtocol
    }
}

/// IANA protocol numbers the flow layer names.
public enum IPProtocolNumber {
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
}
