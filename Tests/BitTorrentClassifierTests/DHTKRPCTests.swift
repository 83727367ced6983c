import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// Real KRPC datagrams (UDP payloads) from ../shared/corpus/public/bittorrent, with tshark 4.0's summary.
enum DHTVectors {
    // bittorrent_transmission.pcapng frame 1: "192.168.1.128 → 176.44.120.66 BT-DHT 100 BitTorrent DHT Protocol" (ping query)
    static let ping = "64313a6164323a696432303a1677b40a03a51f3abea86a294d9f3f81aaf0f7fd65313a71343a70696e67313a74343a706e0000313a79313a7165"
    // bittorrent_transmission.pcapng frame 179: "191.231.241.32 → 192.168.1.128 BT-DHT 91 BitTorrent DHT Protocol" (ping response)
    static let pingResponse = "64313a7264323a696432303a0b238e9c2535ce9d0ba68a51d7518d5023f7c91565313a74343a706e0000313a79313a7265"
    // bittorrent_transmission.pcapng frame 12: "84.244.12.3 → 192.168.1.128 BT-DHT 122 BitTorrent DHT Protocol" (BEP 42 `ip` first)
    static let responseWithIP = "64323a6970363a5d2fe16dc30e313a7264323a696432303a1677bf605c1859c244aa3245cc2a0c0a72e5c1d0313a706934393933346565313a74343a706e0000313a76343a4c540100313a79313a7265"
    // small_torrent_mse.pcap frame 4: "192.168.0.102 → 173.52.246.19 BT-DHT 145 BitTorrent DHT Protocol" (find_node)
    static let findNode = "64313a6164323a696432303a73d24bd6ae529049f1f1bbe9ebb3a6db3c870ce1363a74617267657432303a73d35e4100005f6700005de900002d410000490865313a71393a66696e645f6e6f6465313a74343aa55e0000313a76343a5554a66f313a79313a7165"
    // bt-udp.pcap frame 2: "10.0.0.4 → 10.0.0.3 BT-DHT 329 BitTorrent DHT Protocol reply=8 nodes" (find_node response)
    static let findNodeResponse = "64313a7264323a696432303a70cad05c851b3f38f1c6cf3c6cc7fe128d512540323a6970343a40ec803e353a6e6f6465733230383a70cadaa455608c5d11c1eeb84e8b58cbb81fa36943be6765b73070cada6f30024ebebdb6279cdaab557c526e9170b46bd12bdbbc70cadc9b67c3923a99b8d6aa41768482f0c5e8b02ea6c2b71ae170cafb7cfa9431671e14415ec727155951ba1795783c88544c0270cafb7cf1f96643db36aefa7840265e6b209cd532048854f50970cafb7c2d013867db6f6b38695dbf39c6a6993d42bc48d4d0ab70cafb7c0c1796e211c6f322b8b3b2410240412db8044854397b70caed1ccd09cba97ccd8afa0998493a5023ad305692dc1858ba65313a74343a79696e2d313a76343a5554765f313a79313a7265"
    // vut-pds_small.pcap frame 60: "192.168.38.130 → 188.166.164.250 BT-DHT 146 BitTorrent DHT Protocol" (get_peers)
    static let getPeers = "64313a6164323a696432303af01c42cf59cd855fe8d21dac7eccb97519deee1b393a696e666f5f6861736832303af01c42cf59cd855fe8d21dacc2b3cbf6da00b70365313a71393a6765745f7065657273313a74323a3d92313a76343a4c540101313a79313a7165"
    // incc_torrent-dht.pcap frame 32: "123.243.194.161 → 192.168.1.10 BT-DHT 152 BitTorrent DHT Protocol reply=1 peers"
    static let getPeersValues = "64313a7264323a696432303a841944062ef3c488cabdc678968efa6b7267956c353a746f6b656e32303ab9f63322ce7c8090c86f4342dad1591d6558ee4f363a76616c7565736c31383a9451acea4a125effd9dbb000c34a4f694a126565313a74343abb020000313a79313a7265"
    // vut-pds_small.pcap frame 368: "92.60.40.236 → 192.168.38.130 BT-DHT 394 BitTorrent DHT Protocol reply=8 nodes reply=4 peers"
    static let getPeersNodesAndValues = "64323a6970363ad4049bd3f889313a7264323a696432303a8c2710ee3001832f357625b029122824cda86cdf353a6e6f6465733230383a8c271863adfbc0d711d65eb1a5f0ca7966a6020d520ba97e3e628c271d2035b8d7b4e4b11f7fd5272385cd5d67225eb29a7af38a8c2719cb2670702a77171990d69953327be7c00abc249cad8ece8c2717f5a912f5e482dce282b940d39411cfaae052831d3fb6608c2715ec6851212baf370b204c21ab89f1f38928bc25dbe8c07f8c2715818271a538cd9fa001544b0a1189be30d056035d3fc4918c27168a11ce7f8dda84bff4f2b439c53a076c4fa2daee3b05ef8c271747dd53534fb7363abba6c9ec23735bb3509a73dd3fdd66313a7069363336323565353a746f6b656e343a8312d2df363a76616c7565736c363a4cb644ee3a41363a4cb644ee4791363a6b86f5b1c8d5363ad4049bd323276565313a74323a2f90313a76343a4c54012e313a79313a7265"
    // small_torrent_mse.pcap frame 729: "192.168.0.102 → 116.14.113.89 BT-DHT 267 BitTorrent DHT Protocol" (announce_peer, implied_port)
    static let announceImplied = "64313a6164323a696432303a73d24bd6ae529049f1f1bbe9ebb3a6db3c870ce131323a696d706c6965645f706f7274693165393a696e666f5f6861736832303adbfc0ce745b4c9fb92003323d67ec3987148218c343a6e616d6534343a4a6574427261696e732050687053746f726d204c6963656e7365205365727665722041637469766174696f6e343a706f727469333633363065353a746f6b656e32303a1faab757f772bc92512f850361e08d2232f8be0565313a7131333a616e6e6f756e63655f70656572313a74343abd170000313a76343a5554a66f313a79313a7165"
    // incc_torrent-dht.pcap frame 8: "218.28.87.28 → 192.168.1.10 BT-DHT 193 BitTorrent DHT Protocol" (announce_peer, port 6881)
    static let announcePort = "64313a6164323a696432303a6853ba745d19fdbeeb28dce8eafe39655dc262cf393a696e666f5f6861736832303a61a572cc22e100f8383f50315dee291d657ca042343a706f7274693638383165353a746f6b656e32303aa183eeff2fd67433c451176a6d6b1ec4450deb1e65313a7131333a616e6e6f756e63655f70656572313a74323a038a313a76343a4c540109313a79313a7165"
    // lru_ipv6_caches.pcapng frame 36: "3991:72d:...:23de → 2fda:1f8a:...:f34c BT-DHT 166 BitTorrent DHT Protocol" (get_peers over IPv6)
    static let getPeersIPv6 = "64313a6164323a696432303ae55c5ba26538c3baec3a6397e92a5778b48fc2c6393a696e666f5f6861736832303ae55c57f1592e6e12dbe1b12a2e59083b225c394365313a71393a6765745f7065657273313a74323a7445313a76343a4c540102313a79313a7165"
    // targusdataspeed_false_positives.pcap frame 1: "10.0.2.15 → 79.164.55.123 BT-DHT 140 BitTorrent DHT Protocol" (find_node on port 5001, 8-byte t)
    static let findNodeTargus = "64313a6164323a696432303af60277019862c11c95bef4f300ef5056b7684a70363a74617267657432303af60277019862c11c95bef4f300ef5056b7684a7165313a71393a66696e645f6e6f6465313a74383a88d28dc3a109d050313a79313a7165"
    // suricata-verify_bittorrent-dht.pcap frame 4: "190.0.0.3 → 190.0.0.1 BT-DHT 93 BitTorrent DHT Protocolerror_no=201 error_msg=A Generic Error Ocurred"
    static let error201 = "64313a656c693230316532333a412047656e65726963204572726f72204f63757272656465313a74323a6161313a79313a6565"
    // bt-udp.pcap frame 3: "10.0.0.6 → 10.0.0.5 UDP 336 47061 → 20551 Len=294" (tshark does not call it DHT: it starts with
    // `d1:q`, and its `nodes` key is mangled to "nodes\0v"). It is a well-formed KRPC response with a stray `q`.
    static let unsortedResponse = "64313a71393a66696e645f6e6f6465313a7264323a696432303a490185250d558c60740521d22f6fae2e3f048f5b323a6970343a40ec802a373a6e6f64657300763230383a4901824481ae4f1e405146fcb3884f64b5bcded64fba7e43db234901080645816245420a7880925960a43e0ccbc55f3e01671ec94900cfa454689197e242f3c30e137d0e50ad0e270100ebe351864900d9b33aab40ac86f9212aa1c6bf6652a27632b51a0d767e8a490073f566c44268838ec49b346de5e4527adfc878c36b2905fd490df2b47ea74342b521fc0dad5750b152abf88eb6582a5468af493c65018f4c494a0353f41fe293afecbfd24dbc40ec802a96c24940b0fb99dd33b9e39962d976ee014c6f8c50d75403a22ff0e865313a74343acdc65548313a79313a7265"

