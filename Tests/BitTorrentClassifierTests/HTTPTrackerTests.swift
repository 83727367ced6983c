import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// HTTP tracker traffic from ../shared/corpus/public/bittorrent (TCP payloads of single frames).
enum HTTPTrackerVectors {
    // bt-http.pcapng frame 4: "192.168.1.128 → 176.31.225.118 HTTP 424 GET /announce?info_hash=%aa7i%c4S... HTTP/1.1"
    static let transmissionAnnounce = "GET /announce?info_hash=%aa7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6%22&peer_id=-TR2940-chho92c56pul&port=51413&uploaded=0&downloaded=0&left=282050560&numwant=80&key=3b5502cc&compact=1&supportcrypto=1&requirecrypto=1&event=started HTTP/1.1\r\nHost: tracker.trackerfix.com\r\nUser-Agent: Transmission/2.94\r\nAccept: */*\r\nAccept-Encoding: gzip;q=1.0, deflate, identity\r\n\r\n"
    // zeek_bittorrent_tracker.pcap frame 4: "10.0.0.201 → 91.189.95.21 HTTP 423 GET /announce?info_hash=%e4%be%9eM... HTTP/1.1"
    static let delugeAnnounce = "GET /announce?info_hash=%e4%be%9eM%b8v%e3%e3%17%97x%b0%3e%90b%97%be%5c%8d%be&peer_id=-DE13F0-VnpZRF8ZP9iv&port=63448&uploaded=0&downloaded=0&left=1921843200&corrupt=0&key=764CA003&event=started&numwant=200&compact=1&no_peer_id=1&supportcrypto=1&redundant=0 HTTP/1.1\r\nHost: torrent.ubuntu.com:6969\r\nUser-Agent: Deluge 1.3.15\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    // BittorrentReconstituter_codemonkey.pcap frame 6: "10.0.0.3 → 10.0.0.1 HTTP 379 GET /announce?info_hash=%12%A3Zp..." (rtorrent, upper-case escapes, binary peer_id)
    static let rtorrentAnnounce = "GET /announce?info_hash=%12%A3Zp%A0%F9%17%E7%2C%CA%13n%FEo%B6P%8F%93%82V&peer_id=-lt0C20-%8E%0A%25k0w%EDQ%041%A0%BE&key=610d2588&compact=1&port=6992&uploaded=0&downloaded=0&left=3741361&event=started HTTP/1.1\r\nUser-Agent: rtorrent/0.8.2/0.12.2\r\nHost: 10.0.0.1:6969\r\nAccept: */*\r\nAccept-Encoding: deflate, gzip\r\n\r\n"
    // BittorrentReconstituter_codemonkey.pcap frame 8: "10.0.0.1 → 10.0.0.3 HTTP 237 HTTP/1.0 200 OK  (text/plain)" (2 compact peers)
    static let twoPeers = "485454502f312e3020323030204f4b0d0a436f6e74656e742d547970653a20746578742f706c61696e0d0a436f6e74656e742d4c656e6774683a203130350d0a0d0a64383a636f6d706c65746569316531303a646f776e6c6f6164656469306531303a696e636f6d706c657465693165383a696e74657276616c69313832306531323a6d696e20696e74657276616c6939313065353a706565727331323a0a0000031b500a000002ce6165"
    // BittorrentReconstituter_codemonkey_and_testtxt.pcap frame 1670: "10.0.0.1 → 10.0.0.2 HTTP 229 HTTP/1.0 200 OK  (text/plain)" (1 peer)
    static let onePeer = "485454502f312e3020323030204f4b0d0a436f6e74656e742d547970653a20746578742f706c61696e0d0a436f6e74656e742d4c656e6774683a2039380d0a0d0a64383a636f6d706c65746569316531303a646f776e6c6f6164656469306531303a696e636f6d706c657465693065383a696e74657276616c69313937356531323a6d696e20696e74657276616c6939383765353a7065657273363a0a000002ce6165"
    // zeek_bittorrent_tracker.pcap frame 6: "91.189.95.21 → 10.0.0.201 HTTP 559 HTTP/1.0 200 OK  (text/plain)": gzip body.
    // Head as captured plus the gzip magic; and the body gunzipped (python3 gzip.decompress), 50 compact peers.
    static let gzipHead = "HTTP/1.0 200 OK\r\nContent-Length: 397\r\nContent-Type: text/plain\r\nPragma: no-cache\r\nContent-Encoding: gzip\r\n\r\n\u{1f}"
    static let zeekBodyGunzipped = "64383a636f6d706c65746569343439396531323a63727970746f5f666c61677335303a000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000031303a696e636f6d706c6574656931303965383a696e74657276616c693138303065353a70656572733330303ab101addac8d505275094c8d518443e96c8d552403278c8d597507df6a1c625bb06edafc825bb0037d6c2d1b4cfc11ae1b01fb5bdc8d5683e8bc6c8d53ce01a60c8d54b9be6a1c8d55ba04021800818a262b4e63e683e8bc6c8d5adefe612cfc85e0ba9b8c2c3b915d938d605330fae49c8d52a028ecdc4273ed2c839d6ec5a5c73bfc86959493630232755117a62f9b558c66ed9d0be3b4e30f2944b683e8bc6c8d55449810941f154030a579f5e3ed2553dafc83ed2c9abc8d5683e8bc6c8d5442faaf6f66a1752358bc188526618a3a4f8c39a881d534625c15daf7d0f3df58ee9c8d54640c294d0e047fe9ca9c8d5561e4392c8d5587baa72c8d54fc53c1641f10eb1c8a6c056b00abb24dbb660ed3c13c8d58832179bc8d597502051c8d5768d2d85868468b56adfc8d565"
    // bt-http.pcapng frame 5: "176.31.225.118 → 192.168.1.128 HTTP 394 HTTP/1.1 307 Temporary Redirect"
    static let redirect = "HTTP/1.1 307 Temporary Redirect\r\nConnection: close\r\nPragma: no-cache\r\ncache-control: no-cache\r\nLocation: /announce?info_hash=%aa7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6%22&peer_id=-TR2940-chho92c56pul&port=51413\r\n\r\n"
}

