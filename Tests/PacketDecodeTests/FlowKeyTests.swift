import Testing
import PacketDecode
import WireBytes

@Suite struct FlowKeyTests {
    @Test func bothDirectionsShareOneKey() {
        var d = PacketDecoder()
        let (p, _) = d.decode(hex: Vectors.sll2TCP.hex, linkType: .linuxSLL2)   // 116.63.66.108:443 → 7.249.151.114:57292
        var q = p
        (q.src, q.dst, q.srcPort, q.dstPort) = (p.dst, p.src, p.dstPort, p.srcPort)
        let (k1, aIsSource1) = FlowKey.canonical(p)
        let (k2, aIsSource2) = FlowKey.canonical(q)
        #expect(k1 == k2 && k1.symmetricHash == k2.symmetricHash)
        #expect(k1.a == IPAddress("7.249.151.114") && k1.aPort == 57292 && k1.proto == 6)
        #expect(!aIsSource1 && aIsSource2)
        // Same addresses, same ports reversed: the port breaks the tie.
        var r = p
        r.dst = p.src; r.dstPort = 1
        #expect(FlowKey.canonical(r).key.aPort == 1)
        #expect(k1.description == "6 7.249.151.114:57292 <-> 116.63.66.108:443")
    }
}
