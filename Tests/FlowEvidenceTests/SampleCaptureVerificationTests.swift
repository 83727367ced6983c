// Real pieces from real clients: in every SampleCaptures scenario with plaintext TCP transfers, the
// piece messages (decoded and TCP-reassembled by tshark, here only a block extractor) are fed to the
// PieceVerifier with the scenario's .torrent loaded by TorrentCatalog. Each sender the ground truth
// (truth.json, pieces_verified_fwd/rev of TCP flows) credits with 16 verified pieces must get exactly
// those 16, and no piece may mismatch. The flow layer will do the extraction itself; this checks the
// catalog and the verifier on client-made data now.
import Foundation
import Testing
@testable import FlowEvidence
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct SampleCaptureVerificationTests {
    static let scenarios = ["dht-magnet", "ipv6", "lsd", "mse-plaintext", "rtorrent-ctorrent", "socks5", "tcp-http-tracker", "udp-tracker"]

    @Test(arguments: scenarios)
    func piecesFromTheCaptureVerify(scenario: String) throws {
        let dir = TestPaths.sampleCaptures.appendingPathComponent(scenario)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else {
            print("skipped: tshark is not installed (Scripts/setup)"); return
        }
        let catalog = TorrentCatalog(paths: [dir.path])
        #expect(catalog.errors.isEmpty)
        let torrent = try #require(catalog.entries.first, "\(scenario) has no .torrent")
        let ih = try #require(torrent.infoHashV1)

        // Senders credited by the ground truth, over TCP (tshark does not decode uTP).
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("truth.json"))) as! [String: Any]
        var expected: [String: Int] = [:]
        for flow in truth["flows"] as! [[String: Any]] where flow["proto"] as? String == "tcp" {
            if let n = flow["pieces_verified_rev"] as? Int, n > 0 { expected[flow["dst_ip"] as! String] = n }
            if let n = flow["pieces_verified_fwd"] as? Int, n > 0 { expected[flow["src_ip"] as! String] = n }
        }
        #expect(!expected.isEmpty)

        var verifier = PieceVerifier<String>()
        var verified: [String: Set<Int>] = [:]
        let blocks = try Self.blocks(dir)
        for b in blocks {
            guard let spec = torrent.pieceSpec(b.piece) else { Issue.record("no piece \(b.piece)"); continue }
            let outcome = b.data.withUnsafeBytes { verifier.add(sender: b.sender, infoHash: ih, piece: b.piece, begin: b.begin, block: $0, spec: spec) }
            if case .verified(let p) = outcome { verified[b.sender, default: []].insert(p) }
        }
        #expect(blocks.count >= 16, "\(scenario): tshark found \(blocks.count) blocks")
        #expect(verified.mapValues(\.count) == expected, "\(scenario)")
        #expect(verifier.mismatchCount == 0)
    }

    /// A seeder serving a damaged piece: one byte of piece 5 changed in the captured blocks gives a
    /// mismatch for that piece and 15 verified pieces, not 16.
    @Test func damagedPieceFromTheCaptureMismatches() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else {
            print("skipped: tshark is not installed (Scripts/setup)"); return
        }
        let dir = TestPaths.sampleCaptures.appendingPathComponent("tcp-http-tracker")
        let torrent = try #require(TorrentCatalog(paths: [dir.path]).entries.first)
        var verifier = PieceVerifier<String>()
        var verified = Set<Int>()
        var damaged = false
        for var b in try Self.blocks(dir) {
            if b.piece == 5, !damaged { b.data[b.data.count / 2] ^= 0x20; damaged = true }
            let outcome = b.data.withUnsafeBytes {
                verifier.add(sender: b.sender, infoHash: torrent.infoHashV1!, piece: b.piece, begin: b.begin, block: $0, spec: torrent.pieceSpec(b.piece)!)
            }
            if case .verified(let p) = outcome { verified.insert(p) }
        }
        #expect(damaged && verifier.mismatchCount == 1)
        #expect(verified.count == 15 && !verified.contains(5))
    }

    struct Block { var sender: String; var piece: Int; var begin: Int; var data: [UInt8] }

    static func blocks(_ dir: URL) throws -> [Block] {
        var out: [Block] = []
        for line in try tshark(dir.appendingPathComponent("capture.pcap").path).split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5 else { continue }
            let sender = f[0].isEmpty ? f[1] : f[0]
            let indexes = f[2].split(separator: ","), begins = f[3].split(separator: ","), datas = f[4].split(separator: ",")
            for k in 0..<min(indexes.count, begins.count, datas.count) {
                guard let piece = Int(indexes[k].dropFirst(2), radix: 16), let begin = Int(begins[k].dropFirst(2), radix: 16) else { continue }
                out.append(Block(sender: sender, piece: piece, begin: begin, data: hexBytes(String(datas[k]))))
            }
        }
        return out
    }

    /// Sender (IPv4 or IPv6), piece indexes, begins and block bytes (hex) of every frame with piece messages.
    static func tshark(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        p.arguments = ["-r", path, "-Y", "bittorrent.piece.data", "-T", "fields", "-e", "ip.src", "-e", "ipv6.src",
                       "-e", "bittorrent.piece.index", "-e", "bittorrent.piece.begin", "-e", "bittorrent.piece.data"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