    // BEP 51 sample_infohashes: no capture has one; built by hand from the BEP's message layout.
    static let sampleInfohashesQuery = Array(ascii: "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q17:sample_infohashes1:t2:aa1:y1:qe")
    static let sampleInfohashesResponse = Array(ascii: "d1:rd2:id20:0123456789abcdefghij8:intervali21600e5:nodes0:3:numi2e7:samples40:AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBe1:t2:aa1:y1:re")

    static var allPositives: [[UInt8]] {
        [ping, pingResponse, responseWithIP, findNode, findNodeResponse, getPeers, getPeersValues, getPeersNodesAndValues,
         announceImplied, announcePort, getPeersIPv6, findNodeTargus, error201, unsortedResponse].map { hexBytes($0) }
            + [sampleInfohashesQuery, sampleInfohashesResponse]
    }
}

@Suite struct DHTKRPCTests {
    func inspect(_ bytes: [UInt8]) -> (ProbeResult, CollectedEvents) {
        var sink = CollectedEvents()
        let r = withBencodeTestBytes(bytes) { DHTDetector.inspect($0, sink: &sink) }
        return (r, sink)
    }

    func message(_ hex: String) -> DHTMessage? {
        let (r, sink) = inspect(hexBytes(hex))
        #expect(r == .match)
        #expect(sink.dht.count == 1)
        return sink.dht.first
    }

