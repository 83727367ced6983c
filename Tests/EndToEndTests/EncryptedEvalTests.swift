// Issue 7's encrypted-BitTorrent figures: `torscan eval` recall of MSE/PE flows per client, false
// positives over non-BitTorrent flows, and the detector's unanswered-attempt rule with its guard.
// Captures: SampleCaptures/encrypted-clients (four clients, RC4 required), negative-local (TLS, SSH,
// QUIC, DTLS, random UDP), multi-torrent (aria2's MSE attempts refused by libtorrent and ctorrent;
// snap length 200).
import Foundation
import Testing
import WireBytes
import PacketDecode
import BitTorrentClassifier
import FlowEvidence
import TorscanTestSupport
@testable import TorscanCore

/// Classic little-endian pcap, Ethernet + IPv4 + TCP (what the sample generator's tcpdump writes).
struct SamplePcap {
    var bytes: [UInt8]
    /// (offset of the record header, captured length) per frame, 1-based frame n at index n - 1.
    var records: [(at: Int, length: Int)] = []

    init(_ url: URL) throws {
        bytes = [UInt8](try Data(contentsOf: url))
        precondition(bytes.count >= 24 && bytes[0] == 0xd4 && bytes[1] == 0xc3, "little-endian pcap expected")
        var at = 24
        while at + 16 <= bytes.count {
            let n = Int(bytes[at + 8]) | Int(bytes[at + 9]) << 8 | Int(bytes[at + 10]) << 16 | Int(bytes[at + 11]) << 24
            records.append((at, n)); at += 16 + n
        }
    }

    /// Offset of the TCP header in frame n, or nil when it is not Ethernet/IPv4/TCP.
    func tcpHeader(_ n: Int) -> Int? {
        let f = records[n - 1].at + 16
        guard bytes[f + 12] == 0x08, bytes[f + 13] == 0x00, bytes[f + 14 + 9] == 6 else { return nil }
        return f + 14 + Int(bytes[f + 14] & 0x0f) * 4
    }

    func ports(_ n: Int) -> (UInt16, UInt16)? {
        tcpHeader(n).map { (UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), UInt16(bytes[$0 + 2]) << 8 | UInt16(bytes[$0 + 3])) }
    }

    /// The TCP payload of frame n as captured.
    func payload(_ n: Int) -> [UInt8] {
        guard let t = tcpHeader(n) else { return [] }
        let end = records[n - 1].at + 16 + records[n - 1].length
        return Array(bytes[(t + Int(bytes[t + 12] >> 4) * 4)..<end])
    }

    /// Renames TCP port `from` to `to` on every frame whose other port is `peer` (checksums are not checked by torscan).
    mutating func renamePort(_ from: UInt16, to: UInt16, whenPeer peer: UInt16) {
        for n in 1...records.count {
            guard let t = tcpHeader(n), let (s, d) = ports(n), s == peer || d == peer else { continue }
            for o in [t, t + 2] where (UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1])) == from {
                bytes[o] = UInt8(to >> 8); bytes[o + 1] = UInt8(to & 0xff)
            }
        }
    }
}

@Suite struct EncryptedEvalTests {
    static let samples = TestPaths.sampleCaptures
    static let clients = samples.appendingPathComponent("encrypted-clients")

    // MARK: detector: an unanswered Ya + PadA

    /// encrypted-clients/capture.pcap frames 101, 106, 118: python3-libtorrent (10.77.0.4:59485) dials
    /// rtorrent (10.77.0.3:6890); tshark: "59485 → 6890 [PSH, ACK] Len=489", "6890 → 59485 Len=553",
    /// "59485 → 6890 Len=97": Ya+PadA, Yb+PadB, the synchronisation step.
    static func keyExchange() throws -> (ya: [UInt8], yb: [UInt8], sync: [UInt8]) {
        let p = try SamplePcap(clients.appendingPathComponent("capture.pcap"))
        #expect(p.ports(101)! == (59485, 6890) && p.ports(106)! == (6890, 59485) && p.ports(118)! == (59485, 6890))
        return (p.payload(101), p.payload(106), p.payload(118))
    }

