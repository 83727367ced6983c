// One UDP flow (both directions): uTP (BEP 29), UDP tracker (BEP 15), LSD (BEP 14), DHT (BEP 5).
// Each detector lives in its own file; this one decides
// which of them owns the flow and stops probing after a budget.
import WireBytes

public enum UDPFlowLabel: Equatable, Sendable {
    case undecided, utp, dht, udpTracker, lsd, other
}

public struct UDPFlowClassifier {
    /// Datagrams probed before an unrecognised flow is `.other` (nDPI gives up after a similar count;
    /// a uTP connection confirms within its first 2-4 packets, a tracker on its first request).
    public static let maxProbeDatagrams = 16
    /// Transaction ids of tracker requests remembered to match responses.
    public static let maxPendingTransactions = 8

    public private(set) var label: UDPFlowLabel = .undecided
    /// Set by the flow layer for IPv6 flows (UDP tracker peer lists use 18-byte entries then).
    public var isIPv6 = false
    private var probed = 0
    /// Allocated at the first datagram that parses as a uTP header: the connection tracker is most of
    /// this classifier's size, and most UDP flows never need it. Copy-on-write keeps value semantics.
    private var utpState: UTPState?
    private final class UTPState {
        var connection: UTPConnection
        init(_ c: UTPConnection = UTPConnection()) { connection = c }
    }
    private var utp: UTPConnection {
        get { utpState?.connection ?? UTPConnection() }
        _modify {
            if utpState == nil { utpState = UTPState() }
            else if !isKnownUniquelyReferenced(&utpState!) { utpState = UTPState(utpState!.connection) }
            yield &utpState!.connection
        }
    }
    private var utpPossible = true
    private var pendingTransactions: [UInt32] = []

    public init() {}

    public mutating func consume<S: ClassifierSink>(_ datagram: UnsafeRawBufferPointer, fromInitiator: Bool, sink: inout S) {
        switch label {
        case .utp:
            // Clients run DHT and uTP on one UDP port, so one 5-tuple can carry both (bittorrent_utp.pcap).
            if let h = UTPHeader.parse(datagram) {
                utp.receive(h, datagram: datagram, fromInitiator: fromInitiator, sink: &sink)
            } else {
                _ = DHTDetector.inspect(datagram, sink: &sink)
            }
        case .udpTracker:
            tracker(datagram, sink: &sink)
        case .lsd:
            lsd(datagram, sink: &sink)
        case .dht:
            if DHTDetector.inspect(datagram, sink: &sink) != .match { probeUTP(datagram, fromInitiator: fromInitiator, sink: &sink) }
        case .other:
            return
        case .undecided:
            probe(datagram, fromInitiator: fromInitiator, sink: &sink)
        }
    }

    private mutating func probe<S: ClassifierSink>(_ d: UnsafeRawBufferPointer, fromInitiator: Bool, sink: inout S) {
        probed += 1
        if let m = UDPTracker.parseRequest(d), m.action != .scrapeRequest {
            label = .udpTracker
            remember(m.transactionID)
            sink.receive(.udpTracker(m))
            return
        }
        switch LocalServiceDiscovery.parse(d) {
        case .match(let a): label = .lsd; sink.receive(.lsd(a)); return
        case .malformed(let anomaly): label = .lsd; sink.receive(.malformed(anomaly)); return
        case .noMatch: break
        }
        // KRPC is a bencoded dictionary ('d' = 0x64), which no uTP header starts with (type 6 is undefined).
        if DHTDetector.inspect(d, sink: &sink) == .match { label = .dht; return }
        if probeUTP(d, fromInitiator: fromInitiator, sink: &sink) { return }
        if probed >= Self.maxProbeDatagrams { label = .other }
    }

    /// Feeds a datagram to the uTP connection tracker; true once the flow is confirmed uTP
    /// (a stronger label than DHT when both share the flow).
    @discardableResult
    private mutating func probeUTP<S: ClassifierSink>(_ d: UnsafeRawBufferPointer, fromInitiator: Bool, sink: inout S) -> Bool {
        guard utpPossible, let h = UTPHeader.parse(d) else { return false }
        utp.receive(h, datagram: d, fromInitiator: fromInitiator, sink: &sink)
        switch utp.status {
        case .confirmed: label = .utp; return true
        case .rejected: utpPossible = false
        case .probing: break
        }
        return false
    }

    private mutating func tracker<S: ClassifierSink>(_ d: UnsafeRawBufferPointer, sink: inout S) {
        if let m = UDPTracker.parseRequest(d) {
            remember(m.transactionID)
            sink.receive(.udpTracker(m))
        } else if let m = UDPTracker.parseResponse(d, ipv6: isIPv6), pendingTransactions.contains(m.transactionID) {
            sink.receive(.udpTracker(m))
        } else if d.count >= 8 {
            sink.receive(.malformed(.udpTrackerBadLength))
        }
    }

    private mutating func lsd<S: ClassifierSink>(_ d: UnsafeRawBufferPointer, sink: inout S) {
        switch LocalServiceDiscovery.parse(d) {
        case .match(let a): sink.receive(.lsd(a))
        case .malformed(let anomaly): sink.receive(.malformed(anomaly))
        case .noMatch: break
        }
    }

    private mutating func remember(_ tx: UInt32) {
        if pendingTransactions.count >= Self.maxPendingTransactions { pendingTransactions.removeFirst() }
        pendingTransactions.append(tx)
    }
}
