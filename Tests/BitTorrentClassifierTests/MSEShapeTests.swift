// MSEShapeDetector and MSECorroboration (Vuze wiki "Message Stream Encryption").
// Positive: SampleCaptures/tunnels/mse-transmission-stream132.pcapng, TCP stream 132 of nDPI's
// bittorrent_transmission.pcapng (LGPL-3.0; frames 3006-3368): Transmission 2.94 at 192.168.1.128
// to 76.126.167.180:51413, runs I549 (440+109) R601 I125 (1+124) R224. tshark: "Unknown"/TCP data.
// Near miss from real bytes: rlpx-ethereum-stream1.pcap, TCP stream 1 of nDPI's ethereum.pcap:
// EIP-8 RLPx auth 574 bytes (size prefix 0x023c = 572), ack 429 (0x018a = 427), then frames.
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

/// Deterministic filler for shape-only near misses (SplitMix64).
struct TestRandomBytes {
    var state: UInt64
    mutating func next(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
    }
}

@Suite struct MSEShapeTests {
    static func run(_ segments: [([UInt8], Bool)], syn: Bool = true, finish: Bool = true) -> MSEVerdict {
        var d = MSEShapeDetector(sawConnectionStart: syn)
        for (p, i) in segments { p.withUnsafeBytes { d.consume($0, fromInitiator: i) } }
        if finish { d.finish() }
        return d.verdict
    }

    static func transmissionFlow() throws -> [([UInt8], Bool)] {
        let cap = try #require(TunnelTestFiles.sample("mse-transmission-stream132.pcapng"))
        let f = try #require(cap.tcp.first)
        #expect(f.sawSYN && f.responder.port == 51413)
        return f.segments.map { ($0.payload, $0.fromInitiator) }
    }

    @Test func transmissionKeyExchange() throws {
        let segs = try Self.transmissionFlow()
        #expect(segs.map { $0.0.count } == [440, 109, 601, 1, 124, 82, 142])
        guard case .likelyMSE(let e) = Self.run(segs) else { Issue.record("\(Self.run(segs))"); return }
        #expect(e.stepsMatched == 3 && e.initiatorDHBytes == 549 && e.responderDHBytes == 601 && e.score == 80)
        #expect(e.reasons.contains("sync_run_ge_56"))
    }

    @Test(arguments: ["mse-libtorrent.pcap", "mse-aria2.pcap"])
    func otherClients(file: String) throws {
        // make-mse-captures.sh: three encrypted connections each, libtorrent 2.0.8 and aria2 1.36.
        let cap = try #require(TunnelTestFiles.sample(file))
        #expect(cap.tcp.count == 3)
        for f in cap.tcp {
            let v = Self.run(f.segments.map { ($0.payload, $0.fromInitiator) }, syn: f.sawSYN)
            guard case .likelyMSE(let e) = v else { Issue.record("\(file) \(f.initiator.port): \(v)"); continue }
            #expect(e.stepsMatched == 3)
        }
    }

    @Test func segmentationDoesNotMatter() throws {
        let segs = try Self.transmissionFlow()
        let whole = Self.run(segs)
        var bytewise: [([UInt8], Bool)] = []
        for (p, i) in segs { for b in p { bytewise.append(([b], i)) } }
        #expect(Self.run(bytewise) == whole)
        // One segment per run.
        var runs: [([UInt8], Bool)] = []
        for (p, i) in segs { if let last = runs.last, last.1 == i { runs[runs.count - 1].0 += p } else { runs.append((p, i)) } }
        #expect(Self.run(runs) == whole)
    }

    @Test func truncationSweep() throws {
        // Every byte prefix of the real flow: never a crash, never .notMSE while bytes still arrive,
        // and .likelyMSE exactly when the initiator's sync run holds >= 56 bytes.
        let segs = try Self.transmissionFlow()
        let total = segs.reduce(0) { $0 + $1.0.count }
        for cut in 0...total {
            var left = cut, prefix: [([UInt8], Bool)] = []
            for (p, i) in segs where left > 0 { prefix.append((Array(p[..<min(left, p.count)]), i)); left -= min(left, p.count) }
            let v = Self.run(prefix, finish: false)
            let syncBytes = max(0, cut - 549 - 601)
            switch v {
            case .notMSE(let why): Issue.record("prefix \(cut): \(why)")
            case .likelyMSE: #expect(syncBytes >= 56, "prefix \(cut)")
            case .undecided: #expect(syncBytes < 56, "prefix \(cut)")
            }
        }
    }

    @Test func finishJudgesTheOpenRun() throws {
        let segs = try Self.transmissionFlow()
        #expect(Self.run(Array(segs.prefix(2))) == .undecided(stepsMatched: 1))           // no answer
        guard case .likelyMSE(let e) = Self.run(Array(segs.prefix(3))) else { Issue.record("two runs"); return }
        #expect(e.stepsMatched == 2 && e.score == 60)
        #expect(Self.run([(Array(segs[0].0.prefix(95)), true)]) == .notMSE(.initiatorRunTooShort))
    }

