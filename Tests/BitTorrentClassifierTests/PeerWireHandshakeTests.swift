import Testing
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct PeerWireHandshakeTests {
    // bittorrent.pcap frame 4: "82.57.97.83 → 192.168.1.3 BitTorrent 178 Handshake" (µTorrent 3.4.5),
    // followed in the same segment by the start of an extended handshake.
    static let frame4 = hexBytes("""
        13426974546f7272656e742070726f746f636f6c0000000000100005dcfcdccfb9e670ccc3dd40c78c161f2b
        ea2431262d5554333435302df0a2b9cdc78ab49e5d5792a4000000e7140064313a65693065343a69707634343a
        5239615331323a636f6d706c6574655f61676f69336531
        """)

    @Test func parsesRealHandshake() throws {
        let r = withBytes(Self.frame4) { PeerWireHandshake.parse($0) }
        guard case .match(let h) = r else { Issue.record("no match: \(r)"); return }
        #expect(h.infoHash.hex == "dcfcdccfb9e670ccc3dd40c78c161f2bea243126")
        #expect(h.peerID.hex == "2d5554333435302df0a2b9cdc78ab49e5d5792a4")
        #expect(h.reserved == 0x0000_0000_0010_0005)
        #expect(h.supportsExtensionProtocol && h.supportsDHT && h.supportsFast && !h.supportsV2)
        #expect(ClientIdentifier.identify(h.peerID)?.description == "µTorrent 3.4.5")
    }

    @Test func truncationSweepGivesNeedMoreNeverAValue() {
        for n in 0..<68 {
            let r = withBytes(Array(Self.frame4.prefix(n))) { PeerWireHandshake.parse($0) }
            #expect(r == .needMore, "prefix \(n)")
        }
    }

    @Test(arguments: [
        "\u{13}BitTorrent protocoX",        // last character wrong
        "\u{12}BitTorrent protocol",        // wrong length byte
        "\u{13}bittorrent protocol",        // case matters
        "\u{0e}Swarm protocol",              // Windows Delivery Optimization's handshake
        "GET /announce?info_hash=",
    ])
    func nearMissesDoNotMatch(_ prefix: String) {
        let bytes = Array(prefix.utf8) + Array(Self.frame4.dropFirst(20))
        #expect(withBytes(bytes) { PeerWireHandshake.parse($0) } == .noMatch)
    }

    @Test func handshakeSplitOverSegmentsInStream() {
        for split in [1, 7, 19, 20, 27, 28, 47, 48, 67] {
            var s = PeerWireStream()
            var sink = RecordingSink()
            withBytes(Array(Self.frame4.prefix(split))) { _ = s.consume($0, sink: &sink) }
            #expect(sink.handshakes.isEmpty)
            withBytes(Array(Self.frame4.dropFirst(split))) { _ = s.consume($0, sink: &sink) }
            #expect(sink.handshakes.first?.infoHash.hex == "dcfcdccfb9e670ccc3dd40c78c161f2bea243126", "split \(split)")
            #expect(s.phase == .messages)
        }
    }
}
