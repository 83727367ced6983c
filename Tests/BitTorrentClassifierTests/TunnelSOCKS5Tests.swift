// SOCKS5 (RFC 1928, RFC 1929) through TunnelDetector, with real bytes:
// - arkime tests/pcap socks5-http-302.pcap (../shared/corpus/public/negative), frames 4-8, quoted inline;
// - arkime socks5-smtp-503.pcap frames 5-13 (domain ATYP), socks5-rdp.pcap frames 4-8;
// - SampleCaptures/tunnels/*.pcap made by make-captures.sh (microsocks 1.0.x, dante 1.4, curl 7.88).
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

@Suite struct TunnelSOCKS5Tests {
    // arkime socks5-http-302.pcap: 4 "050100" greeting (no auth), 5 "0500", 6 CONNECT www.google.com:80
    // (ATYP 3), 7 reply success BND 10.0.0.2:80, 8 "GET / HTTP/1.1" tunnelled.
    static let arkimeHTTP302: [(String, Bool)] = [
        ("050100", true), ("0500", false),
        ("050100030e7777772e676f6f676c652e636f6d0050", true), ("050000010a0000020050", false),
    ]

    @Test func arkimeConnectByDomain() {
        let r = TunnelRun.messages(Self.arkimeHTTP302 + [("474554202f20485454502f312e310d0a", true)])
        let i = try! #require(r.info)
        #expect(i.kind == .socks5 && i.command == .connect)
        #expect(i.target == .domain("www.google.com") && i.targetPort == 80)
        #expect(i.authMethod == 0 && i.replyCode == 0 && i.username == nil)
        #expect(i.boundAddress == .ipv4([10, 0, 0, 2]) && i.boundPort == 80)
        #expect(r.clientPayload.starts(with: "GET / HTTP/1.1"))
    }

    @Test func dripFeedAndPipeliningGiveTheSameAnswer() {
        let whole = TunnelRun.messages(Self.arkimeHTTP302).detector.state
        #expect(TunnelRun.dripFed(Self.arkimeHTTP302).detector.state == whole)
        // Greeting and request in one segment (clients that pipeline), then both replies together.
        let piped = TunnelRun.messages([("050100" + "050100030e7777772e676f6f676c652e636f6d0050", true),
                                        ("0500" + "050000010a0000020050" + "48545450", false)])
        #expect(piped.detector.state == whole)
        #expect(piped.serverPayload == Array("HTTP".utf8))
    }

    @Test func earlyClientDataIsDeferredPayload() {
        // Optimistic data: the client sends its first tunnelled bytes before the reply arrives.
        let r = TunnelRun.messages([("050100", true), ("0500", false),
                                    ("050100030e7777772e676f6f676c652e636f6d0050" + "474554", true),
                                    ("050000010a0000020050", false)])
        #expect(r.info != nil)
        #expect(r.clientPayload == Array("GET".utf8))
    }

    @Test func arkimeSMTPAndRDP() {
        // socks5-smtp-503.pcap 9: domain "010.000.00.003" port 25; 11: BND 10.0.0.1:53709.
        let smtp = TunnelRun.messages([("050100", true), ("0500", false),
                                       ("050100030e3031302e3030302e30302e3030330019", true), ("050000010a000001d1cd", false)])
        #expect(smtp.info?.target == .domain("010.000.00.003") && smtp.info?.targetPort == 25)
        // socks5-rdp.pcap 6: IPv4 10.0.0.1:3389; 7: BND 0.0.0.0:0.
        let rdp = TunnelRun.messages([("050100", true), ("0500", false),
                                      ("050100010a0000010d3d", true), ("05000001000000000000", false)])
        #expect(rdp.info?.target == .ipv4([10, 0, 0, 1]) && rdp.info?.targetPort == 3389)
        #expect(rdp.info?.boundAddress == .ipv4([0, 0, 0, 0]))
    }

    @Test func sampleCapturesIPv4DomainIPv6() throws {
        let v4 = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-connect-ipv4.pcap", port: 11080)))
        #expect(v4.info?.target == .ipv4([127, 0, 0, 1]) && v4.info?.targetPort == 18080)
        #expect(v4.clientPayload.starts(with: "GET /index.html HTTP/1.1"))
        #expect(v4.serverPayload.starts(with: "HTTP/1.0 200 OK"))
        let dom = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-connect-domain.pcap", port: 11080)))
        #expect(dom.info?.target == .domain("localhost"))
        let v6 = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-connect-ipv6.pcap", port: 11080)))
        #expect(v6.info?.target == .ipv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))
        #expect(v6.info?.targetPort == 18080)
        // The proxy's own leg to the target is a direct connection.
        let leg = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-connect-ipv4.pcap", port: 18080)))
        #expect(leg.detector.state == .notATunnel && leg.directBytes > 0)
    }

    @Test func usernamePasswordKeepsTheUserNeverThePassword() throws {
        // socks5-userpass.pcap frame 4 "0503000102", 6 "0502", 8 "01 05 alice 06 s3cret", 9 "0100".
        let r = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-userpass.pcap", port: 11081)))
        let i = try #require(r.info)
        #expect(i.username == "alice" && r.detector.username == "alice" && i.authMethod == 2)
        #expect(!String(describing: r.detector).contains("s3cret"))
        let bad = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-userpass-rejected.pcap", port: 11081)))
        #expect(bad.failure?.reason == .authenticationFailed(status: 2))
        #expect(bad.failure?.username == "alice" && bad.failure?.request == nil)
    }

    @Test func rejectedConnect() throws {
        // socks5-refused.pcap: CONNECT 127.0.0.1:1, microsocks answers REP 5 (connection refused).
        let r = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-refused.pcap", port: 11080)))
        let f = try #require(r.failure)
        #expect(f.kind == .socks5 && f.reason == .rejected(code: 5))
        #expect(f.request?.targetPort == 1)
    }

