import Crypto
import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// Extended-message payloads (the bytes after the extended id) from ../shared/corpus/public/bittorrent.
enum ExtensionVectors {
    // bittorrent.pcap frame 50: "192.168.1.3 → 82.58.216.115 BitTorrent 449 Extended  Have None  Port  Extended  Interested  Extended"
    // first message, extended id 0 (µTorrent Mac 1.8.6 handshake).
    static let utorrentHandshake = "64313a65693065343a69707634343a5237cd01343a6970763631363afe80000000000000c62c03fffe0649fe31323a636f6d706c6574655f61676f693165313a6d6431313a75706c6f61645f6f6e6c7969336531323a75745f686f6c6570756e636869346531313a75745f6d65746164617461693265363a75745f70657869316531323a75745f7265636f6d6d656e6469356531303a75745f636f6d6d656e746936656531333a6d657461646174615f73697a6569313930303965313a7069343039353965343a726571716932353565313a7631393ac2b5546f7272656e74204d616320312e382e36363a796f75726970343a523ad87365"
    // small_torrent_mse.pcap frame 382: "200.87.172.190 → 192.168.0.102 BitTorrent 230 Extended  Have All  Port  Extended"
    // first message (id 0, Transmission 2.84) and last message (id 1 = ut_pex, one added peer).
    static let transmissionHandshake = "64313a65693065313a6d6431313a75745f6d65746164617461693365363a75745f7065786931656531333a6d657461646174615f73697a656931373565313a7069353134313365343a72657171693531326531313a75706c6f61645f6f6e6c79693165313a7631373a5472616e736d697373696f6e20322e383465"
    static let transmissionPex = "64353a6164646564363ad98160688e08373a61646465642e66313a0065"
    // vut-pds_small.pcap frame 538: "192.168.38.130 → 185.203.56.27 BitTorrent 259 Extended" (qBittorrent 4.0.3 handshake)
    static let qbittorrentHandshake = "6431323a636f6d706c6574655f61676f693065313a6d6431313a6c745f646f6e746861766569376531303a73686172655f6d6f646569386531313a75706c6f61645f6f6e6c7969336531323a75745f686f6c6570756e636869346531313a75745f6d65746164617461693265363a75745f7065786931656531333a6d657461646174615f73697a656932333165313a70693839393965343a726571716935303065313a7631373a71426974746f7272656e742f342e302e33363a796f75726970343ab9cb381b65"
    // ppa1e_torrential-slowness.pcap frame 61: "74.57.96.48 → 192.168.0.193 BitTorrent 306 Extended" (ut_pex, id 1, 30 added peers)
    static let pex30 = "64353a61646465643138303ad890e46447c941175a06efaa56082d0cf714188da450e5021851c4cd8bb244c4a54a1ae1415d76c5c05b42cbd14b4e05dce9c698bf5418b3280b1ae147f6361c35ad471c4b5644ea185f28e36b3618af67631ae1432aa3a61ae118deb9b3ef62424379a31ae155354f881ae1598abc5679d44aecf9dc1ae1d31a3c7f1ae13f6e7d0d1ae14496da79c3594caecc86750a43a236291ae1d1a1c52a1ae14495be3a634a40e5b6421ae1459e779fb272520276182710373a61646465642e6633303a000000000000000000000000000000000000000000000000000000000000373a64726f70706564303a65"
    // bittorrent.pcap frame 24 (id 6) and frame 36 (id 6): ut_comment request and answer. They have `msg_type`
    // but no `piece`: not ut_metadata (the corpus SUMMARY counts them as ut_metadata; they are not).
    static let utCommentRequest = "64383a6d73675f74797065693065333a6e756d69323065363a66696c74657236343a0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000065"
    static let utCommentAnswer = "64383a6d73675f74797065693165383a636f6d6d656e74736c6565"
    // bittorrent.pcap frame 7 (id 3): upload_only, one raw byte.
    static let uploadOnly = "00"

    // The info dictionary of BittorrentReconstituter_test.txt.torrent (95 bytes, SHA-1 2a72ac0b...6bcd). No
    // capture holds a cleartext ut_metadata exchange, so the BEP 9 messages around it are built by hand.
    static let testTxtInfo = "64363a6c656e67746869353865343a6e616d65383a746573742e74787431323a7069656365206c656e67746869333237363865363a70696563657332303aadf071efd9af81e591336adc5c1d2f26d7e482de373a7072697661746569306565"
    static var metadataRequest: [UInt8] { Array(ascii: "d8:msg_typei0e5:piecei0ee") }
    static var metadataReject: [UInt8] { Array(ascii: "d8:msg_typei2e5:piecei0ee") }
    static var metadataData: [UInt8] { Array(ascii: "d8:msg_typei1e5:piecei0e10:total_sizei95ee") + hexBytes(testTxtInfo) }
}

