// AttributionScore (issue 7): rows with via/attributed_to against truth.json's via/target/attributed_to.
import Testing
import WireBytes
import PacketDecode
import BitTorrentClassifier
import FlowEvidence
@testable import TorscanCore

@Suite struct AttributionScoreTests {
    let h = InfoHash(hex: "29fe705ce4db7cb8ad5ba4dcc56617432fc74605")!
    let proxy = IPAddress("10.77.0.1")!, client = IPAddress("10.77.0.4")!, seeder = IPAddress("10.77.0.3")!

    func row(_ ip: IPAddress, via: ProxyEndpoint? = nil, targets: [String] = [], attributedTo: [IPAddress] = []) -> EvidenceRow {
        var r = EvidenceRow(ip: ip, infoHash: h, firstSeen: Timestamp(nanoseconds: 0), lastSeen: Timestamp(nanoseconds: 1),
                            activeDays: [0], confidence: .transfer, signals: [.piece], flows: 1, peers: 1, bytesUp: 0, bytesDown: 0,
                            piecesUp: 0, piecesDown: 0, piecesVerified: 0, client: nil, torrentName: nil,
                            firstFrame: FrameRef(captureIndex: 0, frame: 1), supportingFrames: [])
        r.via = via; r.targets = targets; r.attributedTo = attributedTo
        return r
    }

    /// truth.json's evidence entries as the loader reads them: only those naming a proxy are items.
    var truth: [AttributionScore.Item] {
        AttributionScore.truthItems(["evidence": [
            ["ip": "10.77.0.1", "infohash": h.hex, "attributed_to": ["10.77.0.4"]],
            ["ip": "10.77.0.1", "infohash": h.hex, "via": "10.77.0.1:1080", "target": ["10.77.0.3:51413"]],
            ["ip": "10.77.0.3", "infohash": h.hex],
            ["ip": "10.77.0.4", "infohash": h.hex, "via": "10.77.0.1:1080", "target": ["10.77.0.3:51413", "10.77.0.2:6969"]],
        ]])
    }

    @Test func rightRowsScoreOne() {
        let via = ProxyEndpoint(address: proxy, port: 1080)
        let rows = [row(proxy, attributedTo: [client]), row(proxy, via: via, targets: ["10.77.0.3:51413"]), row(seeder),
                    row(client, via: via, targets: ["10.77.0.2:6969", "10.77.0.3:51413"])]
        #expect(truth.count == 3)
        let s = AttributionScore.score(scenario: "socks5", truth: truth, evidence: rows)
        #expect(s.expected == 3 && s.reported == 3 && s.matched == 3 && s.precision == 1 && s.recall == 1 && s.misses.isEmpty)
    }

    @Test func wrongMissingAndExtraRowsAreMisses() {
        let via = ProxyEndpoint(address: proxy, port: 1080)
        let rows = [row(proxy, attributedTo: [seeder]),                           // wrong client
                    row(client, via: via, targets: ["10.77.0.2:6969"]),            // a target missing
                    row(seeder, via: ProxyEndpoint(address: proxy, port: 1081))]   // not in truth
        let s = AttributionScore.score(scenario: "socks5", truth: truth, evidence: rows)
        #expect(s.expected == 3 && s.reported == 3 && s.matched == 0)
        #expect(s.misses.count == 4)   // two wrong, one not reported (the relayed row), one extra
        #expect(s.misses.contains { $0.contains("not reported") } && s.misses.contains { $0.contains("not in truth") })
        var total = AttributionScore()
        total.add(s); total.add(s)
        #expect(total.expected == 6 && total.precision == 0 && total.recall == 0)
        #expect(AttributionScore().precision == 1 && AttributionScore().recall == 1)   // nothing to find
    }
}
