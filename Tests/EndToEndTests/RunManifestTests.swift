// The run manifest (chain of custody): its JSON shape, the workbook rows, file digests.
import Foundation
import Testing
@testable import Reports
import WireBytes
import BitTorrentClassifier
import Crypto
import FlowEvidence

@Suite struct RunManifestTests {
    static func tempFile(_ content: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("torscan-manifest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try AtomicFile.write(Data(content.utf8), to: path)
        return path
    }

    static func manifest() -> RunManifest {
        var m = RunManifest(
            options: ["torscan", "a b.pcap", "--csv", "--out", "r.csv"],
            inputs: [InputRecord(path: "a b.pcap", size: 24, sha256: String(repeating: "0", count: 64),
                                 firstSeen: Timestamp(rfc3339: "2021-11-03T14:22:01.5Z"), lastSeen: nil, packets: 0)],
            started: Timestamp(rfc3339: "2026-01-01T00:00:00Z"), ended: Timestamp(rfc3339: "2026-01-01T00:00:02Z"))
        m.gitCommit = "0123abcd"
        return m
    }

    @Test func sha256OfFiles() throws {
        // FIPS 180-2 appendix B.1: SHA-256("abc").
        let path = try Self.tempFile("abc")
        defer { unlink(path) }
        let d = try FileDigest.sha256(path: path)
        #expect(d.size == 3)
        #expect(d.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(throws: FileDigestError.self) { try FileDigest.sha256(path: "/nonexistent/torscan") }
    }

    @Test func largeFileSpansChunks() throws {
        // 2.5 chunks of "a": checks chunked hashing against one-shot hashing of the same bytes.
        let text = String(repeating: "a", count: FileDigest.chunkSize * 5 / 2)
        let path = try Self.tempFile(text)
        defer { unlink(path) }
        let d = try FileDigest.sha256(path: path)
        #expect(d.size == Int64(text.utf8.count))
        #expect(d.hex == SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined())
    }

    @Test func jsonShape() throws {
        var m = Self.manifest()
        let report = try Self.tempFile("abc")
        defer { unlink(report) }
        try m.addOutput(role: "report", path: report)
        let json = m.json().serialized()
        #expect(json == """
        {"torscan":{"version":"\(BuildInfo.version)","git_commit":"0123abcd","classifier_version":"\(ClassifierVersion.version)"},\
        "options":["torscan","a b.pcap","--csv","--out","r.csv"],\
        "run":{"started":"2026-01-01T00:00:00.000000Z","ended":"2026-01-01T00:00:02.000000Z"},\
        "inputs":[{"path":"a b.pcap","size":24,"sha256":"\(String(repeating: "0", count: 64))","first_seen":"2021-11-03T14:22:01.500000Z","last_seen":null,"packets":0}],\
        "outputs":[{"role":"report","path":"\(report)","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]}
        """)
    }

    @Test func embeddedJSONLeavesOutRunTimes() {
        let json = Self.manifest().json(includeRunTimes: false).serialized()
        #expect(!json.contains("\"run\"") && !json.contains("2026-01-01"))
        #expect(json.contains("\"inputs\":[{\"path\":\"a b.pcap\""))
    }

    @Test func workbookRowsLeaveOutRunTimes() {
        let rows = Self.manifest().keyValueRows()
        #expect(rows.map(\.0) == ["torscan_version", "git_commit", "classifier_version", "options",
                                  "input_1_path", "input_1_size", "input_1_sha256", "input_1_first_seen",
                                  "input_1_last_seen", "input_1_packets"])
        #expect(rows[3].1 == "torscan 'a b.pcap' --csv --out r.csv")
        #expect(rows[8].1 == "")
        let timed = Self.manifest().keyValueRows(includeRunTimes: true)
        #expect(timed.contains { $0 == ("run_started", "2026-01-01T00:00:00.000000Z") })
    }

    @Test func torrentJSON() throws {
        // A one-file v1 torrent built here; its infohash is SHA-1 of the info dictionary bytes.
        let info = "d6:lengthi5e4:name5:a.txt12:piece lengthi16384e6:pieces20:\(String(repeating: "x", count: 20))e"
        var catalog = TorrentCatalog()
        try catalog.add(bencoded: Array("d4:info\(info)e".utf8), source: "a.torrent")
        let json = try #require(catalog.entries.first).json().serialized()
        let v1 = Insecure.SHA1.hash(data: Data(info.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(json == "{\"name\":\"a.txt\",\"total_size\":5,\"piece_length\":16384,\"pieces\":1,\"version\":\"v1\",\"infohash_v1\":\"\(v1)\",\"infohash_v2\":null,\"files\":[{\"path\":\"a.txt\",\"length\":5}],\"source\":\"a.torrent\"}")
    }

    @Test func shellQuoting() {
        #expect(RunManifest.shellQuoted("--ip=10.0.0.0/8") == "--ip=10.0.0.0/8")
        #expect(RunManifest.shellQuoted("") == "''")
        #expect(RunManifest.shellQuoted("it's") == "'it'\\''s'")
        #expect(RunManifest.shellQuoted("$(rm)") == "'$(rm)'")
    }

    @Test func writesJSONFileAndKnowsItsCommit() throws {
        let path = try Self.tempFile("")
        defer { unlink(path) }
        try Self.manifest().write(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("{\n  \"torscan\": {") && text.hasSuffix("}\n"))
        // Built from a checkout: a 40-hex commit, maybe -dirty; from a tarball: "unknown".
        let c = BuildInfo.gitCommit
        let hex = c.hasSuffix("-dirty") ? String(c.dropLast(6)) : c
        #expect(c == "unknown" || (hex.count == 40 && hex.allSatisfy(\.isHexDigit)))
    }
}