@Suite struct ExtensionMessagesTests {
    func inspect(_ id: UInt8, _ payload: [UInt8]) -> (ProbeResult, CollectedEvents) {
        var sink = CollectedEvents()
        let r = withBencodeTestBytes(payload) { ExtensionMessages.inspect(extendedID: id, payload: $0, sink: &sink) }
        return (r, sink)
    }

    @Test func extendedHandshakes() throws {
        let (r, s) = inspect(0, hexBytes(ExtensionVectors.utorrentHandshake))
        #expect(r == .match)
        let h = try #require(s.handshakes.first)
        #expect(h.client == "µTorrent Mac 1.8.6" && h.listenPort == 40959 && h.metadataSize == 19009 && h.requestQueue == 255)
        #expect(h.yourIP == [82, 58, 216, 115])
        #expect(h.messageIDs == ["upload_only": 3, "ut_holepunch": 4, "ut_metadata": 2, "ut_pex": 1, "ut_recommend": 5, "ut_comment": 6])

        let t = try #require(inspect(0, hexBytes(ExtensionVectors.transmissionHandshake)).1.handshakes.first)
        #expect(t.client == "Transmission 2.84" && t.listenPort == 51413 && t.metadataSize == 175 && t.requestQueue == 512)
        #expect(t.yourIP == nil && t.messageIDs == ["ut_metadata": 3, "ut_pex": 1])

        let q = try #require(inspect(0, hexBytes(ExtensionVectors.qbittorrentHandshake)).1.handshakes.first)
        #expect(q.client == "qBittorrent/4.0.3" && q.listenPort == 8999 && q.metadataSize == 231)
        #expect(q.yourIP == [185, 203, 56, 27] && q.messageIDs["lt_donthave"] == 7)
    }

    @Test func peerExchange() throws {
        let (r, s) = inspect(1, hexBytes(ExtensionVectors.transmissionPex))
        #expect(r == .match)
        let p = try #require(s.pex.first)
        #expect(p.added == [PeerEndpoint(address: [217, 129, 96, 104], port: 36360)] && p.dropped.isEmpty)
        let thirty = try #require(inspect(7, hexBytes(ExtensionVectors.pex30)).1.pex.first)
        #expect(thirty.added.count == 30 && thirty.dropped.isEmpty)
        #expect(thirty.added.first == PeerEndpoint(address: [216, 144, 228, 100], port: 18377))
        // IPv6 and dropped lists; a length that is not a multiple of the entry size is an anomaly.
        let v6 = Array(ascii: "d6:added618:") + [UInt8](repeating: 0x20, count: 16) + [0x1a, 0xe1] + Array(ascii: "7:dropped6:") + [10, 0, 0, 1, 0, 80] + Array(ascii: "e")
        let both = try #require(inspect(2, v6).1.pex.first)
        #expect(both.added.first?.address.count == 16 && both.added.first?.port == 6881)
        #expect(both.dropped == [PeerEndpoint(address: [10, 0, 0, 1], port: 80)])
        let (bad, badSink) = inspect(1, Array(ascii: "d5:added5:abcdee"))
        #expect(bad == .noMatch && badSink.anomalies == [.extensionBadBencode] && badSink.pex.isEmpty)
    }

    @Test func metadataExchangeAssemblesTheInfoDictionary() throws {
        let (rq, sq) = inspect(3, ExtensionVectors.metadataRequest)
        #expect(rq == .match)
        guard case .metadataRequest(piece: 0)? = sq.events.first else { Issue.record("no request"); return }
        guard case .metadataReject(piece: 0)? = inspect(3, ExtensionVectors.metadataReject).1.events.first else { Issue.record("no reject"); return }

        let (rd, sd) = inspect(3, ExtensionVectors.metadataData)
        #expect(rd == .match)
        let piece = try #require(sd.metadataPieces.first)
        #expect(piece.piece == 0 && piece.totalSize == 95 && piece.bytes == hexBytes(ExtensionVectors.testTxtInfo))

        var assembler = MetadataAssembler()
        let added = piece.bytes.withUnsafeBytes { assembler.add(piece: piece.piece, totalSize: piece.totalSize, bytes: $0) }
        #expect(added == .complete)
        let info = try #require(assembler.completeInfo)
        #expect(Insecure.SHA1.hash(data: info).map { $0 } == hexBytes("2a72ac0b7b1e62e0d4f6ac9ec997138e1d636bcd"))
        let parsed = try info.withUnsafeBytes { try TorrentInfo(infoDictionary: $0) }
        #expect(parsed.name == "test.txt" && parsed.totalLength == 58 && parsed.pieceCount == 1)
    }

