import Testing
import WireBytes
import PacketDecode
import BitTorrentClassifier
import FlowEvidence
@testable import TorscanCore

@Suite struct EvalScoreTests {
    let h1 = InfoHash(hex: "12a35a70a0f917e72cca136efe6fb6508f938256")!
    let a = IPAddress("10.0.0.2")!, b = IPAddress("10.0.0.3")!, c = IPAddress("10.0.0.9")!

    func flow(_ x: IPAddress, _ xp: UInt16, _ y: IPAddress, _ yp: UInt16, _ label: String, _ hashes: [InfoHash], bytes: Int64 = 100) -> FlowRow {
        FlowRow(proto: .tcp, srcIP: x, srcPort: xp, dstIP: y, dstPort: yp, firstSeen: Timestamp(nanoseconds: 0),
                lastSeen: Timestamp(nanoseconds: 1), packets: 3, bytes: bytes, label: label, infoHashes: hashes,
                firstFrame: FrameRef(captureIndex: 0, frame: 1))
    }

    @Test func scoresFlowsInEitherOrientationAndCountsUnlistedFlowsAsOther() {
        let truth = GroundTruth(scenario: "t", flows: [
            .init(proto: "tcp", a: a, aPort: 51413, b: b, bPort: 6881, label: "bittorrent-peer", infoHashes: [h1]),
            .init(proto: "tcp", a: a, aPort: 40000, b: c, bPort: 80, label: "other", infoHashes: []),
        ], evidence: [.init(ip: a, infoHash: h1, confidence: "transfer"), .init(ip: b, infoHash: h1, confidence: "transfer")])
        let flows = [
            flow(b, 6881, a, 51413, "bittorrent-peer", [h1]),     // reversed orientation still matches
            flow(a, 40000, c, 80, "other", []),
            flow(c, 5000, a, 5001, "bittorrent-dht", []),         // not in truth: a false positive
            flow(c, 5002, a, 5003, "bittorrent-dht", [], bytes: 0), // zero payload: not scored
        ]
        let s = EvalScore.score(truth: truth, flows: flows, evidence: [])
        #expect(s.truePositives == 1 && s.falsePositives == 1 && s.trueNegatives == 1 && s.falseNegatives == 0)
        #expect(s.precision == 0.5 && s.recall == 1)
        #expect(s.infoHashAttribution == 1)
        #expect(s.evidenceRecall == 0)
        #expect(s.confusion["other"]?["bittorrent-dht"] == 1)
    }

    @Test func missingInfohashAndLabelAreMisses() {
        let truth = GroundTruth(scenario: "t", flows: [
            .init(proto: "tcp", a: a, aPort: 1, b: b, bPort: 2, label: "bittorrent-peer", infoHashes: [h1]),
        ], evidence: [])
        let s = EvalScore.score(truth: truth, flows: [flow(a, 1, b, 2, "other", [])], evidence: [])
        #expect(s.falseNegatives == 1 && s.recall == 0)
        #expect(s.flowsWithInfoHash == 1 && s.flowsWithInfoHashRight == 0)
        #expect(s.misses.count == 2)
    }
}
