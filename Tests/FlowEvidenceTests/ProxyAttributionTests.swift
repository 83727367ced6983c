// Evidence through proxies (issue 7, ProxyAttribution.swift): `via`/`target` on rows seen on a
// tunnel's client leg, the two legs linked in the flow rows, and `attributed_to` on the proxy's own
// rows. Real captures: SampleCaptures/socks5 (python3-libtorrent through microsocks 10.77.0.1:1080,
// both legs; its truth.json) and SampleCaptures/tunnels (curl, helpers.py through microsocks, dante,
// tinyproxy on loopback, both legs; its README).
import Foundation
import Testing
import TorscanTestSupport
import PacketDecode
@testable import FlowEvidence
import TorscanCore

@Suite struct ProxyAttributionTests {
    static let socks5 = TestPaths.sampleCaptures.appendingPathComponent("socks5/capture.pcap")
    static func tunnels(_ file: String) -> URL { TestPaths.sampleCaptures.appendingPathComponent("tunnels/\(file)") }
    static let infoHash = "29fe705ce4db7cb8ad5ba4dcc56617432fc74605"

    /// The scenario's four rows (tshark: client legs 45, 71, 372, 406 from 10.77.0.4 to 10.77.0.1:1080;
    /// the proxy's own legs 55, 86, 386, 414 to the tracker 10.77.0.2:6969 and the seeder 10.77.0.3:51413).
    @Test func socks5ScenarioRows() throws {
        let out = try analyze([Self.socks5])
        let rows = out.evidence.map { "\($0.ip) \($0.via?.description ?? "-") \($0.targets.joined(separator: ";")) \($0.attributedTo.map(\.description).joined(separator: ";"))" }
        #expect(rows == [
            "10.77.0.1 -  10.77.0.4",
            "10.77.0.1 10.77.0.1:1080 10.77.0.3:51413 ",
            "10.77.0.3 -  ",
            "10.77.0.4 10.77.0.1:1080 10.77.0.2:6969;10.77.0.3:51413 ",
        ])
        #expect(out.evidence.allSatisfy { $0.infoHash.hex == Self.infoHash })
        // The proxy's own row counts only its own connections: 3 tracker legs and the seeder leg, the
        // 16 pieces it received from the seeder, libtorrent's handshake (which it relayed out).
        let exit = out.evidence[0], relayed = out.evidence[1], client = out.evidence[3]
        #expect(exit.flows == 4 && exit.peers == 1 && exit.bytesDown == 262_144 && exit.bytesUp == 0 && exit.firstFrame.frame == 91)
        #expect(exit.client == "libtorrent/2.0.8.0")
        // What it relayed to the client on 49172 -> 1080: the seeder's handshake (frame 103) and pieces.
        #expect(relayed.flows == 1 && relayed.bytesUp == 262_144 && relayed.bytesDown == 0 && relayed.firstFrame.frame == 103)
        #expect(!relayed.signals.contains(.trackerHTTP))
        #expect(client.flows == 4 && client.bytesDown == 262_144 && client.firstFrame.frame == 90)
    }

    /// Each client leg names its proxy leg and back; the proxy leg names the client.
    @Test func socks5ScenarioFlowLinks() throws {
        let out = try analyze([Self.socks5])
        let byFrame = Dictionary(uniqueKeysWithValues: out.flows.map { ($0.firstFrame.frame, $0) })
        for (clientLeg, proxyLeg) in [(45, 55), (71, 86), (372, 386), (406, 414)] {
            let c = try #require(byFrame[clientLeg]), p = try #require(byFrame[proxyLeg])
            #expect(c.linkedFrame?.frame == proxyLeg && p.linkedFrame?.frame == clientLeg, "\(clientLeg) <-> \(proxyLeg)")
            #expect(p.attributedTo?.description == "10.77.0.4" && c.attributedTo == nil)
            #expect(p.srcIP.description == "10.77.0.1" && "\(p.dstIP):\(p.dstPort)" == c.tunnelTarget)
        }
        // Frame 33: UDP ASSOCIATE that relayed nothing; 74: CONNECT 10.77.0.1:1, a port nobody listens on
        // (the proxy's own attempt is not in the capture). Direct flows of the seeder: no link.
        for frame in [33, 74, 11, 22] {
            let f = try #require(byFrame[frame])
            #expect(f.linkedFrame == nil && f.attributedTo == nil, "frame \(frame)")
        }
    }

    /// The proxy's connections that carried no BitTorrent, and its control connections, stay `other`
    /// and give no row: one BitTorrent flow does not make the proxy's address BitTorrent (issue 7 guard).
    @Test func proxyAddressIsNotTaintedByItsBitTorrentFlows() throws {
        let out = try analyze([Self.socks5])
        let byFrame = Dictionary(uniqueKeysWithValues: out.flows.map { ($0.firstFrame.frame, $0) })
        #expect(byFrame[33]?.label == "other" && byFrame[74]?.label == "other")
        #expect(out.evidence.reduce(0) { $0 + $1.flows } == 4 + 1 + 3 + 4)   // no row counts a non-BitTorrent flow
        // HTTP fetched through the same proxy address and port (127.0.0.1:11080) as a BitTorrent handshake,
        // read in one run with it and an encrypted BitTorrent transfer through a proxy on the same address.
        let run = try Pipeline.analyze(paths: ["socks5-bittorrent.pcap", "socks5-connect-ipv4.pcap", "socks5-mse-libtorrent.pcap",
                                               "socks5-connect-domain.pcap"].map { Self.tunnels($0).path },
                                       options: AnalysisOptions())
        let http = run.flows.filter { $0.dstPort == 18080 || $0.tunnelTarget?.hasSuffix(":18080") == true }
        #expect(http.count == 4)   // two client legs, two proxy legs
        #expect(http.allSatisfy { $0.label == "other" && $0.infoHashes.isEmpty })
        #expect(run.flows.contains { $0.label == "bittorrent-peer" && $0.dstPort == 11080 })
        #expect(run.flows.contains { $0.label == "bittorrent-encrypted" })
        #expect(!run.evidence.contains { $0.targets.contains { $0.hasSuffix(":18080") } })
        // ... and the HTTP legs are still linked (attribution does not depend on BitTorrent).
        #expect(http.filter { $0.tunnel == nil }.allSatisfy { $0.attributedTo?.description == "127.0.0.1" && $0.linkedFrame != nil })
    }

    /// Every CONNECT capture of SampleCaptures/tunnels: the client leg and the proxy's leg are linked
    /// (microsocks SOCKS5 to an address, a name and ::1, with RFC 1929; dante SOCKS4; tinyproxy HTTP CONNECT
    /// with Basic auth, also after a 407). Refused handshakes open nothing, so nothing is linked.
    @Test(arguments: ["socks5-connect-ipv4.pcap", "socks5-connect-domain.pcap", "socks5-connect-ipv6.pcap", "socks5-userpass.pcap",
                      "socks4-connect.pcap", "http-connect.pcap", "http-connect-407.pcap", "socks5-bittorrent.pcap"])
    func connectLegsAreLinked(file: String) throws {
        let out = try analyze([Self.tunnels(file)])
        let client = try #require(out.flows.last { $0.tunnel != nil && $0.linkedFrame != nil }, "\(file)")
        let proxyLeg = try #require(out.flows.first { $0.firstFrame == client.linkedFrame })
        #expect(proxyLeg.tunnel == nil && proxyLeg.linkedFrame == client.firstFrame && proxyLeg.attributedTo == client.srcIP, "\(file)")
        if let target = client.tunnelTarget, !target.hasPrefix("localhost") {
            #expect(target == "\(proxyLeg.dstIP):\(proxyLeg.dstPort)", "\(file)")
        }
        #expect(out.flows.filter { $0.linkedFrame != nil }.count == 2, "\(file): one pair")
    }

    @Test(arguments: ["socks5-refused.pcap", "socks5-userpass-rejected.pcap", "socks4a-rejected.pcap"])
    func refusedTunnelsLinkNothing(file: String) throws {
        let out = try analyze([Self.tunnels(file)])
        #expect(out.flows.allSatisfy { $0.linkedFrame == nil && $0.attributedTo == nil }, "\(file)")
    }

    /// dante's UDP relay: the client's datagrams to the relay (frame 10, 46525 -> 45804) and the relay's
    /// own datagrams to the DHT node (frame 11, 54645 -> 16881) are linked.
    @Test func udpAssociateRelayIsLinked() throws {
        let out = try analyze([Self.tunnels("socks5-udp-associate-dht.pcap")])
        let relayed = try #require(out.flows.first { $0.proto == .udp && $0.tunnel == "socks5" })
        #expect(relayed.firstFrame.frame == 10 && relayed.linkedFrame?.frame == 11)
        let exit = try #require(out.flows.first { $0.firstFrame.frame == 11 })
        #expect(exit.dstPort == 16881 && exit.linkedFrame?.frame == 10 && exit.attributedTo?.description == "127.0.0.1")
    }

    /// When the relay's datagrams are evidence (the whole tunnels folder names dbfc0ce7...218c elsewhere,
    /// so one get_peers counts), the client's row is via the relay and the relay's row is attributed.
    @Test func udpAssociateEvidenceRows() throws {
        let run = try Pipeline.analyze(paths: ["socks5-bittorrent.pcap", "socks5-udp-associate-dht.pcap"].map { Self.tunnels($0).path },
                                       options: AnalysisOptions())
        let dht = run.evidence.filter { $0.signals.contains(.dhtGetPeers) }
        #expect(dht.map { $0.via?.description } == [nil, "127.0.0.1:45804"])
        #expect(dht.first?.attributedTo.map(\.description) == ["127.0.0.1"])
        #expect(dht.last?.targets == ["127.0.0.1:16881"])
    }

    /// --per-day rows carry the same proxy columns; threads give the same rows.
    @Test func perDayAndThreads() throws {
        var options = AnalysisOptions()
        let one = try Pipeline.analyze(paths: [Self.socks5.path], options: options)
        options.perDay = true
        let perDay = try Pipeline.analyze(paths: [Self.socks5.path], options: options)
        #expect(perDay.evidence.map(\.via) == one.evidence.map(\.via))
        #expect(perDay.evidence.map(\.attributedTo) == one.evidence.map(\.attributedTo))
        #expect(perDay.evidence.map(\.targets) == one.evidence.map(\.targets))
        options.perDay = false
        options.threads = 3
        let three = try Pipeline.analyze(paths: [Self.socks5.path], options: options)
        #expect(three.evidence == one.evidence)
        #expect(three.flows.map(\.linkedFrame) == one.flows.map(\.linkedFrame))
    }
}