    @Test func ethereumRLPxIsRejected() throws {
        let cap = try #require(TunnelTestFiles.sample("rlpx-ethereum-stream1.pcap"))
        let f = try #require(cap.tcp.first)
        let v = Self.run(f.segments.map { ($0.payload, $0.fromInitiator) }, syn: f.sawSYN)
        #expect(v == .notMSE(.rlpxLengthPrefix))
        // Pre-EIP-8 RLPx: exactly 307 then 210 bytes of ECIES.
        var g = TestRandomBytes(state: 7)
        #expect(Self.run([(g.next(307), true), (g.next(210), false), (g.next(80), true)]) == .notMSE(.rlpxLegacySizes))
    }

    @Test func nearMisses() {
        var g = TestRandomBytes(state: 42)
        let ya = g.next(300), yb = g.next(200), sync = g.next(124)
        // The shape itself passes with random bytes (the detector never saw these):
        if case .likelyMSE = Self.run([(ya, true), (yb, false), (sync, true)]) {} else { Issue.record("random shape") }
        #expect(Self.run([(ya, true), (yb, false), (sync, true)], syn: false) == .notMSE(.noConnectionStart))
        #expect(Self.run([(yb, false), (ya, true)]) == .notMSE(.responderSpokeFirst))
        #expect(Self.run([(g.next(1460), true)]) == .notMSE(.initiatorRunTooLong))         // bulk data
        #expect(Self.run([(ya, true), (g.next(700), false)]) == .notMSE(.responderRunTooLong))
        #expect(Self.run([(ya, true), (g.next(60), false), (sync, true)]) == .notMSE(.responderRunTooShort))
        let bt = hexBytes("13426974546f7272656e742070726f746f636f6c0000000000100005") + g.next(100)
        #expect(Self.run([(bt, true)]) == .notMSE(.bittorrentHandshake))
        let tls = hexBytes("16030100c8010000c40303") + g.next(190)                          // ClientHello header
        #expect(Self.run([(tls, true)]) == .notMSE(.tlsRecord))
        let ssh = Array("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".utf8) + g.next(100)
        #expect(Self.run([(ssh, true)]) == .notMSE(.sshBanner))
        let text = Array(String(repeating: "GET /announce?info_hash=abc HTTP/1.1\r\n", count: 4).utf8)
        #expect(Self.run([(text, true)]) == .notMSE(.printableText))
        // WireGuard over TCP (udp2raw-style): 148-byte initiation "01 00 00 00 ..." then 92-byte response.
        #expect(Self.run([([1, 0, 0, 0] + g.next(144), true)]) == .notMSE(.structuredHeader))
        var zeros = g.next(200); for i in stride(from: 8, to: 200, by: 10) { zeros[i] = 0 }  // 9 zeros in the first 96
        #expect(Self.run([(zeros, true)]) == .notMSE(.lowEntropy))
    }

    @Test func randomKeyExchangesPass() {
        // 5000 key exchanges of uniformly random bytes with spec sizes (PadA/PadB 0...512, PadC 0...512,
        // IA 0 or 68): the randomness thresholds must almost never reject real MSE.
        var g = TestRandomBytes(state: 2026)
        var missed: [MSEVerdict] = []
        for _ in 0..<5000 {
            let sizes = g.next(6).map(Int.init)
            let a = 96 + (sizes[0] << 1 | sizes[1] & 1) % 513, b = 96 + (sizes[2] << 1 | sizes[3] & 1) % 513
            let c = 56 + (sizes[4] << 1) % 513 + (sizes[5] & 1) * 68
            let v = Self.run([(g.next(a), true), (g.next(b), false), (g.next(c), true)])
            if case .likelyMSE = v {} else { missed.append(v) }
        }
        print("MSE random key exchanges: \(missed.count)/5000 rejected \(missed)")
        #expect(missed.count <= 5)
    }

    @Test func corroboration() {
        var c = MSECorroboration()
        let peer = PeerEndpoint(address: [76, 126, 167, 180], port: 51413)
        let other = PeerEndpoint(address: [76, 126, 167, 180], port: 443)
        c.cleartextPeers = [peer]
        c.dhtAnnounced = [peer]
        c.listedPeers = [PeerEndpoint(address: [10, 0, 0, 1], port: 6881)]
        #expect(c.corroborate(responder: peer) == [.peerEndpointSeenCleartext, .portAnnouncedDHT])
        #expect(c.corroborate(responder: peer).map(\.rawValue) == ["peer_endpoint_seen_cleartext", "port_announced_dht"])
        // Same address, other port: not corroborated (a NAT/proxy address must not taint its other flows).
        #expect(c.corroborate(responder: other).isEmpty)
        c.trackerAnnounced = [other]
        #expect(c.corroborate(PeerEndpoint(address: [192, 168, 1, 128], port: 48305), other) == [.portAnnouncedTracker])
        #expect(c.corroborate(responder: PeerEndpoint(address: [10, 0, 0, 1], port: 6881)) == [.peerListed])
    }
}
