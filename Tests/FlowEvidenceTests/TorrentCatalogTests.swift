// TorrentCatalog: .torrent files from mktorrent and libtorrent (infohashes compared with libtorrent's,
// every piece verified from the catalog's specs), the public corpus' BittorrentReconstituter torrents
// (infohashes from the corpus manifest, single-piece hashes equal to the original files' SHA-1), errors.
import Foundation
import Testing
@testable import FlowEvidence
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct TorrentCatalogTests {
    @Test func loadsADirectoryOfRealTorrents() throws {
        guard let f = try TorrentFixtures.make() else {
            print("skipped: needs mktorrent and python3 with libtorrent (Scripts/setup)"); return
        }
        defer { f.remove() }
        // Not torrents: ignored in a directory walk (wrong suffix), an error when named (bad content).
        try Data("not bencode".utf8).write(to: f.dir.appendingPathComponent("content/notes.txt"))
        try Data("d4:infoi1ee".utf8).write(to: f.dir.appendingPathComponent("sub-broken.torrent"))
        let catalog = TorrentCatalog(paths: [f.dir.path])
        #expect(catalog.entries.map { URL(fileURLWithPath: $0.source).lastPathComponent } == ["hybrid.torrent", "v1.torrent", "v2.torrent"])
        #expect(catalog.errors.count == 1)
        if case .invalid(let path, _)? = catalog.errors.first { #expect(path.hasSuffix("sub-broken.torrent")) } else { Issue.record("no invalid error") }

        for kind in ["v1", "v2", "hybrid"] {
            let d = f.described[kind] as! [String: Any]
            let e = try #require(catalog.entries.first { $0.source.hasSuffix("/\(kind).torrent") })
            #expect(e.infoHashV1?.hex == d["v1_infohash"] as? String, "\(kind) v1 infohash")
            #expect(e.infoHashV2?.hex == d["v2_infohash"] as? String, "\(kind) v2 infohash")
            for h in [e.infoHashV1, e.infoHashV2, e.infoHashV2?.truncated].compactMap({ $0 }) {
                #expect(catalog.entry(for: h)?.source == e.source)
            }
            #expect(e.name == "content")
            #expect(e.totalLength == 170_536)
            #expect(e.files == TorrentFixtures.files.map { TorrentEntry.File(path: $0.0, length: Int64($0.1)) })
            #expect(e.pieceLength == TorrentFixtures.pieceLength)

            // Every piece, as the catalog describes it, verifies against the content.
            let pieces = PieceVerifierTests.pieces(f, kind)
            #expect(e.pieceCount == pieces.count)
            var v = PieceVerifier<Int>()
            for (i, (bytes, expected)) in pieces.enumerated() {
                let spec = try #require(e.pieceSpec(i))
                #expect(spec == expected, "\(kind) piece \(i)")
                #expect(PieceVerifierTests.feed(&v, piece: i, bytes, spec).last == .verified(piece: i))
            }
            #expect(e.pieceSpec(pieces.count) == nil && e.pieceSpec(-1) == nil)
        }
        #expect(catalog.entry(for: InfoHash(hex: String(repeating: "0", count: 40))!) == nil)
    }

    @Test func infoDictionaryFromTheWireGivesTheSameInfohash() throws {
        guard let f = try TorrentFixtures.make() else {
            print("skipped: needs mktorrent and python3 with libtorrent (Scripts/setup)"); return
        }
        defer { f.remove() }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.torrentPath("v1"))))
        let meta = try bytes.withUnsafeBytes { try TorrentMetainfo(bencoded: $0) }
        var catalog = TorrentCatalog()
        try catalog.add(infoDictionary: Array(bytes[meta.infoRange]), source: "ut_metadata")
        let e = try #require(catalog.entries.first)
        #expect(e.infoHashV1?.hex == (f.described["v1"] as! [String: Any])["v1_infohash"] as? String)
        #expect(e.pieceSpec(0) != nil)
        // The same torrent again (from its file) is not a second entry.
        try catalog.add(path: f.torrentPath("v1"))
        #expect(catalog.entries.count == 1 && catalog.entries[0].source == "ut_metadata")
    }

    /// Every prefix of a real .torrent (SampleCaptures/tcp-http-tracker, made by the samples lab) is
    /// rejected without a trap, and single-byte corruptions either load or are rejected; whatever loads
    /// answers pieceSpec for every index without a trap.
    @Test func truncatedAndCorruptedTorrents() throws {
        let url = TestPaths.sampleCaptures.appendingPathComponent("tcp-http-tracker/alpha.bin.torrent")
        let bytes = [UInt8](try Data(contentsOf: url))
        var whole = TorrentCatalog()
        try whole.add(bencoded: bytes, source: "alpha")
        let e = try #require(whole.entries.first)
        #expect(e.infoHashV1?.hex == "ec75cc6e5031b8d3604d21136a2d47600c4cc2f9")  // truth.json, and libtorrent
        #expect(e.pieceCount == 16 && e.totalLength == 262_144 && e.pieceSpec(15)?.length == 16_384)
        for n in 0..<bytes.count {
            var c = TorrentCatalog()
            #expect(throws: TorrentCatalog.LoadError.self) { try c.add(bencoded: Array(bytes[0..<n]), source: "prefix") }
        }
        for i in stride(from: 0, to: bytes.count, by: 3) {
            for flip: UInt8 in [0x01, 0x80] {
                var damaged = bytes
                damaged[i] ^= flip
                var c = TorrentCatalog()
                guard (try? c.add(bencoded: damaged, source: "flip")) != nil, let d = c.entries.first else { continue }
                for k in -1...(d.pieceCount + 1) { _ = d.pieceSpec(k) }
            }
        }
    }

    @Test func reportsUnreadableAndInvalidFiles() {
        let catalog = TorrentCatalog(paths: ["/nonexistent/x.torrent"])
        #expect(catalog.entries.isEmpty)
        #expect(catalog.errors == [.unreadable(path: "/nonexistent/x.torrent", reason: "no such file")])
        var c = TorrentCatalog()
        #expect(throws: TorrentCatalog.LoadError.self) { try c.add(bencoded: Array("d8:announce3:abce".utf8), source: "s") }
        #expect(throws: TorrentCatalog.LoadError.self) { try c.add(bencoded: [], source: "empty") }
    }

    /// BittorrentReconstituter's torrents: infohashes as the corpus builder computed them, and for the
    /// single-piece torrents the piece hash is the SHA-1 of the original file (the corpus' sha1sums).
    @Test func publicCorpusTorrents() throws {
        guard let corpus = TestPaths.publicCorpus else {
            print("skipped: ../shared/corpus/public is absent"); return
        }
        let dir = corpus.appendingPathComponent("bittorrent")
        let catalog = TorrentCatalog(paths: [dir.path])
        #expect(catalog.errors.isEmpty)
        #expect(catalog.entries.count == 4)
        var expected: [String: String] = [:]  // infohash -> name, from every *.expected.infohash.txt
        for url in TestPaths.files(under: dir) where url.lastPathComponent.hasSuffix(".expected.infohash.txt") {
            for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
                let cols = line.split(separator: "\t")
                expected[String(cols[0])] = String(cols[1])
            }
        }
        #expect(expected.count == 4)
        for (hex, name) in expected {
            #expect(catalog.entry(for: InfoHash(hex: hex)!)?.name == name, "\(hex)")
        }
        let sums = try String(contentsOf: dir.appendingPathComponent("BittorrentReconstituter_sha1sums_originalfiles.txt"), encoding: .utf8)
        var singlePiece = 0
        for line in sums.split(separator: "\n") {
            let sha1 = String(line.prefix(40)), name = String(line.dropFirst(42))
            guard let e = catalog.entries.first(where: { $0.name == name }), e.pieceCount == 1 else { continue }
            #expect(e.pieceSpec(0)?.hashes == [.sha1(hexBytes(sha1))], "\(name)")
            #expect(e.pieceSpec(0)?.length == Int(e.totalLength))
            singlePiece += 1
        }
        #expect(singlePiece >= 1)
    }
}