extension ProxyAttributionTests {
    /// dante BIND (TunnelBindTests has the frames): an incoming BitTorrent connection through the proxy.
    /// The client leg names the host that connected; that connection is attributed to the client.
    @Test func bindLegsAreLinked() throws {
        let out = try analyze([Self.tunnels("socks5-bind-bittorrent.pcap")])
        let client = try #require(out.flows.first { $0.tunnel == "socks5" })
        #expect(client.tunnelTarget == "127.0.0.1:45166" && client.linkedFrame?.frame == 10 && client.label == "bittorrent-peer")
        let incoming = try #require(out.flows.first { $0.firstFrame.frame == 10 })
        #expect(incoming.dstPort == 41999 && incoming.linkedFrame?.frame == 1 && incoming.attributedTo?.description == "127.0.0.1")
        #expect(out.evidence.map { $0.via?.description } == [nil, "127.0.0.1:11082"])
        #expect(out.evidence.map(\.targets) == [[], ["127.0.0.1:45166"]])
        #expect(out.evidence.map { $0.attributedTo.map(\.description) } == [["127.0.0.1"], []])
        #expect(out.evidence.map(\.firstFrame.frame) == [15, 17])
    }
}

extension ProxyAttributionTests {
    /// A row keeps the first EvidenceLimits.targetsPerRow targets in sort order, whatever the order
    /// they arrive in (shards merge accumulators in any order).
    @Test func targetsAreCappedDeterministically() {
        let all = (0..<100).map { "10.0.\($0 / 10).\($0 % 10):6881" }
        var results: Set<[String]> = []
        for order in [all, all.reversed(), all.shuffled()] {
            let acc = EvidenceAccumulator(timestamp: .init(nanoseconds: 0))
            for t in order { acc.addTarget(t) }
            acc.addTarget(order[0])   // again: no change
            results.insert(acc.targets.sorted())
        }
        #expect(results == [Array(all.sorted().prefix(EvidenceLimits.targetsPerRow))])
        // Merging two capped halves gives the same as one.
        let a = EvidenceAccumulator(timestamp: .init(nanoseconds: 0)), b = EvidenceAccumulator(timestamp: .init(nanoseconds: 0))
        for (i, t) in all.enumerated() { (i % 2 == 0 ? a : b).addTarget(t) }
        a.merge(b)
        #expect(a.targets.sorted() == results.first)
    }
}

