import Testing
import TorscanTestSupport
import WireBytes
import PacketDecode
import BitTorrentClassifier
@testable import FlowEvidence

/// One scripted classifier event: on flow `flow`, `sender` -> `receiver`, at second `t`, frame `frame`.
struct ScriptedEvent {
    var flow: Int, sender: String, receiver: String, t: Int64, frame: Int, event: ClassifierEvent, utp = false
}

@Suite struct EvidenceAggregatorTests {
    static let ihA = InfoHash(hex: "aa3769c4530dde06241873dad43ab5ccec2ce622")!
    static let ihB = InfoHash(hex: "dbfc0ce745b4c9fb92003323d67ec3987148218c")!

    static func pid(_ s: String) -> PeerID { Array(s.utf8).withUnsafeBytes { PeerID(bytes: $0)! } }
    static func hs(_ h: InfoHash, _ id: String = "-qB4650-abcdefghijkl") -> ClassifierEvent {
        .handshake(PeerWireHandshake(infoHash: h, peerID: pid(id), reserved: 0))
    }

    /// Runs events through an aggregator (flows created on first use) and returns it with the flows.
    static func run(_ events: [ScriptedEvent], clientFromPeerID: ((PeerID) -> String?)? = nil) -> (EvidenceAggregator, [Int: FlowFindings]) {
        var agg = EvidenceAggregator(clientFromPeerID: clientFromPeerID)
        var flows: [Int: FlowFindings] = [:]
        var firstSender: [Int: String] = [:]
        for e in events {
            let f = flows[e.flow] ?? FlowFindings()
            flows[e.flow] = f
            let src = firstSender[e.flow] ?? e.sender
            firstSender[e.flow] = src
            let origin = EventOrigin(flowID: e.flow, sender: IPAddress(e.sender)!, receiver: IPAddress(e.receiver)!,
                                     timestamp: Timestamp(seconds: e.t, nanos: 0), frame: FrameRef(captureIndex: 0, frame: e.frame), viaUTP: e.utp)
            agg.record(e.event, origin: origin, flow: f, senderIsSrc: e.sender == src)
        }
        return (agg, flows)
    }

    static func withBytes<R>(_ n: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        [UInt8](repeating: 0xAB, count: n).withUnsafeBytes(body)
    }