    @Test func pingQueryAndResponse() throws {
        let q = try #require(message(DHTVectors.ping))
        #expect(q.kind == .query && q.method == "ping")
        #expect(q.transactionID == [0x70, 0x6e, 0, 0])
        #expect(q.nodeID == hexBytes("1677b40a03a51f3abea86a294d9f3f81aaf0f7fd"))
        #expect(q.clientVersion == nil && q.infoHash == nil)
        let r = try #require(message(DHTVectors.pingResponse))
        #expect(r.kind == .response && r.method == nil && r.transactionID == q.transactionID)
        let ip = try #require(message(DHTVectors.responseWithIP))
        #expect(ip.kind == .response && ip.clientVersion == Array(ascii: "LT") + [1, 0])
    }

    @Test func findNode() throws {
        let q = try #require(message(DHTVectors.findNode))
        #expect(q.method == "find_node" && q.target == hexBytes("73d35e4100005f6700005de900002d4100004908"))
        #expect(q.clientVersion == [0x55, 0x54, 0xa6, 0x6f])
        let r = try #require(message(DHTVectors.findNodeResponse))
        #expect(r.kind == .response && r.peersReturned == 0 && !r.hasToken)
        let t = try #require(message(DHTVectors.findNodeTargus))
        #expect(t.transactionID.count == 8)
    }

    @Test func getPeers() throws {
        let q = try #require(message(DHTVectors.getPeers))
        #expect(q.method == "get_peers" && q.infoHash?.hex == "f01c42cf59cd855fe8d21dacc2b3cbf6da00b703")
        #expect(q.nodeID?.prefix(2) == [0xf0, 0x1c])   // routing-table refresh: target shares the node id's prefix
        let v6 = try #require(message(DHTVectors.getPeersIPv6))
        #expect(v6.infoHash?.hex == "e55c57f1592e6e12dbe1b12a2e59083b225c3943")
        let one = try #require(message(DHTVectors.getPeersValues))
        #expect(one.peersReturned == 1 && one.hasToken)   // tshark: reply=1 peers (an 18-byte IPv6 value)
        let four = try #require(message(DHTVectors.getPeersNodesAndValues))
        #expect(four.peersReturned == 4 && four.hasToken)   // tshark: reply=8 nodes reply=4 peers
    }

