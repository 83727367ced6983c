// Which packets belong in an exhibit (issue 8, `torscan extract`): the flows that involve one address
// and name one infohash, matched on the 20-byte wire form so a full v2 hash also selects its
// truncation. A packet belongs to a selected flow when it has the flow's canonical 5-tuple and its
// time lies within the flow's first..last seen (a reused port pair is a different flow).
import WireBytes
import PacketDecode
import BitTorrentClassifier
import FlowEvidence

public struct ExhibitSelection: Sendable {
    public var ip: IPAddress
    public var infoHash: InfoHash

    public init(ip: IPAddress, infoHash: InfoHash) { self.ip = ip; self.infoHash = infoHash }

    /// Indexes of the run's flows whose rows name the infohash. Today flow rows list only peer-wire
    /// handshake infohashes, so announce flows are found by `AnnounceFlowFinder`.
    public func flowsNamingInfoHash(in run: AnalysisRun) -> [Int] {
        let wanted = infoHash.truncated
        return run.flows.indices.filter { i in
            let f = run.flows[i]
            return (f.srcIP == ip || f.dstIP == ip) && f.infoHashes.contains { $0.truncated == wanted }
        }
    }

    /// Indexes of flows that involve the address, do not name this infohash, and carry a protocol that announces one.
    func announceCandidates(in run: AnalysisRun) -> [Int] {
        let labels: Set<String> = ["bittorrent-tracker-http", "bittorrent-tracker-udp", "bittorrent-dht", "bittorrent-lsd", "bittorrent-utp"]
        return run.flows.indices.filter { i in
            let f = run.flows[i]
            return (f.srcIP == ip || f.dstIP == ip) && labels.contains(f.label) && !f.infoHashes.contains { $0.truncated == infoHash.truncated }
        }
    }
}

/// Answers "which selected flow is this decoded packet part of?" from the flows' 5-tuples and time spans.
struct FlowWindows {
    private var windows: [FlowKey: [(first: Timestamp, last: Timestamp, index: Int)]] = [:]

    init(_ flows: [FlowRow]) {
        for (i, f) in flows.enumerated() {
            let proto: UInt8 = f.proto == .tcp ? 6 : 17
            let srcFirst = (f.srcIP, f.srcPort) <= (f.dstIP, f.dstPort)
            let key = srcFirst
                ? FlowKey(a: f.srcIP, aPort: f.srcPort, b: f.dstIP, bPort: f.dstPort, proto: proto)
                : FlowKey(a: f.dstIP, aPort: f.dstPort, b: f.srcIP, bPort: f.srcPort, proto: proto)
            windows[key, default: []].append((f.firstSeen, f.lastSeen, i))
        }
    }

    /// The index (in the flows given to `init`) of the flow the packet belongs to.
    func flow(of packet: DecodedPacket, at time: Timestamp) -> Int? {
        guard packet.isTCP || packet.isUDP, let spans = windows[FlowKey.canonical(packet).key] else { return nil }
        return spans.first { $0.first <= time && time <= $0.last }?.index
    }

    func contains(_ packet: DecodedPacket, at time: Timestamp) -> Bool { flow(of: packet, at: time) != nil }
}
