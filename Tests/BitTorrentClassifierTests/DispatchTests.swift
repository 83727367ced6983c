import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

func classifyTCP(_ bytes: [UInt8], chunk: Int = 1460) -> (TCPStreamClassifier, RecordingSink) {
    var c = TCPStreamClassifier()
    var sink = RecordingSink()
    var i = 0
    while i < bytes.count, c.wantsBytes {
        let n = min(chunk, bytes.count - i)
        bytes[i..<(i + n)].withUnsafeBytes { c.consume($0, sink: &sink) }
        i += n
    }
    return (c, sink)
}

@Suite struct TCPStreamClassifierTests {
    @Test func handshakeDecidesPeerWire() {
        let bytes = PeerWireHandshakeTests.frame4
        var c = TCPStreamClassifier()
        var sink = RecordingSink()
        withBytes(Array(bytes.prefix(30))) { c.consume($0, sink: &sink) }
        #expect(c.state == .undecided && c.wantsBytes)
        withBytes(Array(bytes.dropFirst(30))) { c.consume($0, sink: &sink) }
        #expect(c.state == .peerWire && sink.handshakes.count == 1)
    }

    @Test func nearMissHandshakeIsOther() {
        var bytes = PeerWireHandshakeTests.frame4
        bytes[19] = UInt8(ascii: "X")   // "\x13BitTorrent protocoX"
        let (c, sink) = classifyTCP(bytes)
        #expect(c.state == .other && !c.wantsBytes && sink.events.isEmpty)
    }

    @Test func deliveryOptimizationLookAlikeIsNotPeerWire() {
        // Windows Delivery Optimization frames its messages like BitTorrent ("\x0eSwarm protocol"
        // handshake, then length-prefixed messages): a run of request look-alikes alone must not match.
        var bytes = Array("\u{0e}Swarm protocol".utf8) + [UInt8](repeating: 0, count: 8 + 40)
        for i in 0..<200 { bytes += message(6, be32(UInt32(i)) + be32(0) + be32(0x4000)) }
        let (c, sink) = classifyTCP(bytes)
        #expect(c.state != .peerWire && sink.events.isEmpty)
    }

    @Test func randomBytesAreOther() {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<(TCPStreamClassifier.maxUndecidedBytes + 5000)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let (c, sink) = classifyTCP(bytes)
        #expect(c.state == .other && !c.wantsBytes && sink.handshakes.isEmpty)
    }

    @Test func midStreamStartAndResyncAfterGap() throws {
        guard let f = Corpus.file("bittorrent/BittorrentReconstituter_lookaway.pcap"), let (a, b) = Corpus.tcpStream(f, stream: 1) else {
            print("skipped: corpus absent"); return
        }
        let uploader = a.count > b.count ? a : b
        // Start 100 000 bytes in (inside a piece): recognised from the messages, no infohash claimed.
        let (c, sink) = classifyTCP(Array(uploader.dropFirst(100_000)))
        #expect(c.state == .peerWire && c.wantsBytes && sink.handshakes.isEmpty)
        #expect(sink.messageIDs.filter { $0 == 7 }.count > 20 && sink.malformed.isEmpty)
        // From the start, then 40 000 bytes (two or more messages) lost across message boundaries: framing is found again.
        var d = TCPStreamClassifier()
        var s2 = RecordingSink()
        var fedUpTo = 0
        for start in stride(from: 0, to: uploader.count, by: 1460) where start < 200_000 || start >= 240_000 {
            if start > fedUpTo { d.gap(start - fedUpTo) }
            let end = min(start + 1460, uploader.count)
            uploader[start..<end].withUnsafeBytes { d.consume($0, sink: &s2) }
            fedUpTo = end
        }
        #expect(d.state == .peerWire && s2.handshakes.count == 1)
        let (_, whole) = classifyTCP(uploader)
        let piecesWhole = whole.messageIDs.filter { $0 == 7 }.count, piecesGap = s2.messageIDs.filter { $0 == 7 }.count
        #expect(piecesGap < piecesWhole && piecesGap > piecesWhole - 12)
    }