    @Test func announcePeer() throws {
        let implied = try #require(message(DHTVectors.announceImplied))
        #expect(implied.method == "announce_peer" && implied.impliedPort && implied.port == 36360 && implied.hasToken)
        #expect(implied.infoHash?.hex == "dbfc0ce745b4c9fb92003323d67ec3987148218c")
        let port = try #require(message(DHTVectors.announcePort))
        #expect(!port.impliedPort && port.port == 6881)
        #expect(port.infoHash?.hex == "61a572cc22e100f8383f50315dee291d657ca042")
    }

    @Test func errorAndUnsortedAndSamples() throws {
        let e = try #require(message(DHTVectors.error201))
        #expect(e.kind == .error && e.errorCode == 201 && e.transactionID == Array(ascii: "aa"))
        let short = try #require(inspect(Array(ascii: "d1:eli204ee1:t1:x1:y1:ee")).1.dht.first)   // 25 bytes, code only
        #expect(short.kind == .error && short.errorCode == 204)
        let u = try #require(message(DHTVectors.unsortedResponse))
        #expect(u.kind == .response && u.nodeID?.count == 20)
        let (r, sink) = inspect(DHTVectors.sampleInfohashesQuery)
        #expect(r == .match && sink.dht.first?.method == "sample_infohashes" && sink.dht.first?.target?.count == 20)
        let (r2, sink2) = inspect(DHTVectors.sampleInfohashesResponse)
        #expect(r2 == .match && sink2.dht.first?.samplesReturned == 2)
    }

