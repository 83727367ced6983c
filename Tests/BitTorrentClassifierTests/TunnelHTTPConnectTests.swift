// HTTP CONNECT (RFC 9110 §9.3.6) through TunnelDetector, with real bytes from
// SampleCaptures/tunnels/http-connect.pcap and http-connect-407.pcap (tinyproxy 1.11.1, curl 7.88.1).
import Foundation
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

@Suite struct TunnelHTTPConnectTests {
    static let request = "CONNECT 127.0.0.1:18080 HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nProxy-Authorization: Basic Ym9iOmh1bnRlcjI=\r\nUser-Agent: curl/7.88.1\r\nProxy-Connection: Keep-Alive\r\n\r\n"
    static let ok = "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n"
    static func hex(_ s: String) -> String { s.utf8.map { String(format: "%02x", $0) }.joined() }

    @Test func tinyproxyWithBasicAuth() throws {
        let r = TunnelRun.flow(try #require(tunnelSampleFlow("http-connect.pcap", port: 18888)))
        let i = try #require(r.info)
        #expect(i.kind == .httpConnect && i.command == .connect && i.target == .ipv4([127, 0, 0, 1]) && i.targetPort == 18080)
        #expect(i.username == "bob" && i.replyCode == 200 && i.boundAddress == nil)
        #expect(!String(describing: r.detector).contains("hunter2"))
        #expect(r.clientPayload.starts(with: "GET /index.html") && r.serverPayload.starts(with: "HTTP/1.0 200 OK"))
    }

    @Test func challengeThenNewConnection() throws {
        // curl --proxy-anyauth: the first connection gets 407 (tinyproxy closes it), the second succeeds.
        let first = TunnelRun.flow(try #require(tunnelSampleFlow("http-connect-407.pcap", port: 18888, index: 0)))
        #expect(first.failure?.reason == .rejected(code: 407) && first.failure?.username == nil)
        let second = TunnelRun.flow(try #require(tunnelSampleFlow("http-connect-407.pcap", port: 18888, index: 1)))
        #expect(second.info?.username == "bob")
    }

    @Test func retryOnTheSameConnection() {
        // A keep-alive proxy answers 407 with a body of Content-Length bytes; the client retries.
        let challenge = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\nnope!"
        let noAuth = "CONNECT 127.0.0.1:18080 HTTP/1.1\r\nHost: 127.0.0.1:18080\r\n\r\n"
        var r = TunnelRun.messages([(Self.hex(noAuth), true), (Self.hex(challenge), false)])
        #expect(r.failure?.reason == .rejected(code: 407))
        r.feed(Array(Self.request.utf8), fromClient: true)
        #expect(r.detector.state == .probing)
        // The 200 and the tunnelled server's first bytes (an HTTP response too) in one segment.
        let tunnelled = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        r.feed(Array((Self.ok + tunnelled).utf8), fromClient: false)
        #expect(r.info?.username == "bob" && r.info?.replyCode == 200)
        #expect(r.serverPayload == Array(tunnelled.utf8))
    }

    @Test func authorityForms() {
        func target(_ a: String) -> (TunnelTarget, UInt16)? { HTTPConnect.authority(Array(a.utf8)) }
        #expect(target("example.org:443")! == (.domain("example.org"), 443))
        #expect(target("[2001:db8::1]:51413")! == (.ipv6(hexBytes("20010db8000000000000000000000001")), 51413))
        #expect(target("10.0.0.1:6881")! == (.ipv4([10, 0, 0, 1]), 6881))
        #expect(target("example.org") == nil && target("example.org:99999") == nil && target("[::1:443") == nil)
    }

    @Test func targetText() {
        #expect(TunnelTarget.ipv6(hexBytes("20010db8000000000000000000000001")).description == "2001:db8::1")
        #expect(TunnelTarget.ipv6(hexBytes("00000000000000000000000000000001")).description == "::1")
        #expect(TunnelTarget.ipv6(hexBytes("20010db8000000010000000000000000")).description == "2001:db8:0:1::")
        #expect(TunnelTarget.ipv6(hexBytes("20010db8000100010001000100010001")).description == "2001:db8:1:1:1:1:1:1")
        #expect(TunnelTarget.ipv6(hexBytes("20010000000000010000000000000001")).description == "2001:0:0:1::1")
        #expect(TunnelTarget.ipv4([10, 0, 0, 1]).description == "10.0.0.1")
        #expect(TunnelKind.socks4a.flowColumn == "socks4" && TunnelKind.httpConnect.flowColumn == "http-connect")
    }

    @Test func nearMisses() {
        let lower = "connect example.org:443 HTTP/1.1\r\n\r\n"   // methods are case-sensitive
        #expect(TunnelRun.messages([(Self.hex(lower), true)]).detector.state == .notATunnel)
        let noPort = "CONNECT example.org HTTP/1.1\r\n\r\n"
        #expect(TunnelRun.messages([(Self.hex(noPort), true)]).detector.state == .notATunnel)
        let get = "GET http://example.org/ HTTP/1.1\r\n\r\n"
        #expect(TunnelRun.messages([(Self.hex(get), true)]).detector.state == .notATunnel)
        // The answer is not HTTP: the server never confirmed being a proxy, so classify directly.
        let notHTTP = TunnelRun.messages([(Self.hex(Self.request), true), ("16030100", false)])
        #expect(notHTTP.detector.state == .notATunnel && notHTTP.directBytes == Self.request.utf8.count + 4)
    }

    @Test func truncationSweep() {
        tunnelTruncationSweep([(Self.hex(Self.request), true), (Self.hex(Self.ok), false)])
    }
}