    @Test func metadataDataWithWrongLengthIsAnAnomaly() {
        var short = ExtensionVectors.metadataData
        short.removeLast()
        let (r, s) = inspect(3, short)
        #expect(r == .noMatch && s.anomalies == [.metadataBadPiece] && s.metadataPieces.isEmpty)
        let (r2, s2) = inspect(3, Array(ascii: "d8:msg_typei1e5:piecei5e10:total_sizei95eexx"))   // piece past the end
        #expect(r2 == .noMatch && s2.anomalies == [.metadataBadPiece])
    }

    @Test func assemblerCollectsBlocksInAnyOrder() {
        let total = 40_000
        let data = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        func block(_ i: Int) -> [UInt8] { Array(data[(i * 16_384)..<min(total, (i + 1) * 16_384)]) }
        var a = MetadataAssembler()
        #expect(block(2).withUnsafeBytes { a.add(piece: 2, totalSize: total, bytes: $0) } == .accepted)
        #expect(block(1).withUnsafeBytes { a.add(piece: 1, totalSize: 40_001, bytes: $0) } == .rejected)   // other total
        #expect(block(1).withUnsafeBytes { a.add(piece: 0, totalSize: total, bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(100))) } == .rejected)
        #expect(block(0).withUnsafeBytes { a.add(piece: 3, totalSize: total, bytes: $0) } == .rejected)   // out of range
        #expect(block(0).withUnsafeBytes { a.add(piece: 0, totalSize: total, bytes: $0) } == .accepted)
        #expect(a.completeInfo == nil)
        #expect(block(1).withUnsafeBytes { a.add(piece: 1, totalSize: total, bytes: $0) } == .complete)
        #expect(a.completeInfo == data)
        var big = MetadataAssembler()
        #expect(block(0).withUnsafeBytes { big.add(piece: 0, totalSize: UTMetadata.maximumMetadataSize + 1, bytes: $0) } == .rejected)
        a.reset()
        #expect(a.completeInfo == nil && a.totalSize == nil)
    }

    @Test func otherExtensionsAreNotMatched() {
        for (id, hex) in [(UInt8(6), ExtensionVectors.utCommentRequest), (6, ExtensionVectors.utCommentAnswer), (3, ExtensionVectors.uploadOnly)] {
            let (r, s) = inspect(id, hexBytes(hex))
            #expect(r == .noMatch && s.events.isEmpty, "\(hex.prefix(20))")
        }
        // A handshake that is not bencoded is an anomaly.
        let (r, s) = inspect(0, Array(ascii: "d1:v3:abc"))
        #expect(r == .noMatch && s.anomalies == [.extensionBadBencode])
    }

    /// Every strict prefix: never an event carrying a value (handshake, pex, piece).
    @Test func truncationSweep() {
        let positives: [(UInt8, [UInt8])] = [
            (0, hexBytes(ExtensionVectors.utorrentHandshake)), (0, hexBytes(ExtensionVectors.transmissionHandshake)),
            (0, hexBytes(ExtensionVectors.qbittorrentHandshake)), (1, hexBytes(ExtensionVectors.transmissionPex)),
            (1, hexBytes(ExtensionVectors.pex30)), (3, ExtensionVectors.metadataData), (3, ExtensionVectors.metadataRequest),
        ]
        for (id, payload) in positives {
            #expect(inspect(id, payload).0 == .match)
            for n in 0..<payload.count {
                let (r, s) = inspect(id, Array(payload.prefix(n)))
                #expect(r == .noMatch, "prefix \(n)")
                #expect(s.handshakes.isEmpty && s.pex.isEmpty && s.metadataPieces.isEmpty, "prefix \(n)")
            }
        }
    }
}
