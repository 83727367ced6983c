import Testing
import Foundation
import CaptureFile
import BitTorrentClassifier
import TorscanTestSupport
@testable import FlowEvidence

@Suite struct CorpusSweepTests {
    static let corpus = corpusDirectory()

    static func captures(_ folder: String) -> [URL] {
        guard let c = corpus else { return [] }
        return TestPaths.files(under: c.appendingPathComponent(folder)).filter {
            !$0.lastPathComponent.contains(".expected") && !$0.pathExtension.hasSuffix("txt") && !$0.pathExtension.hasSuffix("tsv")
                && !$0.pathExtension.hasSuffix("json") && !$0.pathExtension.hasSuffix("out") && !$0.pathExtension.hasSuffix("csv")
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TORSCAN_SWEEP"] != nil))
    func printSweep() throws {
        for folder in ["bittorrent", "negative"] {
            for url in Self.captures(folder) {
                guard let out = try? analyze([url]) else { print("SWEEP", folder, url.lastPathComponent, "unreadable"); continue }
                let labels = Dictionary(grouping: out.flows, by: \.label).mapValues(\.count).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                print("SWEEP", folder, url.lastPathComponent, "rows", out.evidence.count, "ih", Set(out.evidence.map(\.infoHash)).count, labels.joined(separator: ","))
                for r in out.evidence.prefix(8) { print("   ", r.ip, r.infoHash, r.confidence, r.signals.sorted().map(\.rawValue).joined(separator: ";"), r.firstFrame.frame, r.bytesUp, r.bytesDown, r.client ?? "-", r.torrentName ?? "-") }
                if let m = out.anomalies["metadata_hash_mismatch"] { print("   mismatch", m) }
            }
        }
    }

    /// The negative corpus (other protocols, some BitTorrent look-alikes: TLS on 6888, Kademlia,
    /// KCP, uTP-like game traffic) gives no evidence row and no BitTorrent flow label.
    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func negativeCorpusGivesNoEvidence() throws {
        let files = Self.captures("negative")
        #expect(files.count >= 60)
        for url in files {
            guard let out = try? analyze([url]) else { continue }   // unreadable files are CaptureFile's business
            #expect(out.evidence.isEmpty, "\(url.lastPathComponent)")
            #expect(out.flows.allSatisfy { $0.label == "other" }, "\(url.lastPathComponent)")
        }
    }

    /// Every capture of the corpus, damaged and fuzzed ones included, runs through without a trap, and
    /// the per-day rows regroup into the same (ip, infohash) pairs.
    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func wholeCorpusRunsThrough() throws {
        var files = 0
        for folder in ["bittorrent", "formats", "negative"] {
            for url in Self.captures(folder) {
                guard let out = try? analyze([url]) else { continue }
                files += 1
                let pairs = Set(out.evidence.map { "\($0.ip) \($0.infoHash)" })
                #expect(Set(out.evidencePerDay.map { "\($0.ip) \($0.infoHash)" }) == pairs, "\(url.lastPathComponent)")
                #expect(out.flows.count == out.flowCounts.created)
            }
        }
        #expect(files > 150)
    }

    static func senders(_ out: AnalysisOutput, _ hex: String, _ signal: Signal) -> [String] {
        out.evidence.filter { $0.infoHash == InfoHash(hex: hex)! && $0.signals.contains(signal) }.map(\.ip.description)
    }

    /// Ground truth from the corpus SUMMARY.md (tshark + a BEP 15 decoder, per infohash and sender).
    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func vutPdsSmallMatchesTheCorpusSummary() throws {
        let out = try analyze([Self.corpus!.appendingPathComponent("bittorrent/vut-pds_small.pcap")])
        let a = "13fe7880330170e8b9a2712846994bd3252c8384", b = "8c271f4d2e92a3449e2d1bde633cd49f64af888f"
        #expect(Self.senders(out, a, .handshake) == ["5.12.113.137", "99.106.42.54", "157.25.16.60", "192.168.38.130"])
        #expect(Self.senders(out, b, .handshake) == ["140.211.167.14", "154.20.143.113", "185.203.56.27", "192.168.38.130"])
        for h in [a, b] {
            #expect(Self.senders(out, h, .lsd) == ["192.168.38.130", "::1", "fe80::8629:e03c:a198:19e0"])
            #expect(Self.senders(out, h, .trackerUDP) == ["192.168.38.130"])
        }
        // Only the two torrents: the ~200 routing-refresh get_peers targets ("ae28...") are not evidence.
        #expect(Set(out.evidence.map(\.infoHash.hex)) == [a, b])
        // First frames: each sender's first handshake, as `tshark -Y bittorrent.info_hash` lists them.
        let firstHandshake: [String: Int] = ["192.168.38.130 \(b)": 527, "185.203.56.27 \(b)": 535, "140.211.167.14 \(b)": 702,
                                             "192.168.38.130 \(a)": 939, "5.12.113.137 \(a)": 953, "157.25.16.60 \(a)": 961,
                                             "99.106.42.54 \(a)": 1202, "154.20.143.113 \(b)": 1280]
        let got = Dictionary(uniqueKeysWithValues: out.evidence.filter { $0.signals.contains(.handshake) }.map { ("\($0.ip) \($0.infoHash)", $0.firstFrame.frame) })
        #expect(got == firstHandshake)
        #expect(Self.senders(out, a, .dhtGetPeers) == ["192.168.38.130", "212.178.135.62"])
        #expect(Self.senders(out, b, .dhtGetPeers) == ["192.168.38.130"])
        let local = out.evidence.first { $0.ip.description == "192.168.38.130" && $0.infoHash.hex == a }
        #expect(local?.confidence == .transfer && (local?.bytesDown ?? 0) > 0)
    }

    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func smallTorrentMSEMatchesTheCorpusSummary() throws {
        let out = try analyze([Self.corpus!.appendingPathComponent("bittorrent/small_torrent_mse.pcap")])
        let h = "dbfc0ce745b4c9fb92003323d67ec3987148218c"
        #expect(Self.senders(out, h, .handshake) == ["177.133.160.140", "190.88.147.206", "192.168.0.102", "200.87.172.190", "217.129.96.104"])
        #expect(Self.senders(out, h, .lsd) == ["192.168.0.102"])
        #expect(Self.senders(out, h, .trackerUDP) == ["192.168.0.102"])
        #expect(Self.senders(out, h, .dhtAnnounce) == ["192.168.0.102"])
        #expect(Self.senders(out, h, .dhtGetPeers) == ["192.168.0.102"])
        #expect(Set(out.evidence.map(\.infoHash.hex)) == [h])
        // ut_metadata blocks from 177.133.160.140, verified against the infohash.
        #expect(out.evidence.allSatisfy { $0.torrentName == "2d47464a9a89179b48f2483e9073a3630783866cbda7dd4892a3d8b1c6a50ceb8ff822d426a0" })
    }

    /// bittorrent_utp.pcap: a uTP connection between 192.168.1.5 and 82.243.113.43 carrying a handshake
    /// and pieces; 82.243.113.43's DHT get_peers for f7f6... targets are routing refreshes.
    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func utpTransfer() throws {
        let out = try analyze([Self.corpus!.appendingPathComponent("bittorrent/bittorrent_utp.pcap")])
        let h = InfoHash(hex: "0ca4c8e7fb26a354b1a7aa15baeaf26067c66811")!
        #expect(out.evidence.map(\.ip.description) == ["82.243.113.43", "192.168.1.5"])
        #expect(out.evidence.allSatisfy { $0.infoHash == h && $0.confidence == .transfer && $0.signals.isSuperset(of: [.handshake, .piece, .utp]) })
        #expect(out.evidence.first?.bytesUp == out.evidence.last?.bytesDown)
        #expect(out.flows.contains { $0.label == "bittorrent-utp" && $0.infoHashes == [h] })
    }

    /// bittorrent_transmission.pcapng: one torrent through every channel (SUMMARY.md: HTTP + UDP tracker +
    /// DHT + handshakes). The five other get_peers targets there come from nodes refreshing their
    /// routing tables (22-126 bits shared with their own ids) and are not evidence.
    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func transmissionEveryChannel() throws {
        let out = try analyze([Self.corpus!.appendingPathComponent("bittorrent/bittorrent_transmission.pcapng")])
        let h = "aa3769c4530dde06241873dad43ab5ccec2ce622"
        #expect(Self.senders(out, h, .handshake) == ["51.38.57.28", "192.168.1.128"])
        for s in [Signal.trackerHTTP, .trackerUDP, .dhtGetPeers] { #expect(Self.senders(out, h, s) == ["192.168.1.128"]) }
        #expect(Set(out.evidence.map(\.infoHash.hex)) == [h])
        let labels = Set(out.flows.map(\.label))
        #expect(labels.isSuperset(of: ["bittorrent-peer", "bittorrent-utp", "bittorrent-dht", "bittorrent-tracker-http", "bittorrent-tracker-udp"]))
        // Transmission's MSE connections (nDPI: Unknown), opened by 192.168.1.128: 30 with the key-exchange
        // shape, and 16 unanswered Ya+PadA runs whose responder endpoint MSECorroboration knows as a
        // BitTorrent peer (MSEShapeDetector.labellingEvidence: one step, labelled only when corroborated).
        let encrypted = out.flows.filter { $0.label == "bittorrent-encrypted" }
        #expect(encrypted.count == 46)
        #expect(encrypted.allSatisfy { $0.srcIP.description == "192.168.1.128" && $0.proto == .tcp })
        // A torrent is named only from the responder endpoint's one torrent, and said so.
        #expect(encrypted.allSatisfy { $0.infoHashes.isEmpty || ($0.infoHashes.map(\.hex) == [h] && $0.encryptedBy?.contains("infohash_of_responder_endpoint") == true) })
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TORSCAN_FILE"] != nil))
    func printFile() throws {
        let out = try analyze([URL(fileURLWithPath: ProcessInfo.processInfo.environment["TORSCAN_FILE"]!)])
        for r in out.evidence { print("EV", r.ip, r.infoHash, r.confidence, r.signals.sorted().map(\.rawValue).joined(separator: ";"), r.firstFrame.frame, r.flows, r.peers, r.bytesUp, r.bytesDown, r.piecesUp, r.piecesDown, r.client ?? "-") }
        for f in out.flows { print("FL", f.proto, f.srcIP, f.srcPort, f.dstIP, f.dstPort, f.firstFrame.frame, f.packets, f.bytes, f.label, f.infoHashes.map(\.hex), f.tunnel ?? "-", f.tunnelTarget ?? "-", f.client ?? "-") }
        print("AN", out.anomalies.sorted { $0.key < $1.key })
    }
}
