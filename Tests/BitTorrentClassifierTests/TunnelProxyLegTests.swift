// ProxyLegMatcher on SampleCaptures/tunnels, which hold both legs of each proxied connection
// (make-captures.sh captures the proxy port and the target port on loopback).
import Testing
import TorscanTestSupport
import WireBytes
@testable import BitTorrentClassifier

@Suite struct TunnelProxyLegTests {
    /// The client leg of `file` as the flow layer would describe it.
    static func clientLeg(_ file: String, proxyPort: UInt16) throws -> ProxyClientLeg {
        let flow = try #require(tunnelSampleFlow(file, port: proxyPort))
        var run = TunnelRun(), requestAt: Int64 = 0, replyAt: Int64 = 0
        for s in flow.segments {
            let wasOpen = run.info != nil
            run.feed(s.payload, fromClient: s.fromInitiator)
            if !wasOpen && s.fromInitiator { requestAt = s.ts }
            if !wasOpen && run.info != nil { replyAt = s.ts }
        }
        let info = try #require(run.info)
        return ProxyClientLeg(tunnel: info, requestAt: Timestamp(nanoseconds: requestAt), replyAt: Timestamp(nanoseconds: replyAt),
                              bytesUp: run.clientPayload.count, bytesDown: run.serverPayload.count)
    }

    static func proxyLeg(_ file: String, targetPort: UInt16) throws -> ProxyLeg {
        let f = try #require(tunnelSampleFlow(file, port: targetPort))
        return ProxyLeg(address: f.responder.ip, port: f.responder.port, openedAt: Timestamp(nanoseconds: f.openedAt),
                        bytesToTarget: f.segments.filter(\.fromInitiator).reduce(0) { $0 + $1.payload.count },
                        bytesFromTarget: f.segments.filter { !$0.fromInitiator }.reduce(0) { $0 + $1.payload.count })
    }

    @Test func bothLegsOfSOCKS5AndHTTPConnect() throws {
        for (file, port) in [("socks5-connect-ipv4.pcap", UInt16(11080)), ("socks5-bittorrent.pcap", 11080),
                             ("socks4-connect.pcap", 11082), ("http-connect.pcap", 18888)] {
            let client = try Self.clientLeg(file, proxyPort: port)
            let leg = try Self.proxyLeg(file, targetPort: client.tunnel.targetPort)
            let m = ProxyLegMatcher.match(client, leg)
            #expect(m?.reasons == ["byte_counts_equal", "opened_between_request_and_reply", "target_address", "target_port"], "\(file)")
            #expect(m?.score == 100)
        }
        // A name in the request: port and timing only.
        let dom = try Self.clientLeg("socks5-connect-domain.pcap", proxyPort: 11080)
        let domLeg = try Self.proxyLeg("socks5-connect-domain.pcap", targetPort: 18080)
        #expect(ProxyLegMatcher.match(dom, domLeg)?.reasons == ["byte_counts_equal", "opened_between_request_and_reply",
                                                                 "target_is_domain_name", "target_port"])
    }

    @Test func nearMisses() throws {
        let client = try Self.clientLeg("socks5-connect-ipv4.pcap", proxyPort: 11080)
        // Same target, but the proxy opened it during another client's handshake (another capture, seconds later).
        let other = try Self.proxyLeg("socks5-userpass.pcap", targetPort: 18080)
        #expect(ProxyLegMatcher.match(client, other) == nil)
        var leg = try Self.proxyLeg("socks5-connect-ipv4.pcap", targetPort: 18080)
        leg.port = 18081
        #expect(ProxyLegMatcher.match(client, leg) == nil)
        leg.port = 18080; leg.address = [127, 0, 0, 2]
        #expect(ProxyLegMatcher.match(client, leg) == nil)
    }

    @Test func relayedDatagrams() throws {
        // socks5-udp-associate-dht.pcap: frame 10 (client -> relay) is relayed as frame 11; 14 as 15.
        let cap = try #require(TunnelTestFiles.sample("socks5-udp-associate-dht.pcap"))
        func dg(_ n: Int) throws -> TestDatagram { try #require(cap.udp.first { $0.frame == n }) }
        func matches(_ c: Int, _ r: Int) throws -> Bool {
            let client = try dg(c), relayed = try dg(r)
            let h = try #require(client.payload.withUnsafeBytes { SOCKS5UDPHeader.parse($0) })
            return client.payload.withUnsafeBytes { cb in relayed.payload.withUnsafeBytes { rb in
                ProxyLegMatcher.matchDatagram(header: h, clientDatagram: cb, relayedTo: relayed.dst.ip, port: relayed.dst.port, relayed: rb)
            } }
        }
        #expect(try matches(10, 11) && matches(14, 15))
        #expect(try !matches(10, 15) && !matches(14, 11))
    }
}