extension ProxyAttributionTests {
    /// uTP through a SOCKS5 UDP relay (socks5-udp-associate-utp.pcap: python3-libtorrent through dante,
    /// tshark: frame 9 UDP ASSOCIATE reply BND 127.0.0.1:50197; frame 23 the client's first datagram
    /// 16896 -> 50197, relayed as frame 24 35788 -> 16895; frames 19 and 71 CONNECTs refused, REP 5).
    /// The relayed uTP is a 1 KiB transfer with its infohash; both legs are linked, and the relay's
    /// own row is attributed to the client.
    @Test func utpThroughUDPAssociate() throws {
        let out = try analyze([Self.tunnels("socks5-udp-associate-utp.pcap")])
        let byFrame = Dictionary(uniqueKeysWithValues: out.flows.map { ($0.firstFrame.frame, $0) })
        let client = try #require(byFrame[23]), relay = try #require(byFrame[24])
        #expect(client.label == "bittorrent-utp" && client.tunnel == "socks5" && client.tunnelTarget == "127.0.0.1:16895")
        #expect(relay.label == "bittorrent-utp" && relay.tunnel == nil && relay.dstPort == 16895)
        #expect([client, relay].allSatisfy { $0.infoHashes.map(\.hex) == ["1055efe41e4ec9d3a53fbd7c141662007e67c186"] })
        #expect(client.linkedFrame?.frame == 24 && relay.linkedFrame?.frame == 23 && relay.attributedTo?.description == "127.0.0.1")
        #expect([1, 11, 61].allSatisfy { byFrame[$0]?.label == "other" && byFrame[$0]?.linkedFrame == nil })
        #expect(out.evidence.map { $0.via?.description } == [nil, "127.0.0.1:50197"])
        #expect(out.evidence.allSatisfy { $0.confidence == .transfer && $0.signals.contains(.utp) && $0.bytesUp == 1024 })
        #expect(out.evidence.map(\.targets) == [[], ["127.0.0.1:16895"]])
        #expect(out.evidence.map { $0.attributedTo.map(\.description) } == [["127.0.0.1"], []])
    }
}

