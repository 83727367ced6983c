// Per-flow state of the analyzer: one reassembler and one stream classifier per TCP direction, or one
// datagram classifier for UDP, plus what the classifier found. Allocated once, when the flow is created.
// A class with separate stored properties, so that a reassembler can deliver into the classifier of
// the same flow without overlapping access.
import WireBytes
import PacketDecode
import BitTorrentClassifier

/// The per-direction TCP state, allocated for TCP flows only (a UDP flow needs none of it). Separate
/// stored properties, so that a reassembler can deliver into the classifier of the same direction.
final class TCPDirections {
    var reassemblerFromSrc: TCPReassembler
    var reassemblerFromDst: TCPReassembler
    var streamFromSrc = TCPStreamClassifier()
    var streamFromDst = TCPStreamClassifier()
    init(bufferLimit: Int) {
        reassemblerFromSrc = TCPReassembler(bufferLimit: bufferLimit)
        reassemblerFromDst = TCPReassembler(bufferLimit: bufferLimit)
    }
}

final class AnalyzerFlowState {
    let isTCP: Bool
    let findings = FlowFindings()
    /// TCP flows only: a reassembler and a stream classifier per direction.
    let tcp: TCPDirections?
    /// UDP flows only.
    var datagrams: UDPFlowClassifier?
    /// Encrypted BitTorrent by the shape of its key exchange; only for TCP flows whose SYN was seen.
    var mse: MSEShapeDetector?
    /// Proxy handshake at the start of a TCP connection (SOCKS4/4a/5, HTTP CONNECT); nil once decided
    /// that the flow is direct. `tunnel` is the open tunnel.
    var tunnelDetector: TunnelDetector?
    var tunnel: TunnelInfo?
    /// A proxy handshake that opened nothing (refused, or a command other than CONNECT).
    var tunnelFailure: TunnelFailure?
    /// A UDP flow between a SOCKS5 client and its relay: the first datagram's target.
    var relayTarget: String?
    let src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16

    init(isTCP: Bool, isIPv6: Bool, bufferLimit: Int, src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16) {
        self.isTCP = isTCP
        self.src = src; self.srcPort = srcPort; self.dst = dst; self.dstPort = dstPort
        if isTCP {
            tcp = TCPDirections(bufferLimit: bufferLimit)
        } else {
            tcp = nil
            datagrams = UDPFlowClassifier()
            datagrams!.isIPv6 = isIPv6
        }
        if isTCP { tunnelDetector = TunnelDetector() }
    }

    /// An event origin for one direction of this flow. Inside a tunnel too the sender is the address
    /// that sent the bytes on this leg (DESIGN.md: "the address that sent the evidence"): the proxy
    /// for what the target said; the target itself is in the flow row, and its own leg, when
    /// captured, is evidence of its own. Rows then stay re-derivable from their flows (`extract`).
    func origin(fromSrc: Bool, flowID: Int, timestamp: Timestamp, frame: FrameRef) -> EventOrigin {
        fromSrc
            ? EventOrigin(flowID: flowID, sender: src, receiver: dst, timestamp: timestamp, frame: frame)
            : EventOrigin(flowID: flowID, sender: dst, receiver: src, timestamp: timestamp, frame: frame)
    }
}

/// Routes classifier events of one flow direction to the aggregator, and collects the listening
/// endpoints that corroborate encrypted flows.
/// Unowned references: a sink lives only during one packet's (or one flow end's) processing, while
/// the analyzer owns the box and the flow table owns the state; strong references cost a retain and a
/// release for every sink and feed made per packet (a fifth of the run's time in perf, issue 6).
struct EvidenceSink: ClassifierSink {
    unowned(unsafe) let aggregator: AggregatorBox
    unowned(unsafe) let state: AnalyzerFlowState
    let origin: EventOrigin
    let senderIsSrc: Bool

    mutating func receive(_ event: ClassifierEvent) {
        aggregator.value.record(event, origin: origin, flow: state.findings, senderIsSrc: senderIsSrc)
        collectCorroboration(event)
    }

    /// Listening endpoints known from cleartext BitTorrent, for MSECorroboration (its wiring notes).
    private func collectCorroboration(_ event: ClassifierEvent) {
        switch event {
        case .handshake:
            // The accepting side of a cleartext peer connection listens on its port.
            aggregator.corroboration.cleartextPeers.insert(PeerEndpoint(address: state.dst.bytes, port: state.dstPort))
        case .extendedHandshake(let eh):
            if let p = eh.listenPort { aggregator.corroboration.cleartextPeers.insert(PeerEndpoint(address: origin.sender.bytes, port: p)) }
        case .dht(let m) where m.kind == .query && m.method == "announce_peer":
            let port = m.impliedPort ? (senderIsSrc ? state.srcPort : state.dstPort) : m.port
            if let port { aggregator.corroboration.dhtAnnounced.insert(PeerEndpoint(address: origin.sender.bytes, port: port)) }
        case .httpTrackerRequest(let r) where r.kind == .announce:
            if let p = r.port { aggregator.corroboration.trackerAnnounced.insert(PeerEndpoint(address: origin.sender.bytes, port: p)) }
        case .udpTracker(let m) where m.action == .announceRequest:
            if let p = m.port { aggregator.corroboration.trackerAnnounced.insert(PeerEndpoint(address: origin.sender.bytes, port: p)) }
        case .pex(let added, _):
            aggregator.corroboration.listedPeers.formUnion(added)
        default:
            break
        }
    }
}

/// What all flows of a run share, by reference between the analyzer and the sinks it hands out: the
/// evidence aggregator, the endpoints that corroborate encrypted flows, and the SOCKS5 UDP relays.
final class AggregatorBox {
    var value: EvidenceAggregator
    var corroboration = MSECorroboration()
    /// SOCKS5 UDP relays opened by UDP ASSOCIATE, and the client each serves.
    var udpRelays: [RelayEndpoint: IPAddress] = [:]
    /// SOCKS5 UDP fragments seen (not reassembled, RFC 1928 section 7 allows dropping them).
    var relayFragments = 0
    init(_ value: EvidenceAggregator) { self.value = value }
}

extension TunnelTarget {
    /// The target as an address, nil for a domain name.
    var address: IPAddress? {
        switch self {
        case .ipv4(let b), .ipv6(let b): IPAddress(bytes: b)
        case .domain: nil
        }
    }
}
