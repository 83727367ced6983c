import Testing
import Foundation
import WireBytes
import CaptureFile
import PacketDecode
import BitTorrentClassifier
import TorscanTestSupport
@testable import FlowEvidence

/// Public corpus: TestPaths.publicCorpus, else `shared/corpus/public` in a parent folder of the checkout
/// (worktrees sit one level deeper than the main checkout). Nil when absent: the tests then skip.
func corpusDirectory() -> URL? {
    if let u = TestPaths.publicCorpus { return u }
    var dir = TestPaths.packageRoot
    for _ in 0..<3 {
        dir = dir.deletingLastPathComponent()
        let u = dir.appendingPathComponent("shared/corpus/public")
        if FileManager.default.fileExists(atPath: u.path) { return u }
    }
    return nil
}

/// Runs capture files (in the given order, one analyzer) through the reader, decoder and FlowAnalyzer.
func analyze(_ paths: [URL], options: AnalyzerOptions = AnalyzerOptions()) throws -> AnalysisOutput {
    var analyzer = FlowAnalyzer(options: options)
    for (index, url) in paths.enumerated() {
        let reader = try CaptureReader(path: url.path)
        var decoder = PacketDecoder()
        _ = reader.forEachRecord { rec in
            let p = decoder.decode(rec.data, linkType: rec.linkType, timestamp: rec.timestamp)
            analyzer.process(frame: FrameRef(captureIndex: index, frame: rec.frameNumber), timestamp: rec.timestamp, packet: p)
            return true
        }
    }
    return analyzer.finish()
}

@Suite struct FlowAnalyzerCaptureTests {
    static let corpus = corpusDirectory()

    /// BittorrentReconstituter_test.txt.pcap: 10.0.0.3 downloads test.txt (58 bytes, one piece) from 10.0.0.2.
    /// tshark -r F -Y bittorrent: frame 14 "10.0.0.3 -> 10.0.0.2 Handshake", 16 "10.0.0.2 -> 10.0.0.3 Handshake",
    /// 28 "10.0.0.2 -> 10.0.0.3 Piece, Idx:0x0,Begin:0x0,Len:0x3a". Infohash from the .torrent (expected.infohash.txt).
    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func twoPeersExchangeOnePiece() throws {
        let out = try analyze([Self.corpus!.appendingPathComponent("bittorrent/BittorrentReconstituter_test.txt.pcap")])
        let ih = InfoHash(hex: "2a72ac0b7b1e62e0d4f6ac9ec997138e1d636bcd")!
        let rows = out.evidence.filter { $0.infoHash == ih }
        #expect(rows.map(\.ip.description) == ["10.0.0.2", "10.0.0.3"])
        guard rows.count == 2 else { return }
        let seeder = rows[0], leecher = rows[1]
        #expect(seeder.confidence == .transfer && leecher.confidence == .transfer)
        #expect(seeder.firstFrame.frame == 16 && leecher.firstFrame.frame == 14)
        #expect((seeder.bytesUp, seeder.bytesDown, seeder.piecesUp, seeder.piecesDown) == (58, 0, 1, 0))
        #expect((leecher.bytesUp, leecher.bytesDown, leecher.piecesUp, leecher.piecesDown) == (0, 58, 0, 1))
        #expect(seeder.supportingFrames.map(\.frame).contains(28))
        #expect(seeder.signals.isSuperset(of: [.handshake, .piece]))
        #expect(seeder.peers == 1 && seeder.flows >= 1)
        let peerFlows = out.flows.filter { $0.label == "bittorrent-peer" }
        #expect(peerFlows.count == 1)
        #expect(peerFlows.first?.infoHashes == [ih])
        #expect(peerFlows.first?.srcIP.description == "10.0.0.3")
        for r in out.evidence { print("evidence", r.ip, r.infoHash, r.confidence, r.signals.sorted().map(\.rawValue), r.firstFrame.frame, r.bytesUp, r.bytesDown, r.client ?? "-") }
        for f in out.flows { print("flow", f.proto, f.srcIP, f.srcPort, f.dstIP, f.dstPort, f.packets, f.bytes, f.label, f.infoHashes, f.firstFrame.frame, f.client ?? "-") }
        print("anomalies", out.anomalies.sorted { $0.key < $1.key })
    }
}
