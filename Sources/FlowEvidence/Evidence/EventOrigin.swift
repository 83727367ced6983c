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
    /// The bytes travelled on a tunnel's client leg: the proxy, and the target the client asked for
    /// (`host:port`). Set by ProxyAttribution.tag; part of the evidence key.
    public var via: ProxyEndpoint?
    public var target: String?

    public init(flowID: Int, sender: IPAddress, receiver: IPAddress, timestamp: Timestamp, frame: FrameRef, viaUTP: Bool = false) {
        self.flowID = flowID; self.sender = sender; self.receiver = receiver
        self.timestamp = timestamp; self.frame = frame; self.viaUTP = viaUTP
    }
}
