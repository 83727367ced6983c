import Testing
import Foundation
import TorscanTestSupport
@testable import FlowEvidence

/// SampleCaptures/tunnels (made by its make-captures.sh, see its README): proxy legs get the `tunnel`
/// column and their target, and the tunnelled bytes are classified like a direct connection.
@Suite struct TunnelFlowTests {
    static func flows(_ file: String) throws -> AnalysisOutput {
        try analyze([TestPaths.sampleCaptures.appendingPathComponent("tunnels/\(file)")])
    }

    /// helpers.py bt via microsocks: a BEP 3 handshake both ways through SOCKS5 CONNECT 127.0.0.1:16882.
    @Test func bittorrentThroughSOCKS5() throws {
        let out = try Self.flows("socks5-bittorrent.pcap")
        let leg = out.flows.first { $0.tunnel != nil }
        #expect(leg?.tunnel == "socks5" && leg?.tunnelTarget == "127.0.0.1:16882" && leg?.dstPort == 11080)
        #expect(leg?.label == "bittorrent-peer" && leg?.infoHashes.map(\.hex) == ["dbfc0ce7a1e5b8b2e0c4e3f3a3fb6a0b8e5d218c"])
        // On loopback client, proxy and target share 127.0.0.1: the client leg's handshakes make a row
        // via the proxy, the proxy's own leg a direct row attributed to the client (ProxyAttribution).
        #expect(out.evidence.map(\.confidence) == [.handshake, .handshake])
        #expect(out.evidence.map { $0.via?.description } == [nil, "127.0.0.1:11080"])
        #expect(out.evidence.map(\.targets) == [[], ["127.0.0.1:16882"]])
        #expect(out.evidence.map { $0.attributedTo.map(\.description) } == [["127.0.0.1"], []])
    }

    @Test(arguments: [("http-connect.pcap", "http-connect", "127.0.0.1:18080"), ("socks4-connect.pcap", "socks4", "127.0.0.1:18080"),
                      ("socks5-connect-domain.pcap", "socks5", "localhost:18080"), ("socks5-connect-ipv4.pcap", "socks5", "127.0.0.1:18080")])
    func proxyLegs(file: String, kind: String, target: String) throws {
        let out = try Self.flows(file)
        let legs = out.flows.filter { $0.tunnel != nil }
        #expect(legs.count == 1 && legs.first?.tunnel == kind && legs.first?.tunnelTarget == target)
        #expect(out.evidence.isEmpty)
    }

    /// make-mse-captures.sh: libtorrent through microsocks to a seeder with encryption forced. Both the
    /// proxy leg (key exchange from the first tunnelled byte) and the proxy-to-seeder leg are MSE.
    @Test func encryptedThroughSOCKS5() throws {
        let out = try Self.flows("socks5-mse-libtorrent.pcap")
        let encrypted = out.flows.filter { $0.label == "bittorrent-encrypted" }
        #expect(encrypted.count == 2)
        #expect(encrypted.contains { $0.tunnel == "socks5" && $0.tunnelTarget == "127.0.0.1:16891" })
        #expect(encrypted.contains { $0.tunnel == nil && $0.dstPort == 16891 })
    }
    /// helpers.py udp via dante: UDP ASSOCIATE, then DHT ping + get_peers through the relay, and one
    /// FRAG=1 datagram. The client-relay leg is read without its SOCKS5 UDP header.
    @Test func dhtThroughSOCKS5UDPAssociate() throws {
        let out = try Self.flows("socks5-udp-associate-dht.pcap")
        let relayed = out.flows.filter { $0.proto == .udp && $0.tunnel == "socks5" }
        #expect(relayed.count == 1)
        #expect(relayed.first?.label == "bittorrent-dht" && relayed.first?.tunnelTarget == "127.0.0.1:16881")
        // One get_peers for dbfc0ce7...218c, relayed once: below EvidenceLimits.dhtGetPeersMinimumQueries
        // on each leg (the relay's copy is the same lookup, not a second one), so no row names it.
        #expect(relayed.first?.infoHashes == [])
        #expect(out.evidence.isEmpty)
        #expect(out.anomalies["socks5_udp_fragment"] == 1)
    }
}
