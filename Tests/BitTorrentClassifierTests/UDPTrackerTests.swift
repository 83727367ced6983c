import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct UDPTrackerTests {
    // small_torrent_mse.pcap, 192.168.0.102:36360 ⇄ 94.23.183.33:6969:
    // frame 166 "UDP 36360 → 6969 Len=16" connect request, 173 connect response,
    // 174 "Len=98" announce request (event 2 started, port 0x8e08), 182 announce response with 6 peers,
    // 183 "Len=36" scrape request, 189 scrape response.
    static let connect = hexBytes("00000417271019800000000069bc5c82")
    static let connectResponse = hexBytes("0000000069bc5c82abf5e1e2478d0a76")
    static let announce = hexBytes("""
        abf5e1e2478d0a760000000100000000dbfc0ce745b4c9fb92003323d67ec3987148218c2d4254373939302d6fa6d329c4f09d71210f3171
        000000000000000000000000000040000000000000000000000000020000000062b29938ffffffff8e08
        """)
    static let announceResponse = hexBytes("0000000100000000000006c60000000100000005d98160688e08c857acbec8d5b185a08cd7c282e1f77dbdad6c3d0d2ee30d026e08551ae1")
    static let scrape = hexBytes("abf5e1e2478d0a760000000269bc5c96dbfc0ce745b4c9fb92003323d67ec3987148218c")
    static let scrapeResponse = hexBytes("0000000269bc5c96000000050000001300000001")
    static let infoHash = "dbfc0ce745b4c9fb92003323d67ec3987148218c"

    @Test func parsesRequests() {
        #expect(withBytes(Self.connect) { UDPTracker.parseRequest($0) } == UDPTrackerMessage(action: .connectRequest, transactionID: 0x69bc5c82))
        let a = withBytes(Self.announce) { UDPTracker.parseRequest($0) }
        #expect(a?.action == .announceRequest && a?.transactionID == 0)
        #expect(a?.infoHashes.map(\.hex) == [Self.infoHash])
        #expect(a?.peerID.flatMap { ClientIdentifier.identify($0) }?.name == "BitTorrent")
        #expect(a?.event == 2 && a?.port == 0x8e08 && a?.left == 0x4000 && a?.downloaded == 0 && a?.uploaded == 0)
        let s = withBytes(Self.scrape) { UDPTracker.parseRequest($0) }
        #expect(s?.action == .scrapeRequest && s?.infoHashes.map(\.hex) == [Self.infoHash])
    }

    @Test func parsesResponses() {
        #expect(withBytes(Self.connectResponse) { UDPTracker.parseResponse($0, ipv6: false) }?.action == .connectResponse)
        #expect(withBytes(Self.announceResponse) { UDPTracker.parseResponse($0, ipv6: false) }?.peersReturned == 6)
        // 36 peer bytes are also two 18-byte IPv6 entries: the address family must come from the flow.
        #expect(withBytes(Self.announceResponse) { UDPTracker.parseResponse($0, ipv6: true) }?.peersReturned == 2)
        #expect(withBytes(Self.scrapeResponse) { UDPTracker.parseResponse($0, ipv6: false) }?.action == .scrapeResponse)
    }

    @Test func truncationSweep() {
        for v in [Self.connect, Self.announce] {
            for n in 0..<v.count { #expect(withBytes(Array(v.prefix(n))) { UDPTracker.parseRequest($0) } == nil, "prefix \(n)") }
        }
        for n in 0..<Self.connectResponse.count {
            let r = withBytes(Array(Self.connectResponse.prefix(n))) { UDPTracker.parseResponse($0, ipv6: false) }
            #expect(r == nil)
        }
    }

    @Test(arguments: [
        "00000417271019810000000069bc5c82",    // wrong magic
        "0000041727101980000000000069bc5c82",  // connect of 17 bytes
        "00000417271019800000000169bc5c82",    // magic with action 1 but 16 bytes
    ])
    func nearMisses(_ hex: String) {
        #expect(withBytes(hexBytes(hex)) { UDPTracker.parseRequest($0) } == nil)
    }

    @Test func announceResponseOfRequestSizeIsNotARequest() {
        // action 1, tx, interval, leechers 1, seeders 0, then 13 IPv4 peers: 98 bytes.
        let d: [UInt8] = [0, 0, 0, 1, 1, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 1, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 78)
        #expect(withBytes(d) { UDPTracker.parseRequest($0) } == nil)
        #expect(withBytes(d) { UDPTracker.parseResponse($0, ipv6: false) }?.peersReturned == 13)
    }

    @Test func announceWithBadEventIsNotAnnounce() {
        var a = Self.announce
        a[83] = 4
        #expect(withBytes(a) { UDPTracker.parseRequest($0) } == nil)
    }

    @Test func flowMatchesResponsesByTransaction() {
        var f = UDPFlowClassifier()
        var sink = RecordingSink()
        let seq: [([UInt8], Bool)] = [(Self.connect, true), (Self.connectResponse, false), (Self.announce, true),
                                     (Self.announceResponse, false), (Self.scrape, true), (Self.scrapeResponse, false)]
        for (d, i) in seq { withBytes(d) { f.consume($0, fromInitiator: i, sink: &sink) } }
        #expect(f.label == .udpTracker)
        let actions = sink.events.compactMap { if case .tracker(let m) = $0 { m.action } else { nil } }
        #expect(actions == [.connectRequest, .connectResponse, .announceRequest, .announceResponse, .scrapeRequest, .scrapeResponse])
    }

    @Test(arguments: ["bittorrent/small_torrent_mse.pcap", "bittorrent/vut-pds_small.pcap", "bittorrent/bittorrent_transmission.pcapng"])
    func realCapturesYieldTrackerAnnounces(_ path: String) {
        guard let f = Corpus.file(path) else { print("skipped: corpus absent"); return }
        let flows = classifyUDP(f)
        let trackers = flows.values.filter { $0.label == .udpTracker }
        #expect(!trackers.isEmpty)
        let announces = trackers.flatMap { $0.sink.events.compactMap { if case .tracker(let m) = $0, m.action == .announceRequest { m } else { nil } } }
        #expect(!announces.isEmpty && announces.allSatisfy { $0.infoHashes.count == 1 })
    }
}

@Suite struct LocalServiceDiscoveryTests {
    // bt_search.pcap frame 1: "→ 239.192.152.143 UDP 6771" BT-SEARCH, Port 61197, one upper-case infohash.
    static let frame1 = hexBytes("""
        42542d534541524348202a20485454502f312e310d0a486f73743a203233392e3139322e3135322e3134333a363737310d0a506f72743a20363131
        39370d0a496e666f686173683a20454434463130383545383835463938463941363942373045453839454239383842384644393131350d0a0d0a0d0a
        """)

    @Test func parsesRealAnnounce() {
        let r = withBytes(Self.frame1) { LocalServiceDiscovery.parse($0) }
        #expect(r == .match(LSDAnnounce(infoHashes: [InfoHash(hex: "ed4f1085e885f98f9a69b70ee89eb988b8fd9115")!], port: 61197, cookie: nil)))
    }

    @Test func multipleHashesCookieAndIPv6Host() {
        let text = "BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 6881\r\nInfohash: \(String(repeating: "ab", count: 20))\r\n"
            + "Infohash: \(String(repeating: "cd", count: 20))\r\ncookie: xyz\r\n\r\n\r\n"
        let r = withBytes(Array(text.utf8)) { LocalServiceDiscovery.parse($0) }
        guard case .match(let a) = r else { Issue.record("\(r)"); return }
        #expect(a.infoHashes.count == 2 && a.port == 6881 && a.cookie == "xyz")
    }

    @Test func truncationSweep() {
        for n in 0..<Self.frame1.count {
            let r = withBytes(Array(Self.frame1.prefix(n))) { LocalServiceDiscovery.parse($0) }
            // The announce is complete once the Infohash line ends; before that, no value.
            if case .match(let a) = r { #expect(a.infoHashes.first?.hex == "ed4f1085e885f98f9a69b70ee89eb988b8fd9115") }
        }
    }

    @Test(arguments: [
        "M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n\r\n",
        "BT-SEARCH * HTTP/1.1\r\nHost: 10.0.0.1:6771\r\nPort: 1\r\nInfohash: \(String(repeating: "ab", count: 20))\r\n\r\n",
        "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nInfohash: \(String(repeating: "ab", count: 20))\r\n\r\n",
    ])
    func nearMisses(_ text: String) {
        #expect(withBytes(Array(text.utf8)) { LocalServiceDiscovery.parse($0) } == .noMatch)
    }

    @Test func badInfohashIsNamed() {
        let text = "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 1\r\nInfohash: xyz\r\n\r\n"
        #expect(withBytes(Array(text.utf8)) { LocalServiceDiscovery.parse($0) } == .malformed(.lsdBadInfoHash))
    }

    @Test(arguments: ["bittorrent/bt_search.pcap", "bittorrent/vut-pds_small.pcap"])
    func realCapturesLabelLSD(_ path: String) {
        guard let f = Corpus.file(path) else { print("skipped: corpus absent"); return }
        let lsd = classifyUDP(f).values.filter { $0.label == .lsd }
        #expect(!lsd.isEmpty)
        #expect(lsd.allSatisfy { $0.sink.events.contains { if case .lsd = $0 { true } else { false } } })
    }
}
