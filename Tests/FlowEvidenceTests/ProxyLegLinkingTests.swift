// The linking rules of ProxyLegLinking.swift on hand-made flow rows (the real captures are in
// ProxyAttributionTests): a request naming a domain, competing candidates, the timing window, one
// client per proxy connection. Times and sizes are those of SampleCaptures/tunnels/socks5-connect-domain.pcap
// (client leg 127.0.0.1:59080 -> :11080, CONNECT "localhost":18080; proxy leg at frame 9).
import Testing
import WireBytes
import PacketDecode
import BitTorrentClassifier
@testable import FlowEvidence

@Suite struct ProxyLegLinkingTests {
    static let proxy = IPAddress("127.0.0.1")!, client = IPAddress("10.0.0.2")!
    static let target = IPAddress("10.0.0.80")!, other = IPAddress("10.0.0.99")!
    static let ms: Int64 = 1_000_000

    /// A finalizer holding `rows`: row 0 is the client leg (a CONNECT to `target` opened at 10 ms).
    static func finalizer(target: TunnelTarget, candidates: [(src: IPAddress, dst: IPAddress, port: UInt16, at: Int64, up: Int64, down: Int64)])
        -> FlowFinalizer {
        var f = FlowFinalizer(aggregator: AggregatorBox(EvidenceAggregator()), bufferLimit: 1, keepsAllRows: true)
        func row(_ s: IPAddress, _ sp: UInt16, _ d: IPAddress, _ dp: UInt16, _ at: Int64, _ frame: Int, tunnel: String?) -> FlowRow {
            FlowRow(proto: .tcp, srcIP: s, srcPort: sp, dstIP: d, dstPort: dp, firstSeen: Timestamp(nanoseconds: at),
                    lastSeen: Timestamp(nanoseconds: at + 100 * ms), packets: 10, bytes: 1000, label: "other", infoHashes: [],
                    tunnel: tunnel, firstFrame: FrameRef(captureIndex: 0, frame: frame))
        }
        f.rows.append(row(client, 59080, proxy, 11080, 0, 1, tunnel: "socks5"))
        let info = TunnelInfo(kind: .socks5, command: .connect, target: target, targetPort: 18080, replyCode: 0)
        f.aggregator.attribution.tunnels[0] = OpenTunnel(info: info, via: ProxyEndpoint(address: proxy, port: 11080), target: "\(target):18080",
                                                         targetID: 1, openedAt: Timestamp(nanoseconds: 10 * ms), handshakeUp: 13 + 9, handshakeDown: 12)
        f.aggregator.attribution.legs.append(LegFacts(flowID: 0, isTCP: true, sawSYN: true, bytesFromSrc: 22 + 100, bytesFromDst: 12 + 500))
        for (i, c) in candidates.enumerated() {
            f.rows.append(row(c.src, UInt16(40000 + i), c.dst, c.port, c.at, 2 + i, tunnel: nil))
            f.aggregator.attribution.legs.append(LegFacts(flowID: i + 1, isTCP: true, sawSYN: true, bytesFromSrc: c.up, bytesFromDst: c.down))
        }
        return f
    }

    static func linked(_ f: FlowFinalizer) -> [Int] { f.rows.indices.filter { f.rows[$0].attributedTo != nil } }

    @Test func domainRequestNeedsTheProxyAddressOrEqualBytes() {
        // Another host's connection to the port, in the window, other byte counts: not the proxy's leg.
        var f = Self.finalizer(target: .domain("example.test"), candidates: [(Self.other, Self.target, 18080, 5 * Self.ms, 99, 499)])
        f.linkProxyLegs()
        #expect(Self.linked(f) == [])
        // The same with the tunnelled byte counts: linked.
        f = Self.finalizer(target: .domain("example.test"), candidates: [(Self.other, Self.target, 18080, 5 * Self.ms, 100, 500)])
        f.linkProxyLegs()
        #expect(Self.linked(f) == [1] && f.rows[1].attributedTo == Self.client && f.rows[0].linkedFrame?.frame == 2)
        // From the proxy's own address: linked whatever the bytes.
        f = Self.finalizer(target: .domain("example.test"), candidates: [(Self.proxy, Self.target, 18080, 5 * Self.ms, 1, 1)])
        f.linkProxyLegs()
        #expect(Self.linked(f) == [1])
    }

    @Test func bestCandidateWinsAndTheWindowHolds() {
        let t = TunnelTarget.ipv4(Self.target.bytes)
        // Equal bytes beat the earlier candidate; the proxy's own address beats another at equal score.
        var f = Self.finalizer(target: t, candidates: [(Self.proxy, Self.target, 18080, 2 * Self.ms, 7, 7),
                                                       (Self.proxy, Self.target, 18080, 4 * Self.ms, 100, 500)])
        f.linkProxyLegs()
        #expect(Self.linked(f) == [2])
        f = Self.finalizer(target: t, candidates: [(Self.other, Self.target, 18080, 2 * Self.ms, 100, 500),
                                                   (Self.proxy, Self.target, 18080, 4 * Self.ms, 100, 500)])
        f.linkProxyLegs()
        #expect(Self.linked(f) == [2])
        // Another address or port, or after the reply (beyond the slack), or before the client connected: nothing.
        for c in [(Self.proxy, Self.other, UInt16(18080), 5 * Self.ms), (Self.proxy, Self.target, 18081, 5 * Self.ms),
                  (Self.proxy, Self.target, 18080, 12 * Self.ms), (Self.proxy, Self.target, 18080, -2 * Self.ms)] {
            f = Self.finalizer(target: t, candidates: [(c.0, c.1, c.2, c.3, 100, 500)])
            f.linkProxyLegs()
            #expect(Self.linked(f) == [], "\(c)")
        }
        // Within the slack after the reply: linked.
        f = Self.finalizer(target: t, candidates: [(Self.proxy, Self.target, 18080, 10 * Self.ms + ProxyLegMatcher.timingSlackNanoseconds, 100, 500)])
        f.linkProxyLegs()
        #expect(Self.linked(f) == [1])
    }

    @Test func aProxyConnectionServesOneClient() {
        let t = TunnelTarget.ipv4(Self.target.bytes)
        var f = Self.finalizer(target: t, candidates: [(Self.proxy, Self.target, 18080, 5 * Self.ms, 100, 500)])
        // A second client leg with the same request and window.
        f.rows.append(FlowRow(proto: .tcp, srcIP: Self.other, srcPort: 59081, dstIP: Self.proxy, dstPort: 11080, firstSeen: Timestamp(nanoseconds: 1),
                              lastSeen: Timestamp(nanoseconds: 100 * Self.ms), packets: 10, bytes: 1000, label: "other", infoHashes: [],
                              tunnel: "socks5", firstFrame: FrameRef(captureIndex: 0, frame: 9)))
        var second = f.aggregator.attribution.tunnels[0]!
        second.openedAt = Timestamp(nanoseconds: 11 * Self.ms)
        f.aggregator.attribution.tunnels[2] = second
        f.aggregator.attribution.legs.append(LegFacts(flowID: 2, isTCP: true, sawSYN: true, bytesFromSrc: 122, bytesFromDst: 512))
        f.linkProxyLegs()
        #expect(f.rows[1].attributedTo == Self.client)   // the tunnel that opened first
        #expect(f.rows[2].linkedFrame == nil)
    }
}
