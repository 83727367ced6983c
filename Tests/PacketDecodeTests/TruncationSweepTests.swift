// Every prefix of every positive frame (DESIGN.md rule 6): no crash, no value that differs from the
// full decode, and a stop reason whenever something the full frame had is missing.
import Testing
import PacketDecode
import TorscanTestSupport
import WireBytes

@Suite struct TruncationSweepTests {
    @Test(arguments: Vectors.positives)
    func everyPrefix(of v: Vector) {
        let bytes = hexBytes(v.hex)
        var fd = PacketDecoder()
        let (full, fullPayload) = fd.decode(Frame(number: 1, linkType: v.linkType, timestamp: Timestamp(nanoseconds: 0), bytes: bytes))
        #expect(full.stop == nil && full.hasIP, "positive \(v.name) must decode completely")
        for n in 0..<bytes.count {
            var d = PacketDecoder()
            let (p, payload) = d.decode(Frame(number: 1, linkType: v.linkType, timestamp: Timestamp(nanoseconds: 0), bytes: Array(bytes.prefix(n))))
            let at = "\(v.name) prefix \(n)"
            if p.stop == nil {
                // Only Ethernet padding may be missing.
                #expect(p.srcPort == full.srcPort && p.tcp == full.tcp && payload == fullPayload && p.payloadLength == full.payloadLength, "\(at)")
            }
            if p.hasIP {
                #expect(p.src == full.src && p.dst == full.dst && p.isIPv6 == full.isIPv6, "\(at)")
                if p.stop?.layer != .ipv6Extension { #expect(p.ipProtocol == full.ipProtocol, "\(at)") }
            }
            if p.srcPort != 0 || p.dstPort != 0 { #expect(p.srcPort == full.srcPort && p.dstPort == full.dstPort, "\(at)") }
            if let tcp = p.tcp { #expect(tcp == full.tcp, "\(at)") }
            #expect(fullPayload.starts(with: payload), "\(at)")
            if p.stop?.layer == .payload { #expect(p.payloadLength == full.payloadLength, "\(at)") }
            #expect(!p.fragmentPending && !p.reassembled, "\(at)")
        }
    }

    @Test func everyPrefixOfNearMissesAndFragmentsDoesNotTrap() {
        let nearMiss = hexBytes(Vectors.ipv4OptionsShortTCP.hex)
        let udp4 = hexBytes(Vectors.ipv4UDP.hex)
        let frags = ipv4Fragments(udp4, [(0, 16, true), (16, 24, false)])
        var d = PacketDecoder()
        for (f, lt) in [(nearMiss, LinkType.ethernet)] + frags.map({ ($0, LinkType.raw) }) {
            for n in 0...f.count { _ = d.decode(Frame(number: 1, linkType: lt, timestamp: Timestamp(nanoseconds: 0), bytes: Array(f.prefix(n)))) }
        }
        #expect(d.anomalies[.truncatedTCPHeader] > 0 && d.anomalies[.truncatedIPv4Header] > 0 && d.anomalies[.fragmentCutBySnaplen] > 0)
    }
}
