// IPv4 (options, total length vs captured bytes) and IPv6 (extension-header chain), with near misses.
import Foundation
import Testing
import PacketDecode
import TorscanTestSupport
import WireBytes

@Suite struct NetworkLayerTests {
    @Test func ipv4OptionsAreSkippedByIHL() {
        // Vectors.ipv4OptionsShortTCP: IHL 7 (28-byte header); tshark flags the TCP header as malformed
        // because the total length leaves 12 bytes. The ports are still read, as tshark shows them.
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: Vectors.ipv4OptionsShortTCP.hex)
        #expect(p.src == IPAddress("192.168.1.2") && p.dst == IPAddress("147.234.1.253"))
        #expect(p.srcPort == 58657 && p.dstPort == 47645 && p.tcp == nil)
        #expect(p.stop == DecodeStop(layer: .tcp, reason: .truncatedTCPHeader, offset: 14 + 28))
        #expect(d.anomalies[.truncatedTCPHeader] == 1)
    }

    @Test func ethernetPaddingIsTrimmedByTotalLength() {
        var d = PacketDecoder()
        let (p, payload) = d.decode(hex: Vectors.vlanPaddedRST.hex)
        #expect(p.stop == nil && p.payloadLength == 0 && payload.isEmpty)
        #expect(p.tcp == TCPInfo(seq: 0xe7c5_0e9b, ack: 0xcd4e_aafb, flags: [.rst, .ack], window: 0, headerLength: 20))
    }

    @Test func ipv4NearMisses() {
        let ip = hexBytes(Vectors.ipv4UDP.hex)
        func run(_ edit: (inout [UInt8]) -> Void) -> (DecodedPacket, DecodeAnomalies) {
            var b = ip; edit(&b)
            var d = PacketDecoder()
            let p = b.withUnsafeBytes { d.decode($0, linkType: .ipv4, timestamp: Timestamp(nanoseconds: 0)) }
            return (p, d.anomalies)
        }
        let ihl4 = run { $0[0] = 0x44 }
        #expect(ihl4.0.stop?.reason == .badIPv4HeaderLength && !ihl4.0.hasIP && ihl4.1[.badIPv4HeaderLength] == 1)
        let ihl15 = run { $0[0] = 0x4f }   // 60-byte header claimed, 60 bytes present, total length 60: no room for UDP
        #expect(ihl15.0.hasIP && ihl15.0.srcPort == 0 && ihl15.0.stop?.reason == .truncatedUDPHeader)
        let shortTotal = run { $0[3] = 19 }
        #expect(shortTotal.0.stop?.reason == .badIPv4TotalLength && shortTotal.0.hasIP)
        let longTotal = run { $0[2] = 0x01; $0[24] = 0x01 }   // IP 316, UDP 296 announced, 60 captured: cut by the snap length
        #expect(longTotal.0.stop?.reason == .payloadCutBySnaplen && longTotal.0.srcPort == 58121 && longTotal.0.payloadLength == 288)
        let tso = run { $0[2] = 0; $0[3] = 0 }   // total length 0 (TCP segmentation offload): use what was captured
        #expect(tso.0.stop == nil && tso.0.srcPort == 58121 && tso.1[.badIPv4TotalLength] == 1)
        let udpLong = run { $0[25] = 0x40 }   // UDP length 64 > 40 bytes of IP payload
        #expect(udpLong.0.payloadLength == 32 && udpLong.1[.badUDPLength] == 1)
        let tcpBadOffset = run { $0[9] = 6; $0[32] = 0x40 }   // data offset 4 < 5
        #expect(tcpBadOffset.0.stop?.reason == .badTCPDataOffset && tcpBadOffset.1[.badTCPDataOffset] == 1)
    }

    @Test func ipv6HopByHopThenRouting() {
        var d = PacketDecoder()
        let (p, payload) = d.decode(hex: Vectors.ipv6HopByHopRouting.hex)
        #expect(p.stop == nil && p.isIPv6 && p.ipProtocol == 17)
        // tshark's summary shows the Routing header's final address; the IPv6 header's destination is the next hop.
        #expect(p.src == IPAddress("2001:4f8:4:7:2e0:81ff:fe52:ffff") && p.dst == IPAddress("2001:4f8:4:7:2e0:81ff:fe52:9a6b"))
        #expect(p.srcPort == 53 && p.dstPort == 53 && p.payloadLength == 3 && payload == Array("XXX".utf8))
    }

    @Test func ipv6HopByHopThenDestinationOptions() {
        var d = PacketDecoder()
        let (p, payload) = d.decode(hex: Vectors.ipv6HopByHopDestOpts.hex)
        #expect(p.stop == nil && p.ipProtocol == 58 && p.payloadLength == 44 && payload.prefix(2) == [0x80, 0x00])
    }

    @Test func ipv6SegmentRoutingHeader() {
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: Vectors.ipv6Routing.hex)
        #expect(p.stop == nil && p.ipProtocol == 17 && p.srcPort == 50540 && p.dstPort == 33434 && p.payloadLength == 0)
    }

    /// An IPv6/UDP packet behind `count` empty Destination Options headers (synthetic near miss).
    func chain(_ count: Int) -> String {
        let ext = String(repeating: "3c 00 00 00 00 00 00 00 ", count: count - 1) + "11 00 00 00 00 00 00 00 "
        let plen = String(format: "%04x", count * 8 + 8)
        return "60 00 00 00 \(plen.prefix(2)) \(plen.suffix(2)) 3c 40" + String(repeating: " 00", count: 15) + " 01"
            + String(repeating: " 00", count: 15) + " 02 " + ext + "04 d2 16 2e 00 08 00 00"
    }

    @Test func ipv6ExtensionChainIsBounded() {
        var d = PacketDecoder()
        let (ok, _) = d.decode(hex: chain(10), linkType: .ipv6)
        #expect(ok.stop == nil && ok.srcPort == 1234 && ok.dstPort == 5678)
        let (p, _) = d.decode(hex: chain(11), linkType: .ipv6)
        #expect(p.stop?.reason == .ipv6ExtensionLimit && p.srcPort == 0 && d.anomalies[.ipv6ExtensionLimit] == 1)
    }

    @Test func ipv6ExtensionHeaderLongerThanPacket() {
        // Near miss: the Routing header of Vectors.ipv6Routing claims 15 * 8 + 8 = 128 bytes.
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: Vectors.ipv6Routing.hex.replacingOccurrences(of: "11 06 00 03", with: "11 0f 00 03"))
        #expect(p.stop == DecodeStop(layer: .ipv6Extension, reason: .truncatedIPv6ExtensionHeader, offset: 54))
        #expect(p.hasIP && p.ipProtocol == 43 && d.anomalies[.truncatedIPv6ExtensionHeader] == 1)
    }

    @Test func ipv6NoNextHeader() {
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: "60 00 00 00 00 00 3b 40" + String(repeating: " 00", count: 32), linkType: .ipv6)
        #expect(p.stop?.reason == .noNextHeader && p.hasIP && d.anomalies.total == 0)
    }
}