    /// Two peers exchange the torrent: both get `transfer`, with the bytes and pieces of each direction.
    @Test func transferBetweenTwoPeers() {
        let a = "10.0.0.1", b = "10.0.0.2"
        let rows = Self.withBytes(100) { block in
            Self.run([
                ScriptedEvent(flow: 0, sender: a, receiver: b, t: 100, frame: 4, event: Self.hs(Self.ihA)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 101, frame: 6, event: Self.hs(Self.ihA, "-TR2940-abcdefghijkl")),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 102, frame: 9, event: .pieceBlock(index: 0, begin: 0, length: 100)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 102, frame: 9, event: .pieceBytes(index: 0, offset: 0, bytes: block)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 103, frame: 11, event: .pieceBlock(index: 1, begin: 0, length: 100)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 103, frame: 11, event: .pieceBytes(index: 1, offset: 0, bytes: block)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 104, frame: 12, event: .pieceBlock(index: 1, begin: 100, length: 100)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 104, frame: 12, event: .pieceBytes(index: 1, offset: 100, bytes: block)),
                ScriptedEvent(flow: 0, sender: a, receiver: b, t: 105, frame: 14, event: .pieceBlock(index: 7, begin: 0, length: 100)),
                ScriptedEvent(flow: 0, sender: a, receiver: b, t: 105, frame: 14, event: .pieceBytes(index: 7, offset: 0, bytes: block)),
            ]).0.rows(perDay: false)
        }
        #expect(rows.map(\.ip.description) == [a, b])
        let ra = rows[0], rb = rows[1]
        #expect(ra.confidence == .transfer && rb.confidence == .transfer)
        #expect(ra.infoHash == Self.ihA)
        #expect(ra.signals == [.handshake, .piece])
        #expect((ra.bytesUp, ra.bytesDown, ra.piecesUp, ra.piecesDown) == (100, 300, 1, 2))
        #expect((rb.bytesUp, rb.bytesDown, rb.piecesUp, rb.piecesDown) == (300, 100, 2, 1))
        #expect(ra.firstFrame.frame == 4 && rb.firstFrame.frame == 6)
        #expect(ra.supportingFrames.map(\.frame) == [4, 9, 11, 12, 14])
        #expect(ra.firstSeen == Timestamp(seconds: 100, nanos: 0) && ra.lastSeen == Timestamp(seconds: 105, nanos: 0))
        #expect(ra.flows == 1 && ra.peers == 1)
    }

    @Test func confidenceIsTheStrongestEvidence() {
        let a = "10.0.0.1", b = "10.0.0.2", tracker = "192.0.2.7", c = "10.0.0.3"
        let (agg, _) = Self.run([
            ScriptedEvent(flow: 0, sender: a, receiver: tracker, t: 1, frame: 1,
                          event: .httpTrackerRequest(HTTPTrackerRequest(kind: .announce, infoHashes: [Self.ihA]))),
            ScriptedEvent(flow: 1, sender: a, receiver: b, t: 2, frame: 2, event: Self.hs(Self.ihA)),
            ScriptedEvent(flow: 2, sender: c, receiver: tracker, t: 3, frame: 3,
                          event: .udpTracker(UDPTrackerMessage(action: .announceRequest, transactionID: 1, infoHashes: [Self.ihA]))),
        ])
        let rows = agg.rows(perDay: false)
        #expect(rows.map(\.ip.description) == [a, c])
        #expect(rows[0].confidence == .handshake && rows[0].signals == [.handshake, .trackerHTTP])
        #expect(rows[0].flows == 2)
        // The first frame points at the handshake; the earlier announce is still a supporting frame.
        #expect(rows[0].firstFrame.frame == 2 && rows[0].supportingFrames.map(\.frame) == [1, 2])
        #expect(rows[1].firstFrame.frame == 3)
        #expect(rows[1].confidence == .announce && rows[1].signals == [.trackerUDP])
        // A tracker is not a peer.
        #expect(rows[0].peers == 1 && rows[1].peers == 0)
        #expect(rows.map(\.signals).map { $0.sorted().map(\.rawValue).joined(separator: ";") } == ["handshake;tracker_http", "tracker_udp"])
    }

    @Test func answeringDHTNodesAndListedPeersAreNotEvidence() {
        let client = "10.0.0.1", node = "203.0.113.5", tracker = "192.0.2.7"
        let (agg, flows) = Self.run([
            // Responses carrying peers, and a scrape: none of it is evidence against anyone.
            ScriptedEvent(flow: 0, sender: node, receiver: client, t: 1, frame: 1,
                          event: .dht(DHTMessage(kind: .response, nodeID: Array(repeating: 1, count: 20), infoHash: Self.ihA, peersReturned: 8))),
            ScriptedEvent(flow: 1, sender: tracker, receiver: client, t: 2, frame: 2, event: .httpTrackerResponse(peers: 50, interval: 1800, failure: nil)),
            ScriptedEvent(flow: 2, sender: tracker, receiver: client, t: 3, frame: 3,
                          event: .udpTracker(UDPTrackerMessage(action: .announceResponse, transactionID: 1, infoHashes: [Self.ihA], peersReturned: 50))),
            ScriptedEvent(flow: 3, sender: client, receiver: tracker, t: 4, frame: 4,
                          event: .httpTrackerRequest(HTTPTrackerRequest(kind: .scrape, infoHashes: [Self.ihA]))),
            ScriptedEvent(flow: 4, sender: client, receiver: node, t: 5, frame: 5,
                          event: .pex(added: [PeerEndpoint(address: [198, 51, 100, 1], port: 6881)], dropped: [])),
        ])
        #expect(agg.rows(perDay: false).isEmpty)
        #expect(flows[0]!.label(isTCP: false) == "bittorrent-dht")
        #expect(flows[1]!.label(isTCP: true) == "bittorrent-tracker-http")
        #expect(flows[2]!.label(isTCP: false) == "bittorrent-tracker-udp")
    }

    @Test func dhtGetPeersNearTheSendersOwnIdIsARoutingRefresh() {
        // vut-pds_small.pcap frame 54: node id f01c42cf59cd855fe8d21dac7eccb97519deee1b looks up
        // f01c42cf59cd855fe8d21daca3d5f0f4bd748306 (96 common bits): a refresh.
        let id = InfoHash(hex: "f01c42cf59cd855fe8d21dac7eccb97519deee1b")!.bytes
        let refresh = InfoHash(hex: "f01c42cf59cd855fe8d21daca3d5f0f4bd748306")!
        let near = InfoHash(hex: "f0180000000000000000000000000000000000aa")!   // 13 common bits
        let far = InfoHash(hex: "f0000000000000000000000000000000000000aa")!    // 11 common bits
        func bits(_ h: InfoHash) -> Int? { DHTMessage(kind: .query, method: "get_peers", nodeID: id, infoHash: h).sharedPrefixBitsWithNodeID }
        #expect(bits(refresh) == 96 && bits(near) == 13 && bits(far) == 11 && bits(Self.ihA) == 1)
        func q(_ m: String, _ h: InfoHash, _ frame: Int) -> ScriptedEvent {
            ScriptedEvent(flow: frame, sender: "10.0.0.1", receiver: "203.0.113.\(frame)", t: Int64(frame), frame: frame,
                          event: .dht(DHTMessage(kind: .query, method: m, nodeID: id, infoHash: h)))
        }
        let (agg, _) = Self.run([q("get_peers", refresh, 1), q("get_peers", near, 2), q("get_peers", far, 3), q("get_peers", far, 6),
                                 q("announce_peer", refresh, 4), q("find_node", Self.ihB, 5)])
        let rows = agg.rows(perDay: false)
        #expect(rows.map(\.infoHash) == [far, refresh].sorted())
        #expect(rows.first { $0.infoHash == far }?.signals == [.dhtGetPeers])
        #expect(rows.first { $0.infoHash == refresh }?.signals == [.dhtAnnounce])
        #expect(rows.allSatisfy { $0.confidence == .announce })
        #expect(agg.counts.dhtRefreshQueriesIgnored == 2)
    }

    @Test func lsdAnnounceIsEvidenceForEveryInfohashItNames() {
        let (agg, flows) = Self.run([ScriptedEvent(flow: 0, sender: "192.168.38.130", receiver: "239.192.152.143", t: 1, frame: 3,
                                                   event: .lsd(LSDAnnounce(infoHashes: [Self.ihB, Self.ihA], port: 6881, cookie: nil)))])
        let rows = agg.rows(perDay: false)
        #expect(rows.map(\.infoHash) == [Self.ihA, Self.ihB])
        #expect(rows.allSatisfy { $0.signals == [.lsd] && $0.confidence == .announce && $0.firstFrame.frame == 3 })
        #expect(flows[0]!.label(isTCP: false) == "bittorrent-lsd")
    }

    @Test func perDayRowsSplitAtUTCMidnight() {
        // 2023-04-18T23:59:59Z and 2023-04-19T00:00:01Z.
        let before = Timestamp(rfc3339: "2023-04-18T23:59:59Z")!.seconds
        let a = "10.0.0.1", b = "10.0.0.2"
        let (agg, _) = Self.withBytes(10) { block in
            Self.run([
                ScriptedEvent(flow: 0, sender: a, receiver: b, t: before - 10, frame: 1, event: Self.hs(Self.ihA)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: before - 9, frame: 2, event: Self.hs(Self.ihA)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: before, frame: 3, event: .pieceBlock(index: 1, begin: 0, length: 10)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: before, frame: 3, event: .pieceBytes(index: 1, offset: 0, bytes: block)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: before + 2, frame: 4, event: .pieceBlock(index: 1, begin: 10, length: 10)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: before + 2, frame: 4, event: .pieceBytes(index: 1, offset: 10, bytes: block)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: before + 2, frame: 4, event: .pieceBlock(index: 2, begin: 0, length: 10)),
            ])
        }
        let day1 = Timestamp(seconds: before, nanos: 0).dayNumber
        let perDay = agg.rows(perDay: true)
        #expect(perDay.map { "\($0.ip) \($0.day!)" } == ["\(a) \(day1)", "\(a) \(day1 + 1)", "\(b) \(day1)", "\(b) \(day1 + 1)"])
        let a1 = perDay[0], a2 = perDay[1]
        #expect(a1.confidence == .transfer && a1.signals == [.handshake, .piece] && a1.piecesDown == 1 && a1.bytesDown == 10)
        #expect(a2.confidence == .transfer && a2.signals == [.piece] && a2.piecesDown == 2 && a2.bytesDown == 10)
        #expect(a2.firstFrame.frame == 4 && a2.activeDays == [day1 + 1])
        #expect(a1.lastSeen == Timestamp(seconds: before, nanos: 0) && a2.firstSeen == Timestamp(seconds: before + 2, nanos: 0))
        let whole = agg.rows(perDay: false)
        #expect(whole.count == 2 && whole[0].day == nil)
        #expect(whole[0].activeDays == [day1, day1 + 1])
        #expect(whole[0].piecesDown == 2 && whole[0].bytesDown == 20)   // piece 1 on both days counts once
    }

    @Test func piecesOnAFlowWithoutHandshakeAreNotAttributed() {
        let (agg, flows) = Self.run([
            ScriptedEvent(flow: 0, sender: "10.0.0.1", receiver: "10.0.0.2", t: 1, frame: 1, event: .pieceBlock(index: 3, begin: 0, length: 16384)),
        ])
        #expect(agg.rows(perDay: false).isEmpty)
        #expect(agg.counts.unattributedPieces == 1)
        #expect(flows[0]!.label(isTCP: true) == "bittorrent-peer")
        #expect(flows[0]!.infoHashes.isEmpty)
    }

    @Test func annotationsAloneAreNotARow() {
        // An extended handshake on a flow whose only handshake came from the other side: the sender
        // gets the annotation only when it has evidence of its own.
        let (agg, _) = Self.run([
            ScriptedEvent(flow: 0, sender: "10.0.0.1", receiver: "10.0.0.2", t: 1, frame: 1, event: Self.hs(Self.ihA)),
            ScriptedEvent(flow: 0, sender: "10.0.0.2", receiver: "10.0.0.1", t: 2, frame: 2, event: .extendedHandshake(ExtendedHandshake(client: "Transmission 2.94"))),
            ScriptedEvent(flow: 0, sender: "10.0.0.1", receiver: "10.0.0.2", t: 3, frame: 3, event: .extendedHandshake(ExtendedHandshake(client: "qBittorrent/4.6.5"))),
        ])
        let rows = agg.rows(perDay: false)
        #expect(rows.map(\.ip.description) == ["10.0.0.1"])
        #expect(rows[0].signals == [.extended, .handshake] && rows[0].client == "qBittorrent/4.6.5")
    }

    @Test func clientIsTheMostFrequentNameThenTheSmallest() {
        func ext(_ flow: Int, _ v: String) -> [ScriptedEvent] {
            [ScriptedEvent(flow: flow, sender: "10.0.0.1", receiver: "10.0.1.\(flow)", t: 1, frame: 2 * flow + 1, event: Self.hs(Self.ihA)),
             ScriptedEvent(flow: flow, sender: "10.0.0.1", receiver: "10.0.1.\(flow)", t: 1, frame: 2 * flow + 2,
                           event: .extendedHandshake(ExtendedHandshake(client: v)))]
        }
        let (tie, _) = Self.run(ext(0, "b") + ext(1, "a"))
        #expect(tie.rows(perDay: false)[0].client == "a")
        let (most, _) = Self.run(ext(0, "b") + ext(1, "a") + ext(2, "b"))
        #expect(most.rows(perDay: false)[0].client == "b")
        #expect(most.rows(perDay: false)[0].peers == 3)
        // Without `v`, the peer id names the client.
        let (byID, flows) = Self.run([ScriptedEvent(flow: 0, sender: "10.0.0.1", receiver: "10.0.0.2", t: 1, frame: 1, event: Self.hs(Self.ihA))],
                                     clientFromPeerID: { $0.bytes.starts(with: Array("-qB".utf8)) ? "qBittorrent 4.6.5" : nil })
        #expect(byID.rows(perDay: false)[0].client == "qBittorrent 4.6.5")
        #expect(flows[0]!.srcClient == "qBittorrent 4.6.5")
    }

    @Test func supportingFramesAreTheEarliestAndBounded() {
        var events: [ScriptedEvent] = []
        for f in stride(from: 100, to: 0, by: -3) {
            events.append(ScriptedEvent(flow: f, sender: "10.0.0.1", receiver: "192.0.2.1", t: Int64(f), frame: f,
                                        event: .lsd(LSDAnnounce(infoHashes: [Self.ihA], port: nil, cookie: nil))))
        }
        let row = Self.run(events).0.rows(perDay: false)[0]
        #expect(row.supportingFrames.count == EvidenceLimits.supportingFrames)
        #expect(row.supportingFrames.map(\.frame) == Array(stride(from: 1, to: 100, by: 3).prefix(EvidenceLimits.supportingFrames)))
        #expect(row.firstFrame.frame == 1)
        #expect(row.flows == events.count)
    }

    @Test func rowsDoNotDependOnTheOrderOfFlows() {
        // Several flows, several torrents, several days; fed flow by flow in two different orders.
        var byFlow: [[ScriptedEvent]] = []
        for k in 0..<12 {
            let a = "10.0.\(k % 3).1", b = "10.1.\(k % 4).2"
            let h = k % 2 == 0 ? Self.ihA : Self.ihB
            let t = Int64(86_400 * (k % 3) + 100 * k)
            byFlow.append([
                ScriptedEvent(flow: k, sender: a, receiver: b, t: t, frame: 10 * k + 1, event: Self.hs(h, "-qB4650-abcdefghijk\(k % 2)")),
                ScriptedEvent(flow: k, sender: b, receiver: a, t: t + 1, frame: 10 * k + 2, event: Self.hs(h)),
                ScriptedEvent(flow: k, sender: b, receiver: a, t: t + 2, frame: 10 * k + 3,
                              event: .extendedHandshake(ExtendedHandshake(client: k % 2 == 0 ? "x" : "y"))),
                ScriptedEvent(flow: k, sender: b, receiver: a, t: t + 3, frame: 10 * k + 4, event: .pieceBlock(index: UInt32(k % 5), begin: 0, length: 5)),
                ScriptedEvent(flow: k, sender: a, receiver: "192.0.2.9", t: t + 4, frame: 10 * k + 5,
                              event: .dht(DHTMessage(kind: .query, method: "announce_peer", nodeID: Array(repeating: 0, count: 20), infoHash: h))),
            ])
        }
        var rng = SplitMix(state: 7)
        let shuffled = byFlow.shuffled(using: &rng)
        for perDay in [false, true] {
            let one = Self.run(byFlow.flatMap { $0 }, clientFromPeerID: { $0.hex }).0.rows(perDay: perDay)
            let two = Self.run(shuffled.flatMap { $0 }, clientFromPeerID: { $0.hex }).0.rows(perDay: perDay)
            #expect(one == two)
            #expect(!one.isEmpty)
        }
    }
    /// BittorrentReconstituter_test.txt.pcap: the 13-byte header of the piece message is frame 26, its
    /// 58 data bytes frame 28, where Wireshark shows "Piece, Idx:0x0,Begin:0x0,Len:0x3a".
    @Test func pieceFrameIsTheOneThatCompletesTheBlock() {
        let a = "10.0.0.3", b = "10.0.0.2"
        let rows = Self.withBytes(58) { block in
            Self.run([
                ScriptedEvent(flow: 0, sender: a, receiver: b, t: 1, frame: 14, event: Self.hs(Self.ihA)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 1, frame: 16, event: Self.hs(Self.ihA)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 2, frame: 26, event: .pieceBlock(index: 0, begin: 0, length: 58)),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 3, frame: 27, event: .pieceBytes(index: 0, offset: 0, bytes: UnsafeRawBufferPointer(rebasing: block[0..<20]))),
                ScriptedEvent(flow: 0, sender: b, receiver: a, t: 3, frame: 28, event: .pieceBytes(index: 0, offset: 20, bytes: UnsafeRawBufferPointer(rebasing: block[20..<58]))),
            ]).0.rows(perDay: false)
        }
        #expect(rows.map { $0.supportingFrames.map(\.frame) } == [[16, 28], [14, 28]])
        #expect(rows[0].bytesUp == 58 && rows[1].bytesDown == 58)
    }
    /// ut_metadata (BEP 9): a complete info dictionary names the torrent only when its SHA-1 is the infohash.
    @Test func torrentNameComesFromVerifiedMetadata() {
        let info: [UInt8] = Array("d6:lengthi58e4:name8:test.txt12:piece lengthi16384e6:pieces20:".utf8) + (0..<20).map { UInt8($0) } + Array("e".utf8)
        let good = InfoHash(hex: "73b27b51aeef157d8ff5f2c40aac60efd5c04d40")!   // python3 hashlib.sha1(info)
        func run(_ h: InfoHash) -> (EvidenceAggregator, [Int: FlowFindings]) {
            info.withUnsafeBytes { block in
                Self.run([
                    ScriptedEvent(flow: 0, sender: "10.0.0.1", receiver: "10.0.0.2", t: 1, frame: 1, event: Self.hs(h)),
                    ScriptedEvent(flow: 0, sender: "10.0.0.2", receiver: "10.0.0.1", t: 2, frame: 2, event: .metadataPiece(piece: 0, totalSize: info.count, bytes: block)),
                ])
            }
        }
        let (ok, _) = run(good)
        #expect(ok.rows(perDay: false).map(\.torrentName) == ["test.txt"])
        #expect(ok.torrentNames[good] == "test.txt")
        let (bad, _) = run(Self.ihA)
        #expect(bad.rows(perDay: false).map(\.torrentName) == [nil])
        #expect(bad.counts.metadataHashMismatches == 1)
    }
    /// A single get_peers for a random id (far-bucket refresh) is not evidence; two queries are, and
    /// so is one for a torrent that other evidence of the run names.
    @Test func singleDHTLookupNeedsCorroboration() {
        let id = [UInt8](repeating: 0, count: 20)
        func q(_ h: InfoHash, _ sender: String, _ frame: Int) -> ScriptedEvent {
            ScriptedEvent(flow: frame, sender: sender, receiver: "203.0.113.1", t: 1, frame: frame,
                          event: .dht(DHTMessage(kind: .query, method: "get_peers", nodeID: id, infoHash: h)))
        }
        let (alone, _) = Self.run([q(Self.ihA, "10.0.0.1", 1)])
        #expect(alone.rows(perDay: false).isEmpty && alone.rows(perDay: true).isEmpty)
        #expect(!alone.lookupsAreEvidence(Self.ihA))
        let (twice, _) = Self.run([q(Self.ihA, "10.0.0.1", 1), q(Self.ihA, "10.0.0.1", 2)])
        #expect(twice.rows(perDay: false).map(\.ip.description) == ["10.0.0.1"])
        let (seen, _) = Self.run([q(Self.ihA, "10.0.0.1", 1),
                                  ScriptedEvent(flow: 9, sender: "10.0.0.7", receiver: "10.0.0.8", t: 1, frame: 9, event: Self.hs(Self.ihA))])
        #expect(seen.rows(perDay: false).map(\.ip.description) == ["10.0.0.1", "10.0.0.7"])
        #expect(seen.lookupsAreEvidence(Self.ihA))
    }
}
