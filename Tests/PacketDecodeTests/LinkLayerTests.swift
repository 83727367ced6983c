// Link layers: Ethernet + VLAN stacks + PPPoE, Linux SLL/SLL2, NULL/LOOP, raw IP (real frames from Vectors.swift).
import Foundation
import Testing
import PacketDecode
import TorscanTestSupport
import WireBytes

@Suite struct LinkLayerTests {
    func decode(_ v: Vector, as linkType: LinkType? = nil) -> (DecodedPacket, [UInt8], DecodeAnomalies) {
        var d = PacketDecoder()
        let (p, payload) = d.decode(hex: v.hex, linkType: linkType ?? v.linkType)
        return (p, payload, d.anomalies)
    }

    @Test func pppoeSessionCarriesIPv4TCP() {
        let (p, _, anomalies) = decode(Vectors.pppoeTCP)
        #expect(p.stop == nil)
        #expect(p.ipOffset == 22)   // 14 Ethernet + 6 PPPoE + 2 PPP protocol
        #expect(p.src == IPAddress("172.202.246.57") && p.dst == IPAddress("64.12.189.217"))
        #expect(p.ipProtocol == 6 && p.srcPort == 1063 && p.dstPort == 443)
        #expect(p.tcp?.flags == .syn && p.tcp?.headerLength == 28 && p.tcp?.window == 65535)
        #expect(anomalies.total == 0)
    }

    @Test func threeStackedVLANTags() {
        let (p, _, _) = decode(Vectors.vlan3TCP)
        #expect(p.stop == nil && p.ipOffset == 26)
        #expect(p.src == IPAddress("141.142.228.5") && p.dst == IPAddress("192.150.187.43"))
        #expect(p.srcPort == 59856 && p.dstPort == 80 && p.tcp?.headerLength == 44)
    }

    @Test func ieee8021adServiceTagThenCustomerTag() {
        let (p, payload, _) = decode(Vectors.qinqICMP)
        #expect(p.stop == nil && p.ipOffset == 22)
        #expect(p.src == IPAddress("47.245.159.156") && p.dst == IPAddress("92.104.109.0"))
        #expect(p.ipProtocol == 1 && p.srcPort == 0 && p.tcp == nil)
        #expect(p.payloadLength == 8 && payload == [0x08, 0x00, 0xf7, 0xff, 0, 0, 0, 0])
    }

