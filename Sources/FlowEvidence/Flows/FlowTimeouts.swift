// When an idle flow is considered over. Defaults follow common flow-export practice: an established
// TCP connection may sit idle for minutes (keep-alives; IPFIX/NetFlow exporters and Linux conntrack's
// UDP "stream" timeout use 120 s, conntrack's FIN_WAIT/CLOSE_WAIT 60-120 s and TIME_WAIT 120 s). We
// use 300 s for established TCP, 30 s after a FIN or RST (only the last ACKs and retransmissions are
// still expected), and 120 s for UDP (BitTorrent DHT nodes ping each other every few minutes; a flow
// that resumes after 120 s becomes a new flow, which only changes flow counts, not evidence).
import WireBytes

public struct FlowTimeouts: Sendable, Equatable {
    public var tcpEstablished: Int64
    public var tcpClosing: Int64
    public var udp: Int64

    public static let defaultTCPEstablishedSeconds: Int64 = 300
    public static let defaultTCPClosingSeconds: Int64 = 30
    public static let defaultUDPSeconds: Int64 = 120

    /// Timeouts in seconds.
    public init(tcpEstablished: Int64 = FlowTimeouts.defaultTCPEstablishedSeconds,
                tcpClosing: Int64 = FlowTimeouts.defaultTCPClosingSeconds,
                udp: Int64 = FlowTimeouts.defaultUDPSeconds) {
        self.tcpEstablished = tcpEstablished; self.tcpClosing = tcpClosing; self.udp = udp
    }

    func nanoseconds(_ queue: FlowQueueKind) -> Int64 {
        switch queue {
        case .tcpEstablished: tcpEstablished &* 1_000_000_000
        case .tcpClosing: tcpClosing &* 1_000_000_000
        case .datagram: udp &* 1_000_000_000
        }
    }
}

/// The idle-timeout class of a flow; each class has its own least-recently-active queue.
public enum FlowQueueKind: Int, Sendable, CaseIterable {
    case tcpEstablished, tcpClosing, datagram
}