    @Test func bittorrentThroughTheProxy() throws {
        // socks5-bittorrent.pcap: helpers.py sends a BEP 3 handshake through microsocks.
        let r = TunnelRun.flow(try #require(tunnelSampleFlow("socks5-bittorrent.pcap", port: 11080)))
        #expect(r.info?.target == .ipv4([127, 0, 0, 1]) && r.info?.targetPort == 16882)
        #expect(r.clientPayload.count >= 68 && r.clientPayload.starts(with: "\u{13}BitTorrent protocol"))
        #expect(r.serverPayload.starts(with: "\u{13}BitTorrent protocol"))
        #expect(Array(r.clientPayload[28..<48]) == hexBytes("dbfc0ce7a1e5b8b2e0c4e3f3a3fb6a0b8e5d218c"))
    }

    @Test func bindWaitsForTheSecondReply() {
        // RFC 1928 §6: BIND gets two replies; the tunnel opens after the second.
        var r = TunnelRun.messages([("050100", true), ("0500", false), ("050200010a0000010d3d", true),
                                    ("050000010a000001c350", false)])
        #expect(r.detector.state == .probing)
        r.feed(hexBytes("050000010a000005d1cd" + "41"), fromClient: false)
        let i = r.info
        #expect(i?.command == .bind && i?.boundPort == 50000 && i?.bindPeerAddress == .ipv4([10, 0, 0, 5]) && i?.bindPeerPort == 53709)
        #expect(r.serverPayload == [0x41])
    }

    @Test func failuresAreNamed() {
        let noMethod = TunnelRun.messages([("05020001", true), ("05ff", false)])
        #expect(noMethod.failure?.reason == .noAcceptableMethod)
        let gssapi = TunnelRun.messages([("05020001", true), ("0501", false)])
        #expect(gssapi.failure?.reason == .unsupportedMethod(1))
        let badReply = TunnelRun.messages(Self.arkimeHTTP302.dropLast() + [("0400", false)])
        #expect(badReply.failure?.reason == .malformedReply)
    }

    @Test(arguments: [
        ("0500", "NMETHODS 0"),
        ("04", "SOCKS4 byte then nothing valid"),
        ("16030100", "TLS record"),
        ("13426974546f7272656e742070726f746f636f6c", "BitTorrent handshake"),
        ("474554202f20485454502f312e310d0a0d0a", "HTTP GET"),
    ])
    func nearMissClientFirstBytes(hex: String, what: String) {
        var r = TunnelRun.messages([(hex, true)])
        if r.detector.state == .probing { r.feed(hexBytes("0000000000000000000000"), fromClient: false) }
        #expect(r.detector.state == .notATunnel, "\(what)")
    }

    @Test func nearMissRequests() {
        let rsv = TunnelRun.messages([("050100", true), ("050101010a0000010d3d", true)])
        #expect(rsv.detector.state == .notATunnel)   // RSV != 0
        let cmd = TunnelRun.messages([("050100", true), ("050400010a0000010d3d", true)])
        #expect(cmd.detector.state == .notATunnel)   // CMD 4
        let atyp = TunnelRun.messages([("050100", true), ("050100020a0000010d3d", true)])
        #expect(atyp.detector.state == .notATunnel)  // ATYP 2
        let notOffered = TunnelRun.messages([("050100", true), ("0502", false)])
        #expect(notOffered.detector.state == .notATunnel)
        let serverFirst = TunnelRun.messages([("0500", false), ("050100", true)])
        #expect(serverFirst.detector.state == .notATunnel)
        // arkime socks5-reverse.pcap frame 4: the TCP initiator sends 6 other bytes, then the responder
        // plays SOCKS client. Reverse SOCKS is not followed (known limitation).
        let reverse = TunnelRun.messages([("4e5a8d08874e", true), ("050100", false)])
        #expect(reverse.detector.state == .notATunnel)
    }

    @Test func stopProbingHandsBackTheHeldBytes() {
        var d = TunnelDetector()
        let greeting = hexBytes("050100")
        #expect(greeting.withUnsafeBytes { d.consume($0, fromClient: true) } == 3)
        d.stopProbing()
        #expect(d.state == .notATunnel)
        #expect(d.takeDeferredBytes(fromClient: true) == greeting)
        #expect(d.takeDeferredBytes(fromClient: true).isEmpty && d.takeDeferredBytes(fromClient: false).isEmpty)
    }

    @Test func longHandshakeIsBounded() {
        // 255 methods, then a request that never ends: CMD 5 is not a command, so not SOCKS at all.
        let socks = TunnelRun.messages([("05ff" + String(repeating: "00", count: 255), true),
                                        (String(repeating: "05", count: TunnelLimits.maxHandshakeBytes), true)])
        #expect(socks.detector.state == .notATunnel)
        // A CONNECT whose header section never ends: bounded, then named.
        var http = TunnelRun.messages([("434f4e4e45435420", true)])
        http.feed([UInt8](repeating: 0x61, count: TunnelLimits.maxHandshakeBytes), fromClient: true)
        #expect(http.failure?.reason == .handshakeTooLong && http.failure?.kind == .httpConnect)
    }

    @Test func truncationSweep() {
        tunnelTruncationSweep(Self.arkimeHTTP302)
        tunnelTruncationSweep([("0503000102", true), ("0502", false), ("0105616c69636506733363726574", true), ("0100", false),
                               ("050100017f00000146a0", true), ("05000001000000000000", false)])
        tunnelTruncationSweep([("050100", true), ("0500", false), ("050100040000000000000000000000000000000146a0", true),
                               ("05000004000000000000000000000000000000010000", false)])
    }
}
