import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// Builds one framed message: 4-byte length (id + body), id, body.
func message(_ id: UInt8, _ body: [UInt8] = []) -> [UInt8] {
    let n = UInt32(body.count + 1)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), id] + body
}
func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

func run(_ bytes: [UInt8], chunks: [Int] = [], expectHandshake: Bool = false) -> (PeerWireStream, RecordingSink) {
    var s = PeerWireStream(expectHandshake: expectHandshake)
    var sink = RecordingSink()
    var rest = bytes[...]
    var sizes = chunks.makeIterator()
    while !rest.isEmpty {
        let n = min(rest.count, sizes.next() ?? rest.count)
        Array(rest.prefix(n)).withUnsafeBytes { _ = s.consume($0, sink: &sink) }
        rest = rest.dropFirst(n)
    }
    return (s, sink)
}

@Suite struct PeerWireStreamTests {
    // Every message id of BEP 3, 5, 6, 10, 52 with its legal length.
    static let allMessages: [UInt8] =
        [0, 0, 0, 0] + message(0) + message(1) + message(2) + message(3) + message(4, be32(7))
        + message(5, [0xff, 0x80]) + message(6, be32(1) + be32(0x4000) + be32(0x4000))
        + message(7, be32(1) + be32(0x4000) + [1, 2, 3, 4, 5]) + message(8, be32(1) + be32(0) + be32(0x4000))
        + message(9, [0x1a, 0xe1]) + message(13, be32(3)) + message(14) + message(15)
        + message(16, be32(1) + be32(0) + be32(0x4000)) + message(17, be32(9))
        + message(20, [0] + Array("d1:v4:teste".utf8))
        + message(21, [UInt8](repeating: 0xaa, count: 48)) + message(22, [UInt8](repeating: 0xbb, count: 48 + 64))
        + message(23, [UInt8](repeating: 0xcc, count: 48))

    @Test func followsEveryMessageType() {
        let (s, sink) = run(Self.allMessages)
        #expect(sink.messageIDs == [255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 20, 21, 22, 23])
        #expect(sink.events.contains(.block(index: 1, begin: 0x4000, length: 5)))
        #expect(sink.pieceData == [1, 2, 3, 4, 5])
        #expect(sink.events.contains(.extended(id: 0, payload: Array("d1:v4:teste".utf8))))
        #expect(sink.malformed.isEmpty)
        #expect(s.phase == .messages && s.isAtMessageBoundary && s.messageCount == 20)
    }

    @Test func sameEventsForEveryChunking() {
        let (_, whole) = run(Self.allMessages)
        for size in [1, 2, 3, 5, 7, 13, 64] {
            let (s, sink) = run(Self.allMessages, chunks: Array(repeating: size, count: Self.allMessages.count))
            #expect(sink.events == whole.events && sink.pieceData == whole.pieceData && sink.pieceOffsetsContinuous, "chunk \(size)")
            #expect(s.isAtMessageBoundary)
        }
    }

    @Test func truncationSweepEmitsOnlyAPrefixOfTheEvents() {
        let (_, whole) = run(Self.allMessages)
        for n in 0...Self.allMessages.count {
            let (s, sink) = run(Array(Self.allMessages.prefix(n)))
            #expect(Array(whole.events.prefix(sink.events.count)) == sink.events, "prefix \(n)")
            #expect(s.phase == .messages)
        }
    }

    @Test(arguments: [
        (message(0, [0]), ClassifierAnomaly.peerWireBadLength),          // choke with a body
        (message(4, [0, 0, 1]), .peerWireBadLength),                     // short have
        (message(6, be32(0) + be32(0)), .peerWireBadLength),             // request of 9
        (message(7, be32(0) + be32(0)), .peerWireBadLength),             // piece without a block
        (message(9, [1]), .peerWireBadLength),                           // port of 2
        (message(22, [UInt8](repeating: 0, count: 50)), .peerWireBadLength),  // hashes not a multiple of 32
        (message(10), .peerWireUnknownMessage),
        (message(0x7f), .peerWireUnknownMessage),
        ([0x7f, 0xff, 0xff, 0xff, 7], .peerWireBadLength),               // absurd length
        (be32(UInt32(PeerWireFraming.maxPieceMessageLength + 1)) + [7], .peerWireBadLength),
    ])
    func badFramingFails(_ bytes: [UInt8], _ anomaly: ClassifierAnomaly) {
        let (s, sink) = run(message(2) + bytes + message(2))
        #expect(sink.malformed == [anomaly])
        #expect(sink.messageIDs == [2])
        #expect(s.phase == .failed)
    }

    @Test func pieceBytesPointIntoTheCallersBuffer() {
        let block = [UInt8](repeating: 0x5a, count: 16384)
        let msg = message(7, be32(2) + be32(0x8000) + block)
        struct PointerSink: ClassifierSink {
            var ranges: [(UnsafeRawPointer?, Int, UInt32)] = []
            mutating func receive(_ e: ClassifierEvent) {
                if case .pieceBytes(_, let off, let b) = e { ranges.append((b.baseAddress, b.count, off)) }
            }
        }
        var s = PeerWireStream(expectHandshake: false)
        var sink = PointerSink()
        msg.withUnsafeBytes { buf in
            _ = s.consume(buf.slice(0, 100), sink: &sink)
            _ = s.consume(buf.slice(100, buf.count - 100), sink: &sink)
            #expect(sink.ranges.count == 2)
            #expect(sink.ranges[0].0 == buf.baseAddress! + 13 && sink.ranges[0].1 == 87 && sink.ranges[0].2 == 0x8000)
            #expect(sink.ranges[1].0 == buf.baseAddress! + 100 && sink.ranges[1].2 == 0x8000 + 87)
        }
        #expect(s.pieceBytes == 16384 && s.isAtMessageBoundary)
    }