extension ProxyAttributionTests {
    /// Two clients behind one proxy (socks5-two-clients.pcap: 127.0.0.2 then 127.0.0.3 through microsocks
    /// 127.0.0.1:11080 to the same peer, each naming its own torrent; tshark: client legs at frames 1 and
    /// 26, the proxy's legs at 9 and 34). Each proxy leg, and the proxy's row of each torrent, names
    /// its own client only.
    @Test func twoClientsBehindOneProxyAreKeptApart() throws {
        let out = try analyze([Self.tunnels("socks5-two-clients.pcap")])
        let byFrame = Dictionary(uniqueKeysWithValues: out.flows.map { ($0.firstFrame.frame, $0) })
        #expect(byFrame[9]?.attributedTo?.description == "127.0.0.2" && byFrame[9]?.linkedFrame?.frame == 1)
        #expect(byFrame[34]?.attributedTo?.description == "127.0.0.3" && byFrame[34]?.linkedFrame?.frame == 26)
        let exits = out.evidence.filter { $0.via == nil }
        #expect(exits.map { "\($0.ip) \($0.infoHash.hex.prefix(8)) \($0.attributedTo.map(\.description))" }
                == ["127.0.0.1 5fd1e8f2 [\"127.0.0.3\"]", "127.0.0.1 dbfc0ce7 [\"127.0.0.2\"]"])
        let clients = out.evidence.filter { $0.ip.description != "127.0.0.1" }
        #expect(clients.map { "\($0.ip) \($0.infoHash.hex.prefix(8)) \($0.via?.description ?? "")" }
                == ["127.0.0.2 dbfc0ce7 127.0.0.1:11080", "127.0.0.3 5fd1e8f2 127.0.0.1:11080"])
    }
}

extension ProxyAttributionTests {
    /// A proxy whose connections leave from another address than the one its clients reach
    /// (socks5-other-exit-address.pcap: microsocks -i 127.0.0.1 -b 127.0.0.5; client 127.0.0.2):
    /// the exit address's row is attributed to the client; the target's own row is not.
    @Test func exitAddressOtherThanTheProxyAddress() throws {
        let out = try analyze([Self.tunnels("socks5-other-exit-address.pcap")])
        let leg = try #require(out.flows.first { $0.srcIP.description == "127.0.0.5" })
        #expect(leg.attributedTo?.description == "127.0.0.2" && leg.linkedFrame?.frame == 1)
        let rows = out.evidence.map { "\($0.ip) \($0.via?.description ?? "-") \($0.attributedTo.map(\.description).joined(separator: ";"))" }
        #expect(rows == ["127.0.0.1 - ", "127.0.0.1 127.0.0.1:11084 ", "127.0.0.2 127.0.0.1:11084 ", "127.0.0.5 - 127.0.0.2"])
    }
}