    // BittorrentReconstituter_codemonkey.pcap TCP stream 1, 10.0.0.2:52833 → 10.0.0.3:58238: the capture
    // lost segments (tshark "previous segment not captured"); framing survives or is found again.
    @Test func realCaptureHolesAreBridged() throws {
        guard let f = Corpus.file("bittorrent/BittorrentReconstituter_codemonkey.pcap") else { print("skipped: corpus absent"); return }
        let runs = Corpus.tcpRunsWithGaps(f, stream: 1)
        #expect(runs.count > 2)
        var c = TCPStreamClassifier()
        var sink = RecordingSink()
        for run in runs {
            c.gap(run.gapBefore)
            for start in stride(from: 0, to: run.bytes.count, by: 1460) {
                run.bytes[start..<min(start + 1460, run.bytes.count)].withUnsafeBytes { c.consume($0, sink: &sink) }
            }
        }
        #expect(c.state == .peerWire && c.wantsBytes && sink.handshakes.count == 1)
        // At least the piece messages tshark decodes in this direction (38: it stops at each hole too).
        let tsharkPieces = Corpus.fields(f, filter: "tcp.stream==1 && tcp.srcport==52833", fields: ["bittorrent.msg.type"])
            .flatMap { $0.flatMap { $0.split(separator: ",") } }.filter { $0 == "7" }.count
        let ours = sink.messageIDs.filter { $0 == 7 }.count
        #expect(tsharkPieces > 30 && ours >= tsharkPieces, "tshark \(tsharkPieces) torscan \(ours)")
    }
}

@Suite struct NegativeCorpusTests {
    /// Every UDP payload (grouped by 5-tuple, through UDPFlowClassifier) and every TCP stream
    /// direction (through TCPStreamClassifier) of every negative capture: no BitTorrent label, no
    /// event. One tshark pass per capture.
    @Test func noFlowIsLabelledBitTorrent() throws {
        guard let root = Corpus.root, Corpus.tsharkPath != nil else { print("skipped: corpus or tshark absent"); return }
        var udpFlows = 0, tcpDirections = 0
        for file in TestPaths.files(under: root.appendingPathComponent("negative")) where Self.isCapture(file) {
            let name = file.lastPathComponent
            let rows = Corpus.fields(file, filter: "udp.payload || tcp.len>0", fields: [
                "ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst", "udp.dstport", "udp.payload", "tcp.stream", "tcp.srcport", "tcp.payload"])
            var udp: [String: (UDPFlowClassifier, RecordingSink, String)] = [:]
            var tcp: [String: (TCPStreamClassifier, RecordingSink)] = [:]
            for r in rows where r.count == 10 {
                if !r[6].isEmpty && r[2].count > 0 {
                    let a = "\(r[0])\(r[1]):\(r[2])", b = "\(r[3])\(r[4]):\(r[5])"
                    let key = a < b ? "\(a)-\(b)" : "\(b)-\(a)"
                    var e = udp[key] ?? (UDPFlowClassifier(), RecordingSink(), a)
                    let fromInitiator = e.2 == a
                    fastHex(r[6]).withUnsafeBytes { e.0.consume($0, fromInitiator: fromInitiator, sink: &e.1) }
                    udp[key] = e
                } else if !r[9].isEmpty {
                    let key = "\(r[7])/\(r[8])"
                    var e = tcp[key] ?? (TCPStreamClassifier(), RecordingSink())
                    if e.0.wantsBytes { fastHex(r[9]).withUnsafeBytes { e.0.consume($0, sink: &e.1) } }
                    tcp[key] = e
                }
            }
            for (key, f) in udp {
                udpFlows += 1
                #expect((f.0.label == .other || f.0.label == .undecided) && f.1.events.isEmpty, "\(name) udp \(key): \(f.0.label) \(f.1.events.prefix(3))")
            }
            for (key, d) in tcp {
                tcpDirections += 1
                #expect(d.0.state != .peerWire && d.1.events.isEmpty, "\(name) tcp \(key): \(d.1.events.prefix(3))")
            }
        }
        #expect(udpFlows > 100 && tcpDirections > 100)
    }

    static func isCapture(_ u: URL) -> Bool {
        let n = u.lastPathComponent
        return (n.hasSuffix(".pcap") || n.hasSuffix(".pcapng") || n.hasSuffix(".cap")) && !n.contains(".expected")
    }
}

@Suite struct PreambleTests {
    @Test func handshakeAfterAPreambleIsFound() {
        let preamble: [UInt8] = (0..<600).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        var c = TCPStreamClassifier()
        var sink = RecordingSink()
        withBytes(preamble) { c.consume($0, sink: &sink) }
        #expect(c.state == .undecided)
        withBytes(Array(preamble.prefix(40)) + PeerWireHandshakeTests.frame4) { c.consume($0, sink: &sink) }
        #expect(c.state == .peerWire && sink.handshakes.map(\.infoHash.hex) == ["dcfcdccfb9e670ccc3dd40c78c161f2bea243126"])
    }
}
