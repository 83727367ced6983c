// SOCKS5 BIND (RFC 1928 sections 4 and 6) with real bytes: SampleCaptures/tunnels/socks5-bind-bittorrent.pcap
// (make-captures.sh: dante 1.4.2, helpers.py bind). tshark: frame 8 client BIND request for 127.0.0.1:0;
// frame 9 first reply, BND 127.0.0.1:41999; frame 10 the remote peer 127.0.0.1:45166 connects to 41999;
// frame 13 second reply naming 127.0.0.1:45166; frames 15/17 the peer's BEP 3 handshake on both legs,
// 18/19 the client's.
import Testing
import WireBytes
@testable import BitTorrentClassifier

@Suite struct TunnelBindTests {
    static let file = "socks5-bind-bittorrent.pcap"

    @Test func danteBindOpensAfterTheSecondReply() throws {
        let flow = try #require(tunnelSampleFlow(Self.file, port: 11082))
        let r = TunnelRun.flow(flow)
        let i = try #require(r.info)
        #expect(i.kind == .socks5 && i.command == .bind && i.target == .ipv4([127, 0, 0, 1]) && i.targetPort == 0)
        #expect(i.boundAddress == .ipv4([127, 0, 0, 1]) && i.boundPort == 41999)
        #expect(i.bindPeerAddress == .ipv4([127, 0, 0, 1]) && i.bindPeerPort == 45166)
        // The tunnelled bytes are the two handshakes, peer first (it spoke first on its connection).
        #expect(r.serverPayload.starts(with: "\u{13}BitTorrent protocol") && r.clientPayload.starts(with: "\u{13}BitTorrent protocol"))
        #expect(Array(r.serverPayload[48..<68]) == Array("-TS0001-bindpeer0000".utf8))
        // Every handshake byte is counted (greeting 3 + request 10; method 2 + two replies of 10).
        var d = TunnelDetector()
        for s in flow.segments { _ = s.payload.withUnsafeBytes { d.consume($0, fromClient: s.fromInitiator) } }
        #expect(d.handshakeBytes.fromClient == 13 && d.handshakeBytes.fromServer == 22)
    }

    /// The client leg and the remote peer's connection to BND.PORT are linked; near misses are not.
    @Test func bindLegsMatch() throws {
        let flow = try #require(tunnelSampleFlow(Self.file, port: 11082))
        var run = TunnelRun(), replyAt: Int64 = 0
        for s in flow.segments {
            let wasOpen = run.info != nil
            run.feed(s.payload, fromClient: s.fromInitiator)
            if !wasOpen && run.info != nil { replyAt = s.ts }
        }
        let client = ProxyClientLeg(tunnel: try #require(run.info), requestAt: Timestamp(nanoseconds: flow.openedAt),
                                    replyAt: Timestamp(nanoseconds: replyAt), bytesUp: run.clientPayload.count, bytesDown: run.serverPayload.count)
        let incoming = try #require(tunnelSampleFlow(Self.file, port: 41999))
        let leg = ProxyLeg(address: incoming.initiator.ip, port: incoming.initiator.port, openedAt: Timestamp(nanoseconds: incoming.openedAt),
                           bytesToTarget: incoming.segments.filter { !$0.fromInitiator }.reduce(0) { $0 + $1.payload.count },
                           bytesFromTarget: incoming.segments.filter(\.fromInitiator).reduce(0) { $0 + $1.payload.count })
        let m = ProxyLegMatcher.matchBind(client, leg, toPort: 41999)
        #expect(m?.reasons == ["bound_port", "byte_counts_equal", "opened_between_request_and_reply", "target_address", "target_port"])
        #expect(m?.score == 100)
        #expect(ProxyLegMatcher.matchBind(client, leg, toPort: 41998) == nil)       // another listening port
        #expect(ProxyLegMatcher.match(client, leg) == nil)                          // not a CONNECT
        var other = leg
        other.port = 45167
        #expect(ProxyLegMatcher.matchBind(client, other, toPort: 41999) == nil)      // not the host the reply named
        other = leg
        other.openedAt = Timestamp(nanoseconds: replyAt + 2 * ProxyLegMatcher.timingSlackNanoseconds)
        #expect(ProxyLegMatcher.matchBind(client, other, toPort: 41999) == nil)      // after the second reply
        var connect = client
        connect.tunnel.command = .connect
        #expect(ProxyLegMatcher.matchBind(connect, leg, toPort: 41999) == nil)
    }
}