    static func detect(_ runs: [([UInt8], Bool)], finish: Bool = true) -> MSEShapeDetector {
        var d = MSEShapeDetector(sawConnectionStart: true)
        for (bytes, fromA) in runs { bytes.withUnsafeBytes { d.consume($0, fromInitiator: fromA) } }
        if finish { d.finish() }
        return d
    }

    @Test func unansweredKeyExchangeIsOneStepEvidence() throws {
        let x = try Self.keyExchange()
        #expect(x.ya.count == 489 && x.yb.count == 553 && x.sync.count == 97)
        let d = Self.detect([(x.ya, true)])
        #expect(d.verdict == .undecided(stepsMatched: 1))      // the verdict itself is unchanged
        let e = try #require(d.labellingEvidence)
        #expect(e.stepsMatched == 1 && e.score == 40 && e.initiatorDHBytes == 489 && e.responderDHBytes == 0)
        // Not final until the flow ends; the whole exchange keeps its three steps.
        #expect(Self.detect([(x.ya, true)], finish: false).labellingEvidence == nil)
        #expect(Self.detect([(x.ya, true), (x.yb, false), (x.sync, true)]).labellingEvidence?.stepsMatched == 3)
    }

    @Test func unansweredNearMisses() throws {
        let ya = try Self.keyExchange().ya
        #expect(Self.detect([(Array(ya.prefix(95)), true)]).labellingEvidence == nil)                 // < 96: no Ya
        #expect(Self.detect([(ya, true), (Array(ya.prefix(120)), true)]).labellingEvidence == nil)    // 609 > 96 + 512
        #expect(Self.detect([(Array(repeating: 0x41, count: 300), true)]).labellingEvidence == nil)   // text
        #expect(Self.detect([(Array(ya.prefix(40)), false), (ya, true)]).labellingEvidence == nil)    // B spoke first
        #expect(MSEShapeDetector(sawConnectionStart: false).labellingEvidence == nil)
    }

