import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct UTPTests {
    // bittorrent_utp.pcap (tshark --enable-heuristic bt_utp_udp), 64969 = initiator, 40959 = responder:
    // frame 3 "ST_SYN conn 21250 seq 59381", frame 4 "ST_STATE conn 21250 seq 18887 ack 59381" (extension 2, len 8),
    // frame 5 "ST_DATA conn 21251 seq 59382" carrying the initiator's handshake (libtorrent 1.1.0),
    // frame 6 "ST_DATA conn 21250 seq 18887" carrying the responder's handshake (µTorrent 1.8.6).
    static let syn = hexBytes("4100530210eeb2f00000000000000000e7f50000")
    static let state = hexBytes("2102530206ff3f5f7fffffff0000f00049c7e7f500080000000000000000")
    static let data5 = hexBytes("""
        0100530310f0687609f1291700100000e7f649c613426974546f7272656e742070726f746f636f6c00000000001800050ca4c8e7fb26a354b1a7aa15baea
        f26067c668112d4c54313130302d31466135333152744c757677
        """)
    static let data6 = hexBytes("""
        01005302070107e7f6109f290000ef8649c7e7f613426974546f7272656e742070726f746f636f6c00000000001000050ca4c8e7fb26a354b1a7aa15baea
        f26067c668112d554d313836302d418e52a13ddf1c98a733d923
        """)
    static let infoHash = "0ca4c8e7fb26a354b1a7aa15baeaf26067c66811"

    @Test func parsesHeaders() {
        let h = withBytes(Self.syn) { UTPHeader.parse($0) }
        #expect(h == UTPHeader(type: .syn, connectionID: 21250, sequenceNumber: 59381, ackNumber: 0, payloadOffset: 20))
        let s = withBytes(Self.state) { UTPHeader.parse($0) }
        #expect(s == UTPHeader(type: .state, connectionID: 21250, sequenceNumber: 18887, ackNumber: 59381, payloadOffset: 30))
        let d = withBytes(Self.data5) { UTPHeader.parse($0) }
        #expect(d?.type == .data && d?.connectionID == 21251 && d?.sequenceNumber == 59382 && d?.payloadOffset == 20)
    }

    @Test func truncationSweep() {
        for v in [Self.syn, Self.state, Self.data5] {
            for n in 0..<v.count {
                let h = withBytes(Array(v.prefix(n))) { UTPHeader.parse($0) }
                // A DATA prefix beyond the header is still a (shorter) DATA packet; nothing else parses.
                if n > 20 && v == Self.data5 { #expect(h?.sequenceNumber == 59382) } else { #expect(h == nil, "prefix \(n)") }
            }
        }
    }

    @Test(arguments: [
        "4200530210eeb2f00000000000000000e7f50000",          // version 2
        "5100530210eeb2f00000000000000000e7f50000",          // type 5
        "4107530210eeb2f00000000000000000e7f50000",          // unknown extension type
        "2101530206ff3f5f7fffffff0000f00049c7e7f500030000",  // selective ack of 3 bytes
        "2102530206ff3f5f7fffffff0000f00049c7e7f5020800000000000000000208",  // chain runs off the end
        "4100530210eeb2f00000000000000000e7f50000ff",        // SYN with payload
        "0100530310f0687609f1291700100000e7f649c6",          // DATA without payload
    ])
    func rejectsNearMisses(_ hex: String) {
        #expect(withBytes(hexBytes(hex)) { UTPHeader.parse($0) } == nil)
    }

    @Test func flowGivesBothHandshakes() {
        var f = UDPFlowClassifier()
        var sink = RecordingSink()
        for (d, fromInitiator) in [(Self.syn, true), (Self.state, false), (Self.data5, true), (Self.data6, false)] {
            withBytes(d) { f.consume($0, fromInitiator: fromInitiator, sink: &sink) }
        }
        #expect(f.label == .utp)
        let types = sink.events.compactMap { if case .utp(let h) = $0 { h.type } else { nil } }
        #expect(types == [.syn, .state, .data, .data])
        #expect(sink.handshakes.map(\.infoHash.hex) == [Self.infoHash, Self.infoHash])
        #expect(sink.handshakes.map { ClientIdentifier.identify($0.peerID)?.name } == ["libtorrent", "µTorrent Mac"])
    }

    @Test func oneHeaderOrUnansweredSYNIsNotUTP() {
        var f = UDPFlowClassifier()
        var sink = RecordingSink()
        withBytes(Self.syn) { f.consume($0, fromInitiator: true, sink: &sink) }
        withBytes(Self.syn) { f.consume($0, fromInitiator: true, sink: &sink) }
        #expect(f.label == .undecided && sink.events.isEmpty)
        // A reply whose connection id does not match the SYN's.
        var state = Self.state
        state[3] ^= 0x55
        withBytes(state) { f.consume($0, fromInitiator: false, sink: &sink) }
        #expect(f.label != .utp && sink.events.isEmpty)
    }

    @Test func reordersDuplicatesAndWraps() {
        // Handshake split into three DATA packets around the seq_nr wrap, delivered 3,1,1(dup),2.
        let hs = Array(Self.data5.dropFirst(20))
        let parts = [Array(hs[0..<10]), Array(hs[10..<40]), Array(hs[40...])]
        func packet(_ seq: UInt16, _ payload: [UInt8]) -> [UInt8] {
            [0x01, 0, 0x53, 0x03] + [UInt8](repeating: 0, count: 12) + [UInt8(seq >> 8), UInt8(seq & 0xff), 0, 0] + payload
        }
        var s = UTPStream()
        s.expect(0xffff)
        var sink = RecordingSink()
        for (seq, p) in [(UInt16(1), parts[2]), (0xffff, parts[0]), (0xffff, parts[0]), (0, parts[1])] {
            let d = packet(seq, p)
            withBytes(d) { b in
                let h = UTPHeader.parse(b)!
                s.receiveData(seq: h.sequenceNumber, payload: b.slice(h.payloadOffset, b.count - h.payloadOffset), sink: &sink)
            }
        }
        #expect(sink.handshakes.map(\.infoHash.hex) == [Self.infoHash])
        #expect(s.expected == 2 && s.droppedDuplicates == 1)
    }

    @Test func realCaptureGivesTheInfohashTsharkGives() throws {
        guard let f = Corpus.file("bittorrent/bittorrent_utp.pcap") else { print("skipped: corpus absent"); return }
        let ws = Set(Corpus.fields(f, filter: "bittorrent.info_hash", fields: ["bittorrent.info_hash"], extra: ["--enable-heuristic", "bt_utp_udp"]).flatMap { $0 })
        let found = Set(classifyUDP(f).flatMap { $0.value.handshakes.map(\.infoHash.hex) })
        #expect(!ws.isEmpty && ws.isSubset(of: found), "tshark \(ws) torscan \(found)")
    }
}

/// Runs every UDP datagram of a capture through one UDPFlowClassifier per 5-tuple.
func classifyUDP(_ file: URL) -> [String: (label: UDPFlowLabel, sink: RecordingSink, handshakes: [PeerWireHandshake])] {
    let rows = Corpus.fields(file, filter: "udp && udp.payload", fields: ["ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst", "udp.dstport", "udp.payload"])
    var flows: [String: (UDPFlowClassifier, RecordingSink, String)] = [:]
    for r in rows where r.count == 7 {
        let a = "\(r[0])\(r[1]):\(r[2])", b = "\(r[3])\(r[4]):\(r[5])"
        let key = a < b ? "\(a)-\(b)" : "\(b)-\(a)"
        var entry = flows[key] ?? (UDPFlowClassifier(), RecordingSink(), a)
        let fromInitiator = entry.2 == a
        fastHex(r[6]).withUnsafeBytes { entry.0.consume($0, fromInitiator: fromInitiator, sink: &entry.1) }
        flows[key] = entry
    }
    return flows.mapValues { ($0.0.label, $0.1, $0.1.handshakes) }
}

@Suite struct UTPStreamOverflowTests {
    @Test func overflowGivesUpTheMissingPacketAndLosesSync() {
        var s = UTPStream()
        var sink = RecordingSink()
        s.expect(100)
        let payload = [UInt8](repeating: 0, count: 10)
        // seq 100 never arrives; 101... fill the buffer, then one more forces the jump.
        for seq in 101...(101 + UInt16(UTPStream.maxOutOfOrderPackets)) {
            payload.withUnsafeBytes { s.receiveData(seq: seq, payload: $0, sink: &sink) }
        }
        #expect(sink.malformed == [.utpReorderOverflow])
        #expect(s.expected == 101 + UInt16(UTPStream.maxOutOfOrderPackets) + 1)
        #expect(s.wire.phase == .lostSync)
    }
}
