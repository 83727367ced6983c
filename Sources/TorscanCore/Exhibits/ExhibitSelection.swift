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

    /// The supporting flows of the run, in the run's order.
    public func flows(in run: AnalysisRun) -> [FlowRow] {
        let wanted = infoHash.truncated
        return run.flows.filter { f in
            (f.srcIP == ip || f.dstIP == ip) && f.infoHashes.contains { $0.truncated == wanted }
        }
    }
}

/// Answers "is this decoded packet part of a selected flow?" from the flows' 5-tuples and time spans.
struct FlowWindows {
    private var windows: [FlowKey: [(first: Timestamp, last: Timestamp)]] = [:]

    init(_ flows: [FlowRow]) {
        for f in flows {
            let proto: UInt8 = f.proto == .tcp ? 6 : 17
            let srcFirst = (f.srcIP, f.srcPort) <= (f.dstIP, f.dstPort)
            let key = srcFirst
                ? FlowKey(a: f.srcIP, aPort: f.srcPort, b: f.dstIP, bPort: f.dstPort, proto: proto)
                : FlowKey(a: f.dstIP, aPort: f.dstPort, b: f.srcIP, bPort: f.srcPort, proto: proto)
            windows[key, default: []].append((f.firstSeen, f.lastSeen))
        }
    }

    func contains(_ packet: DecodedPacket, at time: Timestamp) -> Bool {
        guard packet.isTCP || packet.isUDP, let spans = windows[FlowKey.canonical(packet).key] else { return false }
        return spans.contains { $0.first <= time && time <= $0.last }
    }
}