    @Test func unansweredTruncationSweep() throws {
        // Every prefix of a real Ya+PadA, cut at every length and fed in two segments: evidence
        // exactly when the run is a whole DH key (>= 96 bytes), never a trap.
        let ya = try Self.keyExchange().ya
        for n in 0...ya.count {
            let cut = n / 2
            let d = Self.detect([(Array(ya[0..<cut]), true), (Array(ya[cut..<n]), true)])
            #expect((d.labellingEvidence != nil) == (n >= MSELimits.minDHRun), "prefix \(n)")
            if let e = d.labellingEvidence { #expect(e.initiatorDHBytes == n) }
        }
    }

    // MARK: labelling in the pipeline, and its guard

    /// Flow label by "src:port>dst:port".
    static func labels(_ url: URL) throws -> [String: String] {
        let run = try Pipeline.analyze(paths: [url.path], options: AnalysisOptions())
        return Dictionary(run.flows.map { ("\($0.srcIP):\($0.srcPort)>\($0.dstIP):\($0.dstPort)", $0.label) }, uniquingKeysWith: { a, _ in a })
    }

    static func encryptedFlows(_ url: URL) throws -> Set<String> {
        Set(try labels(url).filter { $0.value == "bittorrent-encrypted" }.keys)
    }

    @Test func refusedAttemptsAreLabelledOnlyAtACorroboratedEndpoint() throws {
        // multi-torrent: aria2c (10.77.0.3) opens with MSE; libtorrent (10.77.0.2:6881) and ctorrent
        // (10.77.0.4:2706) refuse it. Both endpoints speak cleartext BitTorrent elsewhere in the capture.
        let url = Self.samples.appendingPathComponent("multi-torrent/capture.pcap")
        let attempts: Set = ["10.77.0.3:57010>10.77.0.2:6881", "10.77.0.3:57016>10.77.0.2:6881", "10.77.0.3:37880>10.77.0.4:2706"]
        #expect(try Self.encryptedFlows(url) == attempts)
        // The same attempt to another port of the same address: the address is a BitTorrent host, but
        // that endpoint is not, so the flow stays `other` (a NAT or proxy address must not taint its other flows).
        var p = try SamplePcap(url)
        p.renamePort(6881, to: 6999, whenPeer: 57010)
        let dir = try Python.temporaryDirectory("torscan-mse-guard")
        defer { try? FileManager.default.removeItem(at: dir) }
        let moved = dir.appendingPathComponent("moved.pcap")
        try Data(p.bytes).write(to: moved)
        let after = try Self.labels(moved)
        #expect(after["10.77.0.3:57010>10.77.0.2:6999"] == "other")
        #expect(Set(after.filter { $0.value == "bittorrent-encrypted" }.keys) == attempts.subtracting(["10.77.0.3:57010>10.77.0.2:6881"]))
    }

    // MARK: eval over the sample captures

    @Test func encryptedClientsRecallPerClientAndRole() throws {
        let r = try Evaluator.run(paths: [Self.clients.path])
        let e = r.total.encrypted
        #expect(e.recall.flows >= 15 && e.recall.rate >= 0.95)
        let names = e.clients.map(\.name)
        for c in ["aria2c", "python3-libtorrent", "rtorrent", "transmission-cli"] {
            #expect(names.contains { $0.hasPrefix(c + " ") }, "\(c) in \(names)")
        }
        for c in e.clients {
            #expect(c.initiator.flows > 0 && c.responder.flows > 0, "\(c.name) both as MSE initiator and responder")
            #expect(c.all.rate >= 0.95, "\(c.name) \(c.all)")
        }
        #expect(r.total.falsePositives == 0)
        #expect(r.text().contains("encrypted BitTorrent (MSE/PE) recall: \(e.recall.found)/\(e.recall.flows)"))
    }

    @Test func localNegativesHaveNoBitTorrentLabel() throws {
        let r = try Evaluator.run(paths: [Self.samples.appendingPathComponent("negative-local").path])
        #expect(r.total.negativeFlows >= 120)
        #expect(r.total.falsePositives == 0 && r.total.encryptedFalsePositives == 0 && r.total.falsePositiveRate == 0)
        #expect(r.total.encrypted.recall.flows == 0)
    }

    // MARK: scoring

    let a = IPAddress("10.0.0.2")!, b = IPAddress("10.0.0.3")!, c = IPAddress("10.0.0.9")!

    func row(_ x: IPAddress, _ xp: UInt16, _ y: IPAddress, _ yp: UInt16, _ label: String) -> FlowRow {
        FlowRow(proto: .tcp, srcIP: x, srcPort: xp, dstIP: y, dstPort: yp, firstSeen: Timestamp(nanoseconds: 0),
                lastSeen: Timestamp(nanoseconds: 1), packets: 3, bytes: 100, label: label, infoHashes: [],
                firstFrame: FrameRef(captureIndex: 0, frame: 1))
    }

    func enc(_ xp: UInt16, _ yp: UInt16, _ from: String, _ to: String, payload: Bool = true) -> GroundTruth.Flow {
        var f = GroundTruth.Flow(proto: "tcp", a: a, aPort: xp, b: b, bPort: yp, label: "bittorrent-encrypted", infoHashes: [])
        f.initiatorClient = from; f.responderClient = to; f.hasPayload = payload
        return f
    }

    @Test func scoresEncryptedRecallAndFalsePositiveRates() {
        let truth = GroundTruth(scenario: "t", flows: [
            enc(40001, 6881, "X 1", "Y 2"),                    // found
            enc(40002, 6881, "Y 2", "X 1"),                    // labelled other: a miss for both clients
            enc(40003, 6881, "X 1", "X 1"),                    // one client at both ends: counted once for it
            enc(40004, 6881, "X 1", "Y 2", payload: false),    // a refused SYN: not scored
            enc(40005, 6881, "Y 2", "X 1"),                    // not in the capture: a miss
            .init(proto: "tcp", a: a, aPort: 40006, b: c, bPort: 443, label: "other", infoHashes: []),
            .init(proto: "tcp", a: a, aPort: 40007, b: c, bPort: 22, label: "other", infoHashes: []),
        ], evidence: [])
        let flows = [row(a, 40001, b, 6881, "bittorrent-encrypted"), row(a, 40002, b, 6881, "other"),
                     row(b, 6881, a, 40003, "bittorrent-encrypted"), row(a, 40004, b, 6881, "other"),
                     row(a, 40006, c, 443, "bittorrent-encrypted"),     // truth other: an encrypted false positive
                     row(a, 40007, c, 22, "other"),
                     row(c, 5000, a, 5001, "bittorrent-dht")]           // not in truth: a false positive, not encrypted
        var s = EvalScore.score(truth: truth, flows: flows, evidence: [])
        #expect(s.encrypted.recall == Tally(flows: 4, found: 2))
        #expect(s.encrypted.byClient == ["X 1": Tally(flows: 4, found: 2), "Y 2": Tally(flows: 3, found: 1)])
        #expect(s.encrypted.asInitiator == ["X 1": Tally(flows: 2, found: 2), "Y 2": Tally(flows: 2, found: 0)])
        #expect(s.encrypted.asResponder == ["X 1": Tally(flows: 3, found: 1), "Y 2": Tally(flows: 1, found: 1)])
        #expect(s.negativeFlows == 3 && s.falsePositives == 2 && s.encryptedFalsePositives == 1)
        #expect(abs(s.falsePositiveRate - 2.0 / 3) < 1e-12 && abs(s.encryptedFalsePositiveRate - 1.0 / 3) < 1e-12)
        s.add(s)
        #expect(s.encrypted.recall == Tally(flows: 8, found: 4) && s.encrypted.byClient["Y 2"] == Tally(flows: 6, found: 2))
        #expect(EvalScore().falsePositiveRate == 0 && EncryptedScore().recall.rate == 1)
    }

    @Test func truthNamesClientsEitherWay() throws {
        let dir = try Python.temporaryDirectory("torscan-truth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("truth.json")
        try Data("""
        {"scenario": "t", "flows": [
         {"proto": "tcp", "src_ip": "10.0.0.2", "src_port": 1, "dst_ip": "10.0.0.3", "dst_port": 2, "label": "bittorrent-encrypted",
          "client": "A 1 / B 2", "initiator_client": "A 1", "responder_client": "B 2", "has_payload": false},
         {"proto": "tcp", "src_ip": "10.0.0.2", "src_port": 3, "dst_ip": "10.0.0.3", "dst_port": 4, "label": "bittorrent-encrypted",
          "client": "C 3 / D 4"},
         {"proto": "udp", "src_ip": "10.0.0.2", "src_port": 5, "dst_ip": "10.0.0.3", "dst_port": 6, "label": "other", "client": "TLS"}]}
        """.utf8).write(to: path)
        let t = try GroundTruth.load(path: path.path)
        #expect(t.flows.map(\.initiatorClient) == ["A 1", "C 3", nil] && t.flows.map(\.responderClient) == ["B 2", "D 4", nil])
        #expect(t.flows.map(\.hasPayload) == [false, true, true])
    }

    @Test func evalGatesOnEncryptedRecallAndFalsePositives() throws {
        let dir = "SampleCaptures/encrypted-clients"
        let ok = try Torscan.run(["eval", dir, "--min-encrypted-recall", "0.95", "--max-false-positive-rate", "0.001"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("false positives over non-BitTorrent flows: any BitTorrent label 0/"))
        let strict = try Torscan.run(["eval", dir, "--min-encrypted-recall", "1.01"])
        #expect(strict.status == ExitStatus.checkFailed.rawValue && strict.stderr.contains("encrypted recall"))
        let neg = try Torscan.run(["eval", "SampleCaptures/negative-local", "--max-false-positive-rate=-0.5"])
        #expect(neg.status == ExitStatus.checkFailed.rawValue && neg.stderr.contains("false-positive rate"))
        let json = try Torscan.run(["eval", dir, "--json"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let total = try #require(root["total"] as? [String: Any])
        let e = try #require(total["encrypted"] as? [String: Any])
        #expect((e["clients"] as? [String: Any])?.count == 4)
        #expect(total["false_positive_rate"] as? Double == 0 && total["negative_flows"] != nil)
    }
}

/// SampleCaptures/limits/shadowsocks.pcap (see its README): a known false positive of the shape rule.
@Suite struct ShadowsocksLimitTests {
    @Test func shadowsocksIsAKnownFalsePositive() throws {
        let url = TestPaths.sampleCaptures.appendingPathComponent("limits/shadowsocks.pcap")
        let run = try Pipeline.analyze(paths: [url.path], options: AnalysisOptions())
        #expect(run.flows.count == 8 && run.flows.allSatisfy { $0.dstPort == 8388 || $0.dstPort == 8389 })
        let http = run.flows.filter { $0.bytes < 2000 }, ssh = run.flows.filter { $0.bytes >= 2000 }
        #expect(http.count == 4 && ssh.count == 4)
        // Two runs, no corroboration: never labelled.
        #expect(http.allSatisfy { $0.label == "other" })
        // SSH through Shadowsocks has MSE's three-step shape: labelled bittorrent-encrypted (2 of 4 here).
        #expect(ssh.filter { $0.label != "other" }.allSatisfy { $0.label == "bittorrent-encrypted" })
        withKnownIssue("Shadowsocks has MSE's shape; nothing in the first runs tells them apart") {
            #expect(ssh.allSatisfy { $0.label == "other" })
        }
    }
}

/// Issue 7: "an infohash only when corroborated, and the report says how" (flow report).
@Suite struct EncryptedFlowBasisTests {
    /// The `bittorrent-encrypted` rows of `torscan flows CAPTURE --csv`, and where their infohashes
    /// and basis are.
    static func encryptedRows(_ capture: String) throws -> (status: Int32, rows: [[String]], hashes: Int, basis: Int) {
        let r = try Torscan.run(["flows", capture, "--csv"])
        let lines = r.stdout.split(separator: "\r\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let label = try #require(header.firstIndex(of: "label")), hashes = try #require(header.firstIndex(of: "infohashes"))
        let basis = try #require(header.firstIndex(of: "encrypted_by"))
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0[label] == "bittorrent-encrypted" }
        return (r.status, rows, hashes, basis)
    }

    @Test func theEncryptedFlowNamesItsTorrentAndTheBasis() throws {
        let (status, encrypted, hashes, basis) = try Self.encryptedRows("SampleCaptures/encrypted/capture.pcap")
        #expect(status == 0)
        #expect(encrypted.count == 1)
        // Transmission (10.77.0.2:51413) announced its port for this one torrent to the tracker.
        #expect(encrypted.first?[hashes] == "e5fce0443686b4060c0e5c718805f88ff8ceed39")
        #expect(encrypted.first?[basis] == "mse_shape_3_steps;port_announced_tracker;infohash_of_responder_endpoint")
    }

    /// An endpoint tied to two torrents names neither: the encrypted bytes do not say which.
    @Test func anEndpointOfSeveralTorrentsNamesNone() throws {
        let (_, rows, hashes, basis) = try Self.encryptedRows("SampleCaptures/encrypted-clients/capture.pcap")
        #expect(rows.count == 20)
        for row in rows {
            #expect(row[basis].hasPrefix("mse_shape_"))
            #expect(row[hashes].isEmpty == !row[basis].contains("infohash_of_responder_endpoint"))
        }
        #expect(rows.contains { $0[hashes].isEmpty })
    }
}
