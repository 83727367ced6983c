// SOCKS4 and SOCKS4a (SOCKS4.protocol, SOCKS4A.protocol) through TunnelDetector, with real bytes:
// - nDPI tests/pcap socks.pcap (../shared/corpus/public/negative): frames 18/20 (SOCKS4 to
//   93.184.216.119:80, reply 90), frames 32/34 (SOCKS4a www.example.com);
// - arkime socks4-https.pcap frames 4/6 (4a with USERID and login.live.com:443);
// - Zeek zeek_socks.pcap frames 5/7; SampleCaptures/tunnels socks4-connect.pcap, socks4a-rejected.pcap (dante 1.4).
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

@Suite struct TunnelSOCKS4Tests {
    static let ndpiSOCKS4: [(String, Bool)] = [("040100505db8d87700", true), ("005adfb20ab49cf9", false)]
    static let ndpiSOCKS4a: [(String, Bool)] = [("0401005000000001007777772e6578616d706c652e636f6d00", true), ("005adfb30ab49cf9", false)]
    static let arkime4a: [(String, Bool)] = [("040101bb000000016664376263663762356339653164006c6f67696e2e6c6976652e636f6d00", true),
                                              ("005a01bb83fd3d50", false)]

    @Test func ndpiConnect() {
        let r = TunnelRun.messages(Self.ndpiSOCKS4 + [("474554202f20485454502f312e310d0a", true)])
        let i = r.info
        #expect(i?.kind == .socks4 && i?.command == .connect && i?.target == .ipv4([93, 184, 216, 119]) && i?.targetPort == 80)
        #expect(i?.username == nil && i?.replyCode == 90)
        #expect(i?.boundAddress == .ipv4([10, 180, 156, 249]) && i?.boundPort == 57266)
        #expect(r.clientPayload.starts(with: "GET / HTTP/1.1"))
    }

    @Test func socks4aDomainAndUserID() {
        let a = TunnelRun.messages(Self.ndpiSOCKS4a).info
        #expect(a?.kind == .socks4a && a?.target == .domain("www.example.com") && a?.targetPort == 80)
        let b = TunnelRun.messages(Self.arkime4a).info
        #expect(b?.kind == .socks4a && b?.target == .domain("login.live.com") && b?.targetPort == 443)
        #expect(b?.username == "fd7bcf7b5c9e1d")
    }

    @Test func zeekAndSampleCaptures() throws {
        // zeek_socks.pcap frames 5/7: CONNECT 192.150.187.12:80, reply VN 0 CD 90 with zero address.
        let z = TunnelRun.messages([("04010050c096bb0c00", true), ("005a000000000000", false)]).info
        #expect(z?.target == .ipv4([192, 150, 187, 12]) && z?.boundAddress == .ipv4([0, 0, 0, 0]))
        let dante = TunnelRun.flow(try #require(tunnelSampleFlow("socks4-connect.pcap", port: 11082)))
        #expect(dante.info?.target == .ipv4([127, 0, 0, 1]) && dante.info?.targetPort == 18080)
        #expect(dante.clientPayload.starts(with: "GET /index.html") && dante.serverPayload.starts(with: "HTTP/1.0 200"))
        // Dante could not resolve "localhost" for the 4a request: CD 91.
        let rej = TunnelRun.flow(try #require(tunnelSampleFlow("socks4a-rejected.pcap", port: 11082)))
        #expect(rej.failure?.kind == .socks4a && rej.failure?.reason == .rejected(code: 91))
        #expect(rej.failure?.request?.target == .domain("localhost"))
    }

    @Test func bindTwoReplies() {
        var r = TunnelRun.messages([("040200505db8d87700", true), ("005a1f905db8d801", false)])
        #expect(r.detector.state == .probing)
        r.feed(hexBytes("005a04d25db8d802"), fromClient: false)
        #expect(r.info?.command == .bind && r.info?.boundPort == 8080 && r.info?.bindPeerPort == 1234)
    }

    @Test func nearMisses() {
        // CD 3 is not SOCKS4; VN 4 with a reply code outside 90..93; 4a without a name.
        #expect(TunnelRun.messages([("040300505db8d87700", true)]).detector.state == .notATunnel)
        #expect(TunnelRun.messages([("040100505db8d87700", true), ("0001dfb20ab49cf9", false)]).detector.state == .notATunnel)
        #expect(TunnelRun.messages([("0401005000000001" + "00" + "00", true)]).detector.state == .notATunnel)
        // A USERID longer than SOCKS4.maxFieldLength without NUL.
        let long = "040100505db8d877" + String(repeating: "41", count: 300)
        #expect(TunnelRun.messages([(long, true)]).detector.state == .notATunnel)
        // The server answering before the request's NUL arrived.
        #expect(TunnelRun.messages([("040100505db8d877", true), ("005a", false)]).detector.state == .notATunnel)
    }

    @Test func truncationSweep() {
        tunnelTruncationSweep(Self.ndpiSOCKS4)
        tunnelTruncationSweep(Self.ndpiSOCKS4a)
        tunnelTruncationSweep(Self.arkime4a)
    }
}