@Suite struct HTTPTrackerTests {
    func request(_ text: String) -> (ProbeResult, CollectedEvents) { request(Array(ascii: text)) }
    func request(_ bytes: [UInt8]) -> (ProbeResult, CollectedEvents) {
        var sink = CollectedEvents()
        let r = withBencodeTestBytes(bytes) { HTTPTrackerDetector.inspectRequest($0, sink: &sink) }
        return (r, sink)
    }
    func response(_ bytes: [UInt8]) -> (ProbeResult, CollectedEvents) {
        var sink = CollectedEvents()
        let r = withBencodeTestBytes(bytes) { HTTPTrackerDetector.inspectResponse($0, sink: &sink) }
        return (r, sink)
    }

    @Test func announceRequests() throws {
        let (r, s) = request(HTTPTrackerVectors.transmissionAnnounce)
        #expect(r == .match)
        let t = try #require(s.trackerRequests.first)
        #expect(t.kind == .announce && t.infoHashes.map(\.hex) == ["aa3769c4530dde06241873dad43ab5ccec2ce622"])
        #expect(t.peerID?.bytes == Array(ascii: "-TR2940-chho92c56pul") && t.port == 51413 && t.event == "started")
        #expect(t.uploaded == 0 && t.downloaded == 0 && t.left == 282_050_560 && t.userAgent == "Transmission/2.94")

        let d = try #require(request(HTTPTrackerVectors.delugeAnnounce).1.trackerRequests.first)
        #expect(d.infoHashes.map(\.hex) == ["e4be9e4db876e3e3179778b03e906297be5c8dbe"])
        #expect(d.port == 63448 && d.left == 1_921_843_200 && d.userAgent == "Deluge 1.3.15")

        let rt = try #require(request(HTTPTrackerVectors.rtorrentAnnounce).1.trackerRequests.first)
        #expect(rt.infoHashes.map(\.hex) == ["12a35a70a0f917e72cca136efe6fb6508f938256"])   // BittorrentReconstituter ground truth
        #expect(rt.peerID?.bytes.prefix(8) == Array(ascii: "-lt0C20-")[...] && rt.userAgent == "rtorrent/0.8.2/0.12.2")
    }