    @Test func vlanDepthIsBounded() {
        // Near miss: 9 stacked 802.1Q tags (limit 8) before an IPv4 header.
        let tags = String(repeating: "81 00 00 01 ", count: 9)
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: "ff ff ff ff ff ff 00 00 00 00 00 01 " + tags + "08 00 45 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02")
        #expect(p.stop?.reason == .vlanDepthExceeded && !p.hasIP)
        #expect(d.anomalies[.vlanDepthExceeded] == 1)
    }

    @Test func arpIsNotIPAndNotAnAnomaly() {
        // formats/802.1ad_QinQ.pcap frame 1: RadDataC_5a:fb:3f → Broadcast ARP 64 Who has 172.21.79.100? Tell 172.21.79.97
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: """
            ff ff ff ff ff ff 00 20 d2 5a fb 3f 88 a8 00 c8 81 00 07 d1 08 06 00 01 08 00 06 04 00 01 00 20
            d2 5a fb 3f ac 15 4f 61 00 00 00 00 00 00 ac 15 4f 64 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """)
        #expect(p.stop == DecodeStop(layer: .link, reason: .nonIPPayload, offset: 22))
        #expect(!p.hasIP && d.anomalies.total == 0)
    }

    @Test func pppoeLCPIsNotIP() {
        // formats/pppoes.pcap frame 1: Intel_a9:5d:8e → Advanced_03:00:07 PPP LCP 34 Echo Request
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: "00 02 18 03 00 07 00 04 23 a9 5d 8e 88 64 11 00 00 17 00 0e c0 21 09 6a 00 0c a4 cb ea 34 0e e2 f6 09")
        #expect(p.stop?.layer == .pppoe && p.stop?.reason == .nonIPPayload && !p.hasIP)
    }

    @Test func pppoeWrongVersionIsCounted() {
        // Near miss: arkime_pppoe.pcap frame 1 with VER/TYPE 0x21 instead of 0x11.
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: Vectors.pppoeTCP.hex.replacingOccurrences(of: "88 64 11 00", with: "88 64 21 00"))
        #expect(p.stop?.reason == .badPPPoEHeader && d.anomalies[.badPPPoEHeader] == 1)
    }

    @Test func linuxCookedV1AndV2() {
        let (a, _, _) = decode(Vectors.sllTCP)
        #expect(a.stop == nil && a.ipOffset == 16)
        #expect(a.src == IPAddress("131.155.215.69") && a.srcPort == 46656 && a.dstPort == 80 && a.tcp?.window == 27200)
        let (b, _, _) = decode(Vectors.sll2TCP)
        #expect(b.stop == nil && b.ipOffset == 20)
        #expect(b.src == IPAddress("116.63.66.108") && b.dst == IPAddress("7.249.151.114") && b.srcPort == 443 && b.dstPort == 57292)
    }

    @Test func nullLoopbackBothByteOrdersAndAllAFINET6Values() {
        let (p, payload, _) = decode(Vectors.nullUDP)
        #expect(p.stop == nil && p.ipOffset == 4 && p.srcPort == 55369 && p.dstPort == 8612)
        #expect(p.payloadLength == 16 && payload.prefix(4) == [0x42, 0x4a, 0x4e, 0x42])  // "BJNP"
        // The same packet written by a big-endian host.
        let be = Vector(name: "be", linkType: .null, hex: "00 00 00 02" + Vectors.nullUDP.hex.dropFirst(11))
        #expect(decode(be).0.srcPort == 55369)
        // formats/null_loopback.pcap frame 1 is IPv6 with AF 30 (macOS); 24 and 28 (BSDs) decode the same.
        let v6 = "60 00 00 00 00 08 11 40" + String(repeating: " 00", count: 15) + " 01" + String(repeating: " 00", count: 15) + " 01 c2 e0 00 51 00 08 00 00"
        for af in ["18", "1c", "1e"] {
            let (q, _, _) = decode(Vector(name: af, linkType: .null, hex: "\(af) 00 00 00 " + v6))
            #expect(q.isIPv6 && q.src == IPAddress("::1") && q.srcPort == 49888 && q.dstPort == 81, "AF \(af)")
        }
    }

    @Test func loopIsNetworkOrderOnly() {
        let loop = Vector(name: "loop", linkType: .loop, hex: "00 00 00 02" + Vectors.nullUDP.hex.dropFirst(11))
        #expect(decode(loop).0.srcPort == 55369)
        // Near miss: a host-order (little-endian) family is not valid for LOOP.
        let (p, _, _) = decode(Vectors.nullUDP, as: .loop)
        #expect(p.stop?.reason == .nonIPPayload && !p.hasIP)
    }

    @Test func rawIPLinkTypes() {
        for lt in [LinkType.raw, .rawDLT12, .rawDLT14, .ipv6] {
            let (p, _, _) = decode(Vectors.rawIPv6TCP, as: lt)
            #expect(p.stop == nil && p.isIPv6 && p.srcPort == 35995 && p.dstPort == 80, "\(lt)")
            #expect(p.src == IPAddress("2001:618:400::5199:cc70") && p.dst == IPAddress("2001:618:1:8000::5"))
        }
        for lt in [LinkType.raw, .rawDLT12, .rawDLT14, .ipv4] {
            let (p, _, _) = decode(Vectors.ipv4UDP, as: lt)
            #expect(p.stop == nil && !p.isIPv6 && p.srcPort == 58121 && p.dstPort == 53 && p.payloadLength == 32, "\(lt)")
        }
        // Near misses: LINKTYPE_IPV4 carrying IPv6 and LINKTYPE_IPV6 carrying IPv4.
        #expect(decode(Vectors.rawIPv6TCP, as: .ipv4).0.stop?.reason == .badIPVersion)
        #expect(decode(Vectors.ipv4UDP, as: .ipv6).0.stop?.reason == .badIPVersion)
    }

    @Test func unknownLinkTypeIsCountedNotFatal() {
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: Vectors.ipv4UDP.hex, linkType: LinkType(147))
        #expect(p.stop?.reason == .unknownLinkType && !p.hasIP)
        #expect(d.anomalies[.unknownLinkType] == 1)
        #expect(d.anomalies.nonZero.map(\.name) == ["unknown_link_type"])
        let (q, _) = d.decode(hex: Vectors.ipv4UDP.hex, linkType: .ipv4)
        #expect(q.srcPort == 58121)
    }

    @Test func emptyAndTinyFramesOnEveryLinkType() {
        var d = PacketDecoder()
        for lt in [LinkType.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .ipv4, .ipv6, LinkType(147)] {
            for hex in ["", "45", "60 00"] {
                let (p, _) = d.decode(hex: hex, linkType: lt)
                #expect(p.stop != nil && !p.hasIP, "\(lt) \(hex)")
            }
        }
    }
}
