// Flow rows list only the infohashes of peer-wire handshakes, so the flows on which an address
// announced an infohash (HTTP tracker BEP 3, UDP tracker BEP 15, DHT BEP 5, LSD BEP 14) are found
// again here: the candidate flows' packets go through the shared classifier, and a flow is kept when
// a query or announce *sent by the address* names the infohash. A DHT get_peers that the evidence
// aggregator discards as a routing-table refresh still selects its flow: the exhibit then shows it.
// TCP payloads are fed in arrival order without reassembly (a tracker request fits one segment).
import WireBytes
import PacketDecode
import BitTorrentClassifier
import FlowEvidence

struct AnnounceFlowFinder {
    let ip: IPAddress
    let wanted: InfoHash
    let flows: [FlowRow]
    private let windows: FlowWindows
    private var udp: [Int: UDPFlowClassifier] = [:]
    private var tcp: [Int: TCPStreamClassifier] = [:]
    /// Indexes into `flows` of the flows where the address announced the infohash.
    private(set) var found: Set<Int> = []

    init(selection: ExhibitSelection, candidates: [FlowRow]) {
        ip = selection.ip; wanted = selection.infoHash.truncated; flows = candidates
        windows = FlowWindows(candidates)
    }

    struct Sink: ClassifierSink {
        let wanted: InfoHash
        var named = false
        mutating func receive(_ event: ClassifierEvent) {
            switch event {
            case .dht(let m): if m.kind == .query, m.infoHash?.truncated == wanted { named = true }
            case .udpTracker(let m): if m.action == .announceRequest, m.infoHashes.contains(where: { $0.truncated == wanted }) { named = true }
            case .lsd(let a): if a.infoHashes.contains(where: { $0.truncated == wanted }) { named = true }
            case .httpTrackerRequest(let r): if r.kind == .announce, r.infoHashes.contains(where: { $0.truncated == wanted }) { named = true }
            default: break
            }
        }
    }

    mutating func process(_ packet: DecodedPacket, at time: Timestamp) {
        guard let i = windows.flow(of: packet, at: time), !found.contains(i) else { return }
        let f = flows[i]
        var sink = Sink(wanted: wanted)
        if packet.isUDP {
            let fromInitiator = packet.src == f.srcIP && packet.srcPort == f.srcPort
            if udp[i] == nil { var c = UDPFlowClassifier(); c.isIPv6 = packet.isIPv6; udp[i] = c }
            udp[i]!.consume(packet.payload, fromInitiator: fromInitiator, sink: &sink)
        } else if packet.src == ip && packet.payload.count > 0 {
            tcp[i, default: TCPStreamClassifier()].consume(packet.payload, sink: &sink)
        }
        if sink.named && packet.src == ip { found.insert(i) }
    }
}
