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

    /// Allocated at the first datagram that parses as a uTP header, or at the first tracker request:
    /// the uTP connection tracker is most of this classifier's size, and most UDP flows need neither.
    /// Undecided, the classifier is 16 bytes (one per live UDP flow: a million must fit, issue 6).
    /// Copy-on-write keeps value semantics.
    private var extra: Extra?
    private final class Extra {
        var connection = UTPConnection()
        /// Transaction ids of tracker requests, to match responses.
        var pendingTransactions: [UInt32] = []
        init() {}
        init(copying other: Extra) { connection = other.connection; pendingTransactions = other.pendingTransactions }
    }
    private mutating func uniqueExtra() -> Extra {
        if extra == nil { extra = Extra() }
        else if !isKnownUniquelyReferenced(&extra!) { extra = Extra(copying: extra!) }
        return extra!
    }
    private var utp: UTPConnection {
        get { extra?.connection ?? UTPConnection() }
        _modify { yield &uniqueExtra().connection }
    }
    private var pendingTransactions: [UInt32] { extra?.pendingTransactions ?? [] }

    public private(set) var label: UDPFlowLabel = .undecided
    /// Set by the flow layer for IPv6 flows (UDP tracker peer lists use 18-byte entries then).
    public var isIPv6 = false
    /// Datagrams probed, at most `maxProbeDatagrams` (then the label is decided).
    private var probed: UInt8 = 0
    private var utpPossible = true

    public init() {}

    /// The classifier in 32 bits while it has nothing but its probe count: undecided, no uTP
    /// connection tracked, no tracker transaction remembered; nil otherwise. A flow layer can keep
    /// this instead of the classifier for the many UDP flows that are still being probed (DNS, QUIC,
    /// ...): a million live flows must fit in memory (issue 6). `init(compactState:)` restores it.
    public var compactState: UInt32? {
        guard label == .undecided, extra == nil else { return nil }
        return UInt32(probed) | (isIPv6 ? 1 << 8 : 0) | (utpPossible ? 1 << 9 : 0)
    }

    /// The classifier whose `compactState` this was.
    public init(compactState c: UInt32) {
        probed = UInt8(truncatingIfNeeded: c)
        isIPv6 = c & 1 << 8 != 0
        utpPossible = c & 1 << 9 != 0
    }

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
        probed &+= 1   // at most maxProbeDatagrams: the label is decided then
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
        let e = uniqueExtra()
        if e.pendingTransactions.count >= Self.maxPendingTransactions { e.pendingTransactions.removeFirst() }
        e.pendingTransactions.append(tx)
    }
}