    @Test(arguments: [
        // Not bencoded / probe fails.
        ("random d1: datagram", "d1:xhello world, this is not a DHT datagram at all!!"),
        ("torrent-like dict", "d8:announce35:http://tracker.example.com/announce4:infod4:name1:xee"),
        // Bencoded, not KRPC: no `y`, or `y` not q/r/e.
        ("no y", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aae"),
        ("y is x", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:xe"),
        ("pex dict", "d5:added12:abcdefghijkl7:added.f2:\u{0}\u{0}7:dropped0:e"),
    ])
    func nearMissesAreNotDHT(name: String, text: String) {
        let (r, sink) = inspect(Array(ascii: text))
        #expect(r == .noMatch, "\(name)")
        #expect(sink.dht.isEmpty && sink.anomalies.isEmpty, "\(name)")
    }

    @Test(arguments: [
        ("id of 19 bytes", "d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", ClassifierAnomaly.dhtBadMessage),
        ("query without q", "d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe", .dhtBadMessage),
        ("response without id", "d1:rd5:token20:xxxxxxxxxxxxxxxxxxxxe1:t2:aa1:y1:r1:v4:UT01e", .dhtBadMessage),
        ("error without code", "d1:el23:A Generic Error Ocurrede1:t2:aa1:y1:ee", .dhtBadMessage),
        ("no t (suricata frame 15)", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe", .dhtBadMessage),
        ("trailing bytes", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qeXX", .dhtBadBencode),
        ("integer key", "d1:ad2:id20:abcdefghij0123456789i1e1:qe1:t2:aa1:y1:qe", .dhtBadBencode),
    ])
    func brokenKRPCIsAnAnomalyNotAMatch(name: String, text: String, anomaly: ClassifierAnomaly) {
        let (r, sink) = inspect(Array(ascii: text))
        #expect(r == .noMatch, "\(name)")
        #expect(sink.dht.isEmpty && sink.anomalies == [anomaly], "\(name)")
    }

    /// Every strict prefix of every positive: no match, no event (a truncated datagram is not a message).
    @Test func truncationSweep() {
        for v in DHTVectors.allPositives {
            #expect(inspect(v).0 == .match)
            for n in 0..<v.count {
                let (r, sink) = inspect(Array(v.prefix(n)))
                #expect(r == .noMatch && sink.dht.isEmpty, "prefix \(n) of \(v.count)")
            }
        }
    }

    /// One-byte corruptions never crash and never yield a node id or infohash of the wrong size.
    @Test func corruptionSweep() {
        for v in DHTVectors.allPositives {
            for i in 0..<v.count {
                for b: UInt8 in [0x00, 0x65, 0x64, 0x39, 0xff] {
                    var m = v
                    m[i] = b
                    let (r, sink) = inspect(m)
                    if r == .match {
                        #expect(sink.dht.count == 1)
                        #expect(sink.dht[0].nodeID == nil || sink.dht[0].nodeID?.count == 20)
                    }
                }
            }
        }
    }

    /// Every frame tshark dissects as BT-DHT in the BitTorrent captures is matched, except
    /// suricata-verify frame 15 (no `t`: broken KRPC). We also match bt-udp.pcap frame 3 (see vectors) and
    /// 8 vut-pds_small.pcap frames that tshark gives to other dissectors by port.
    @Test func bittorrentCorpusMatchesTshark() throws {
        guard let corpus = sharedPublicCorpus, Tshark.path != nil else {
            print("skipped: ../shared/corpus/public or tshark absent"); return
        }
        var matched = 0
        for file in TestPaths.files(under: corpus.appendingPathComponent("bittorrent")) where file.lastPathComponent.hasSuffix("cap") || file.pathExtension == "pcapng" {
            guard let tsharkDHT = Tshark.frames(file, filter: "bt-dht"), let payloads = Tshark.udpPayloads(file) else { continue }
            var ours = Set<Int>()
            for (frame, payload) in payloads where inspect(payload).0 == .match { ours.insert(frame) }
            matched += ours.count
            var expected = tsharkDHT
            if file.lastPathComponent == "suricata-verify_bittorrent-dht.pcap" { expected.remove(15) }
            #expect(expected.subtracting(ours).isEmpty, "\(file.lastPathComponent): tshark-only frames \(expected.subtracting(ours).sorted())")
            let extra = ours.subtracting(tsharkDHT)
            switch file.lastPathComponent {
            case "bt-udp.pcap": #expect(extra == [3])
            // tshark's port table hands these get_peers/responses to UAUDP and AX4000 dissectors.
            case "vut-pds_small.pcap": #expect(extra == [322, 348, 469, 495, 848, 870, 884, 905])
            default:
                #expect(extra.isEmpty, "\(file.lastPathComponent): frames only we call DHT \(extra.sorted().prefix(10))")
            }
        }
        #expect(matched > 1_000)
    }
}

@Suite struct DHTRoutingRefreshTests {
    func message(_ hex: String) -> DHTMessage? {
        var sink = CollectedEvents()
        _ = withBencodeTestBytes(hexBytes(hex)) { DHTDetector.inspect($0, sink: &sink) }
        return sink.dht.first
    }

    @Test func refreshLookupsAreRecognised() throws {
        let refresh = try #require(message(DHTVectors.getPeers))          // vut-pds_small.pcap frame 60
        #expect(refresh.sharedPrefixBitsWithNodeID == 96 && refresh.isLikelyRoutingRefresh)
        let ipv6 = try #require(message(DHTVectors.getPeersIPv6))         // lru_ipv6_caches.pcapng frame 36: e55c5b.. vs e55c57..
        #expect(ipv6.sharedPrefixBitsWithNodeID == 20 && ipv6.isLikelyRoutingRefresh)
        let targus = try #require(message(DHTVectors.findNodeTargus))     // find_node for its own id + 1 (bootstrap)
        #expect(targus.sharedPrefixBitsWithNodeID == 159 && targus.isLikelyRoutingRefresh)
    }

    @Test func torrentLookupsAreNot() throws {
        let announce = try #require(message(DHTVectors.announceImplied))  // announce_peer: always evidence
        #expect(!announce.isLikelyRoutingRefresh)
        let port = try #require(message(DHTVectors.announcePort))
        #expect(port.sharedPrefixBitsWithNodeID == 4 && !port.isLikelyRoutingRefresh)
        let response = try #require(message(DHTVectors.getPeersValues))
        #expect(!response.isLikelyRoutingRefresh)
    }
}
