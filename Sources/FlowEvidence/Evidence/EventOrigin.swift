// Where a classifier event came from: the flow, which endpoint sent the bytes, when, and in which frame.
import WireBytes
import PacketDecode

public struct EventOrigin: Sendable, Equatable {
    /// The flow's id (creation order), for the `flows` count.
    public var flowID: Int
    public var sender: IPAddress
    public var receiver: IPAddress
    public var timestamp: Timestamp
    /// The frame whose bytes completed the event (for reassembled data: the last segment, as in Wireshark).
    public var frame: FrameRef
    /// The bytes travelled inside uTP (BEP 29).
    public var viaUTP: Bool
    /// The bytes travelled on a tunnel's client leg: the proxy (part of the evidence key), and the
    /// target the client asked for, as 1 + its index in EvidenceAggregator.proxyTargetNames (0: none).
    /// Set by AggregatorBox.tag. An index, not a String, so that an origin stays a plain value
    /// (copied per packet without reference counting).
    public var via: ProxyEndpoint?
    var targetID: Int32 = 0

    public init(flowID: Int, sender: IPAddress, receiver: IPAddress, timestamp: Timestamp, frame: FrameRef, viaUTP: Bool = false) {
        self.flowID = flowID; self.sender = sender; self.receiver = receiver
        self.timestamp = timestamp; self.frame = frame; self.viaUTP = viaUTP
    }
}