    @Test func scrapeWithSeveralInfohashes() throws {
        let text = "GET /tracker/scrape?info_hash=%aa7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6%22&info_hash=%12%A3Zp%A0%F9%17%E7%2C%CA%13n%FEo%B6P%8F%93%82V HTTP/1.0\r\n\r\n"
        let s = try #require(request(text).1.trackerRequests.first)
        #expect(s.kind == .scrape && s.infoHashes.count == 2 && s.userAgent == nil)
    }

    @Test func httpSeedRequestNamesItsTorrent() throws {
        // BEP 17 layout: GET <url>?info_hash=...&piece=N&ranges=a-b
        let (r, s) = request("GET /seed/file?info_hash=%12%A3Zp%A0%F9%17%E7%2C%CA%13n%FEo%B6P%8F%93%82V&piece=3&ranges=0-16383 HTTP/1.1\r\n\r\n")
        #expect(r == .match && s.trackerRequests.isEmpty)
        guard case .webSeedRequest(let path, let hash)? = s.events.first else { Issue.record("no web seed"); return }
        #expect(path == "/seed/file" && hash?.hex == "12a35a70a0f917e72cca136efe6fb6508f938256")
        // BEP 19 GETs carry no infohash: nothing to report here.
        #expect(request("GET /files/Code%20Monkey.mp3 HTTP/1.1\r\nRange: bytes=0-16383\r\n\r\n").0 == .noMatch)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /search?q=info_hash HTTP/1.1\r\n\r\n",
        "POST /announce?info_hash=%aa7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6%22 HTTP/1.1\r\n\r\n",
        "GET /announce?info_hash=%aa7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6%22\r\n\r\n",   // no HTTP version
        "\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0}\u{1}\u{fc}\u{3}\u{3}",                           // TLS ClientHello
    ])
    func nearMissRequests(text: String) {
        let (r, s) = request(text)
        #expect(r == .noMatch && s.events.isEmpty)
    }

    @Test func badInfohashIsAnAnomaly() {
        let (r, s) = request("GET /announce?info_hash=%aa7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6&peer_id=x HTTP/1.1\r\n\r\n")   // 19 bytes
        #expect(r == .noMatch && s.anomalies == [.httpTrackerBadInfoHash])
        let (r2, s2) = request("GET /announce?info_hash=%zz7i%c4S%0d%de%06%24%18s%da%d4%3a%b5%cc%ec%2c%e6%22 HTTP/1.1\r\n\r\n")
        #expect(r2 == .noMatch && s2.anomalies == [.httpTrackerBadInfoHash])
    }

    @Test func trackerResponses() throws {
        let (r, s) = response(hexBytes(HTTPTrackerVectors.twoPeers))
        #expect(r == .match)
        let two = try #require(s.trackerResponses.first)
        #expect(two.peers == 2 && two.interval == 1820 && two.failure == nil)
        let one = try #require(response(hexBytes(HTTPTrackerVectors.onePeer)).1.trackerResponses.first)
        #expect(one.peers == 1 && one.interval == 1975)
        // Compressed body: not readable here; the gunzipped body is.
        #expect(response(Array(ascii: HTTPTrackerVectors.gzipHead)).0 == .noMatch)
        var sink = CollectedEvents()
        let body = hexBytes(HTTPTrackerVectors.zeekBodyGunzipped)
        #expect(withBencodeTestBytes(body) { HTTPTrackerDetector.inspectResponseBody($0, complete: true, sink: &sink) } == .match)
        #expect(sink.trackerResponses.first?.peers == 50 && sink.trackerResponses.first?.interval == 1800)
        #expect(response(Array(ascii: HTTPTrackerVectors.redirect)).0 == .noMatch)
    }

    @Test func otherResponseShapes() throws {
        func r(_ body: String, head: String = "HTTP/1.1 200 OK\r\n") -> (ProbeResult, CollectedEvents) {
            response(Array(ascii: head + "Content-Length: \(body.utf8.count)\r\n\r\n" + body))
        }
        let failure = try #require(r("d14:failure reason17:torrent not founde").1.trackerResponses.first)
        #expect(failure.failure == "torrent not found" && failure.peers == 0)
        let dicts = try #require(r("d8:intervali900e5:peersld2:ip8:10.0.0.14:porti6881eed2:ip8:10.0.0.24:porti6882eeee").1.trackerResponses.first)
        #expect(dicts.peers == 2)
        let v6 = "d8:intervali900e5:peers0:6:peers618:" + String(repeating: "a", count: 18) + "e"
        #expect(r(v6).1.trackerResponses.first?.peers == 1)
        #expect(r("d5:filesd20:" + String(repeating: "x", count: 20) + "d8:completei1eeee").0 == .match)   // scrape
        #expect(r("d3:foo3:bare").0 == .noMatch)                       // bencoded, not a tracker answer
        #expect(r("<html>hello</html>").0 == .noMatch)
        let (bad, badSink) = r("d8:intervali900e5:peers5:abcdee")
        #expect(bad == .noMatch && badSink.anomalies == [.httpTrackerBadResponse])
        #expect(r("d8:intervali900e5:peers0:e", head: "HTTP/1.1 404 Not Found\r\n").0 == .noMatch)
        let chunked = Array(ascii: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nd8:intervali900e5:peers0:e\r\n0\r\n\r\n")
        #expect(response(chunked).1.trackerResponses.first?.interval == 900)
    }

    /// Prefixes: need-more or no-match, or (once the request line is whole) the same infohash.
    @Test func truncationSweep() {
        for text in [HTTPTrackerVectors.transmissionAnnounce, HTTPTrackerVectors.delugeAnnounce, HTTPTrackerVectors.rtorrentAnnounce] {
            let full = Array(ascii: text)
            let expected = request(full).1.trackerRequests.first?.infoHashes
            let lineEnd = full.firstIndex(of: UInt8(ascii: "\n"))!
            for n in 0..<full.count {
                let (r, s) = request(Array(full.prefix(n)))
                if n <= lineEnd { #expect(r == .needMore && s.events.isEmpty, "prefix \(n)") }
                else { #expect(r == .match && s.trackerRequests.first?.infoHashes == expected, "prefix \(n)") }
            }
        }
        for hex in [HTTPTrackerVectors.twoPeers, HTTPTrackerVectors.onePeer] {
            let full = hexBytes(hex)
            for n in 0..<full.count {
                let (r, s) = response(Array(full.prefix(n)))
                #expect(r == .needMore && s.events.isEmpty, "prefix \(n)")
            }
        }
    }
}

/// Every HTTP request in the BitTorrent captures: we match exactly those whose URI tshark shows with
/// `info_hash=`, and every 200 tracker answer in them with a plain body.
@Suite struct HTTPTrackerCorpusTests {
    @Test func requestsAgreeWithTshark() throws {
        guard let corpus = sharedPublicCorpus, Tshark.path != nil else {
            print("skipped: ../shared/corpus/public or tshark absent"); return
        }
        var announces = 0
        for file in TestPaths.files(under: corpus.appendingPathComponent("bittorrent"))
        where file.lastPathComponent.hasSuffix("cap") || file.pathExtension == "pcapng" {
            guard let requests = Tshark.run(["-r", file.path, "-Y", "http.request", "-T", "fields", "-e", "frame.number", "-e", "tcp.payload", "-e", "http.request.uri"]) else { continue }
            var ours = Set<Int>(), expected = Set<Int>()
            for line in requests.split(separator: "\n") {
                let parts = line.split(separator: "\t")
                guard parts.count == 3, let frame = Int(parts[0]) else { continue }
                if parts[2].contains("info_hash=") { expected.insert(frame) }
                var sink = CollectedEvents()
                let payload = Tshark.hexToBytes(String(parts[1].split(separator: ",").first ?? ""))
                if withBencodeTestBytes(payload, { HTTPTrackerDetector.inspectRequest($0, sink: &sink) }) == .match {
                    ours.insert(frame)
                    #expect(sink.trackerRequests.first?.infoHashes.count == 1, "\(file.lastPathComponent) frame \(frame)")
                }
            }
            #expect(ours == expected, "\(file.lastPathComponent)")
            announces += ours.count
        }
        #expect(announces == 19)   // every announce in the corpus, per tshark 4.0
    }
}