    @Test func extendedMessageSplitOrTooLarge() {
        let payload = [3] + [UInt8](repeating: 0x41, count: 3000)
        let (_, split) = run(message(20, payload) + message(2), chunks: [10, 1000, 1000])
        #expect(split.events == [.message(id: 20, length: 3002), .extended(id: 3, payload: Array(payload.dropFirst())), .message(id: 2, length: 1)])
        let big = [1] + [UInt8](repeating: 0, count: PeerWireStream.maxBufferedExtendedPayload + 1)
        let (s, skipped) = run(message(20, big) + message(1))
        #expect(skipped.events == [.message(id: 20, length: UInt32(big.count + 1)), .malformed(.peerWireExtendedTooLarge), .message(id: 1, length: 1)])
        #expect(s.phase == .messages)
    }

    @Test func gapInsidePieceKeepsFramingGapAtHeaderLosesIt() {
        let msg = message(7, be32(0) + be32(0) + [UInt8](repeating: 9, count: 1000)) + message(1)
        var s = PeerWireStream(expectHandshake: false)
        var sink = RecordingSink()
        msg.withUnsafeBytes { b in
            _ = s.consume(b.slice(0, 113), sink: &sink)   // header + 100 payload bytes
            s.gap(500)
            _ = s.consume(b.slice(613, b.count - 613), sink: &sink)
        }
        #expect(sink.messageIDs == [7, 1] && sink.pieceData.count == 500 && !sink.pieceOffsetsContinuous)
        #expect(s.phase == .messages)
        s.gap(2)
        #expect(s.phase == .lostSync)
        var t = PeerWireStream(expectHandshake: false)
        t.gap(1)
        #expect(t.phase == .lostSync)
    }

    // A real session: BittorrentReconstituter_test.txt.pcap TCP stream 1 (frames 14-28: handshakes,
    // extended handshakes, bitfield, have, interested, unchoke, request, piece split over frames 26/28).
    @Test func realStreamAnyChunkingSameEventsAsTshark() throws {
        guard let f = Corpus.file("bittorrent/BittorrentReconstituter_test.txt.pcap"), let (client, server) = Corpus.tcpStream(f, stream: 1) else {
            print("skipped: ../shared corpus or tshark absent"); return
        }
        let (_, c) = run(client, expectHandshake: true)
        let (_, sv) = run(server, expectHandshake: true)
        #expect(c.handshakes.map(\.infoHash.hex) == ["2a72ac0b7b1e62e0d4f6ac9ec997138e1d636bcd"])
        #expect(ClientIdentifier.identify(c.handshakes[0].peerID)?.name == "libTorrent (rakshasa)")
        #expect(ClientIdentifier.identify(sv.handshakes[0].peerID)?.description == "Deluge 1.1.9")
        // tshark: 39520 sends extended, interested, request; 52833 extended, bitfield, have, unchoke, piece.
        #expect(c.messageIDs.filter { $0 != 255 } == [20, 2, 6])
        #expect(sv.messageIDs.filter { $0 != 255 } == [20, 5, 4, 1, 7])
        #expect(sv.pieceData.count == 0x3a && c.malformed.isEmpty && sv.malformed.isEmpty)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let chunks = (0..<server.count).map { _ in Int.random(in: 1...40, using: &rng) }
            let (_, r) = run(server, chunks: chunks, expectHandshake: true)
            #expect(r.events == sv.events && r.pieceData == sv.pieceData && r.pieceOffsetsContinuous)
        }
        for n in 0...server.count {
            let (_, r) = run(Array(server.prefix(n)), expectHandshake: true)
            #expect(Array(sv.events.prefix(r.events.count)) == r.events, "prefix \(n)")
        }
    }

    // BittorrentReconstituter_lookaway.pcap TCP stream 1, port 52833 side: a 1.9 MB upload in 16 KiB pieces, no capture holes.
    @Test func bigRealStreamRandomChunks() throws {
        guard let f = Corpus.file("bittorrent/BittorrentReconstituter_lookaway.pcap"), let (client, server) = Corpus.tcpStream(f, stream: 1) else {
            print("skipped: ../shared corpus or tshark absent"); return
        }
        let uploader = client.count > server.count ? client : server
        let (s, whole) = run(uploader, expectHandshake: true)
        #expect(whole.malformed.isEmpty && s.phase == .messages)
        #expect(whole.handshakes.count == 1)
        let pieces = whole.messageIDs.filter { $0 == 7 }.count
        #expect(pieces > 50)
        var rng = SystemRandomNumberGenerator()
        let chunks = (0..<uploader.count).map { _ in Int.random(in: 1...3000, using: &rng) }
        let (_, r) = run(uploader, chunks: chunks, expectHandshake: true)
        #expect(r.events == whole.events && r.pieceData == whole.pieceData && r.pieceOffsetsContinuous)
    }
}
