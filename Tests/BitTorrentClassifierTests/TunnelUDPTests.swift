// SOCKS5 UDP ASSOCIATE (RFC 1928 §4, §7) with real bytes from SampleCaptures/tunnels/
// socks5-udp-associate-dht.pcap: helpers.py asks dante 1.4 for a relay, sends DHT ping and
// get_peers through it (frames 10, 14), dante relays them (11, 15) and wraps the answers (13, 17);
// frame 18 carries FRAG=1, which dante drops as RFC 1928 allows.
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

@Suite struct TunnelUDPTests {
    @Test func associateThenDecapsulate() throws {
        let cap = try #require(TunnelTestFiles.sample("socks5-udp-associate-dht.pcap"))
        let flow = try #require(cap.tcp.first { $0.responder.port == 11082 })
        let r = TunnelRun.flow(flow)
        let i = try #require(r.info)
        #expect(i.command == .udpAssociate && i.boundAddress == .ipv4([127, 0, 0, 1]))
        let relayPort = try #require(i.boundPort)
        let viaRelay = cap.udp.filter { $0.dst.port == relayPort || $0.src.port == relayPort }
        #expect(viaRelay.count == 5)
        for d in viaRelay {
            let h = try #require(d.payload.withUnsafeBytes { SOCKS5UDPHeader.parse($0) })
            #expect(h.target == .ipv4([127, 0, 0, 1]) && h.port == 16881 && h.payloadOffset == 10)
            #expect(Array(d.payload[h.payloadOffset...]).starts(with: "d1:"))  // the DHT message itself
            #expect(h.isFragment == (d.frame == 18))
        }
        let frag = try #require(viaRelay.first { $0.frame == 18 }.flatMap { d in d.payload.withUnsafeBytes { SOCKS5UDPHeader.parse($0) } })
        #expect(frag.fragmentPosition == 1 && !frag.isLastFragment)
        // The relayed leg (frame 11) has no SOCKS header: RSV would be "d1".
        let relayed = try #require(cap.udp.first { $0.frame == 11 })
        #expect(relayed.payload.withUnsafeBytes { SOCKS5UDPHeader.parse($0) } == nil)
    }

    @Test func headerForms() {
        func parse(_ hex: String) -> SOCKS5UDPHeader? { hexBytes(hex).withUnsafeBytes { SOCKS5UDPHeader.parse($0) } }
        let v6 = parse("000081" + "04" + "20010db8000000000000000000000001" + "1ae1" + "ff")
        #expect(v6?.target == .ipv6(hexBytes("20010db8000000000000000000000001")) && v6?.port == 6881)
        #expect(v6?.isLastFragment == true && v6?.payloadOffset == 22)
        #expect(parse("000000" + "03" + "13" + "726f75746572") == nil)  // a name shorter than its length octet
        let router = parse("000000" + "03" + "13" + "726f757465722e75746f7272656e742e636f6d" + "1ae1")
        #expect(router?.target == .domain("router.utorrent.com") && router?.payloadOffset == 4 + 1 + 19 + 2)
        #expect(parse("000100017f0000011ae1") == nil)  // RSV != 0
        #expect(parse("000000027f0000011ae1") == nil)  // ATYP 2
    }

    @Test func truncationSweep() {
        let whole = hexBytes("000000017f00000141f164313a6164323a696432303a")
        for n in 0..<whole.count {
            let h = Array(whole[..<n]).withUnsafeBytes { SOCKS5UDPHeader.parse($0) }
            #expect(n >= 10 ? h?.payloadOffset == 10 : h == nil)
        }
    }
}
