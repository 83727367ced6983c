// IPv4 and IPv6 fragment reassembly: real fragmented captures (skipped without ../shared) and
// fragments cut from real packets (Vectors.swift) to exercise order, overlap and the memory limits.
import Foundation
import Testing
import PacketDecode
import TorscanTestSupport
import WireBytes

/// IPv4 fragments of `packet` (an unfragmented IPv4 datagram, 20-byte header): each piece is
/// (offset into the IP payload, length, more fragments). Checksums are left as they are: never checked.
func ipv4Fragments(_ packet: [UInt8], _ pieces: [(Int, Int, Bool)], id: UInt16 = 0x1234) -> [[UInt8]] {
    pieces.map { off, len, more in
        var h = Array(packet[0..<20])
        let total = 20 + len
        h[2] = UInt8(total >> 8); h[3] = UInt8(total & 0xff)
        h[4] = UInt8(id >> 8); h[5] = UInt8(id & 0xff)
        let field = UInt16(off / 8) | (more ? 0x2000 : 0)
        h[6] = UInt8(field >> 8); h[7] = UInt8(field & 0xff)
        return h + packet[(20 + off)..<(20 + off + len)]
    }
}

/// IPv6 fragments of `packet` (a 40-byte header then the upper layer), with a Fragment header inserted.
func ipv6Fragments(_ packet: [UInt8], _ pieces: [(Int, Int, Bool)], id: UInt32 = 0xabcd) -> [[UInt8]] {
    let nextHeader = packet[6]
    return pieces.map { off, len, more in
        var h = Array(packet[0..<40])
        let plen = 8 + len
        h[4] = UInt8(plen >> 8); h[5] = UInt8(plen & 0xff); h[6] = 44
        let field = UInt16(off) | (more ? 1 : 0)
        let frag: [UInt8] = [nextHeader, 0, UInt8(field >> 8), UInt8(field & 0xff),
                             UInt8(id >> 24), UInt8((id >> 16) & 0xff), UInt8((id >> 8) & 0xff), UInt8(id & 0xff)]
        return h + frag + packet[(40 + off)..<(40 + off + len)]
    }
}

@Suite struct FragmentTests {
    let udp4 = hexBytes(Vectors.ipv4UDP.hex)      // 20 + 40 bytes: UDP 58121 → 53, 32 bytes of DNS
    let udp6 = hexBytes(Vectors.rawIPv6UDP.hex)   // 40 + 37 bytes: UDP 12345 → 53, 29 bytes of DNS

    func feed(_ d: inout PacketDecoder, _ frames: [[UInt8]], linkType: LinkType, seconds: [Int64]? = nil) -> [(DecodedPacket, [UInt8])] {
        frames.enumerated().map { i, f in
            d.decode(Frame(number: i + 1, linkType: linkType, timestamp: Timestamp(seconds: seconds?[i] ?? 0, nanos: 0), bytes: f))
        }
    }

    @Test(arguments: [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]])
    func ipv4AnyOrder(order: [Int]) {
        let frags = ipv4Fragments(udp4, [(0, 16, true), (16, 16, true), (32, 8, false)])
        var d = PacketDecoder()
        let out = feed(&d, order.map { frags[$0] }, linkType: .ipv4)
        #expect(out[0].0.fragmentPending && out[1].0.fragmentPending && out[0].0.srcPort == 0)
        let (p, payload) = out[2]
        #expect(p.reassembled && p.stop == nil && p.srcPort == 58121 && p.dstPort == 53 && p.payloadLength == 32)
        #expect(payload == Array(udp4[28...]))
        #expect(d.pendingDatagrams == 0 && d.anomalies.total == 0)
    }

    @Test func ipv4OverlapKeepsFirstArrival() {
        var frags = ipv4Fragments(udp4, [(0, 16, true), (8, 16, true), (16, 24, false)])
        frags[2][20] = 0xEE   // the third fragment's copy of payload byte 16 (already received in the second) differs
        var d = PacketDecoder()
        let out = feed(&d, frags, linkType: .ipv4)
        #expect(out[2].0.reassembled && out[2].1 == Array(udp4[28...]))
        #expect(d.anomalies[.fragmentOverlap] == 2)
    }

    @Test func ipv4DuplicateAndInconsistentLast() {
        let frags = ipv4Fragments(udp4, [(0, 16, true), (0, 16, true), (24, 16, false), (16, 16, false), (16, 8, true)])
        var d = PacketDecoder()
        let out = feed(&d, frags, linkType: .ipv4)
        #expect(out[1].0.fragmentPending && d.anomalies[.fragmentOverlap] == 1)
        // A second last fragment naming another total (32, not 40) is ignored and counted.
        #expect(out[3].0.fragmentPending && d.anomalies[.fragmentInconsistentLength] == 1)
        #expect(out[4].0.reassembled && out[4].1 == Array(udp4[28...]))
    }

    @Test func ipv4TimeoutInCaptureTime() {
        let frags = ipv4Fragments(udp4, [(0, 16, true), (16, 24, false)])
        var d = PacketDecoder()
        let out = feed(&d, frags, linkType: .ipv4, seconds: [0, 61])
        #expect(out[1].0.fragmentPending && d.anomalies[.fragmentTimedOut] == 1 && d.pendingDatagrams == 1)
    }

    @Test func concurrentDatagramsAreBounded() {
        var d = PacketDecoder(limits: DecoderLimits(maxConcurrentDatagrams: 4))
        for id in 0..<10 {
            _ = feed(&d, ipv4Fragments(udp4, [(0, 16, true)], id: UInt16(id)), linkType: .ipv4)
        }
        #expect(d.pendingDatagrams == 4 && d.anomalies[.fragmentEvicted] == 6)
        // The newest datagram survived and completes.
        let out = feed(&d, ipv4Fragments(udp4, [(16, 24, false)], id: 9), linkType: .ipv4)
        #expect(out[0].0.reassembled && out[0].0.srcPort == 58121)
    }

    @Test func fragmentBeyond65535IsDropped() {
        var f = ipv4Fragments(udp4, [(16, 24, false)])[0]
        f[6] = 0x1f; f[7] = 0xff   // offset 8191 * 8 = 65528, + 24 bytes
        var d = PacketDecoder()
        let out = feed(&d, [f], linkType: .ipv4)
        #expect(out[0].0.stop?.reason == .fragmentDropped && d.anomalies[.fragmentTooLarge] == 1)
    }

    @Test func firstFragmentCutBySnaplenStillNamesPorts() {
        let first = ipv4Fragments(udp4, [(0, 16, true)])[0]
        var d = PacketDecoder()
        let out = feed(&d, [Array(first.prefix(30))], linkType: .ipv4)
        #expect(out[0].0.stop?.reason == .fragmentCutBySnaplen && out[0].0.srcPort == 58121 && !out[0].0.fragmentPending)
        #expect(d.anomalies[.fragmentCutBySnaplen] == 1 && d.pendingDatagrams == 0)
    }

    @Test(arguments: [[0, 1, 2], [2, 0, 1]])
    func ipv6AnyOrder(order: [Int]) {
        let frags = ipv6Fragments(udp6, [(0, 16, true), (16, 16, true), (32, 5, false)])
        var d = PacketDecoder()
        let out = feed(&d, order.map { frags[$0] }, linkType: .ipv6)
        #expect(out[0].0.fragmentPending && out[0].0.isIPv6)
        let (p, payload) = out[2]
        #expect(p.reassembled && p.stop == nil && p.ipProtocol == 17 && p.srcPort == 12345 && p.dstPort == 53)
        #expect(p.payloadLength == 29 && payload == Array(udp6[48...]))
    }

    @Test func ipv6AtomicFragmentIsAWholePacket() {
        let atomic = ipv6Fragments(udp6, [(0, 37, false)])[0]
        var d = PacketDecoder()
        let out = feed(&d, [atomic], linkType: .ipv6)
        #expect(!out[0].0.reassembled && !out[0].0.fragmentPending && out[0].0.srcPort == 12345 && out[0].0.payloadLength == 29)
    }

    @Test func ipv6SecondFragmentHeaderInsideReassembledDataIsRejected() {
        // The fragmentable part itself begins with a Fragment header (non-atomic): invalid per RFC 8200 4.5.
        var inner = udp6
        inner.insert(contentsOf: [17, 0, 0, 9, 0, 0, 0, 1], at: 40)
        inner[6] = 44
        let frags = ipv6Fragments(inner, [(0, 16, true), (16, 29, false)]).map { f -> [UInt8] in var f = f; f[40] = 44; return f }
        var d = PacketDecoder()
        let out = feed(&d, frags, linkType: .ipv6)
        #expect(out[1].0.reassembled && out[1].0.stop?.layer == .ipv6Extension && d.anomalies[.ipv6NestedFragment] == 1)
    }

    // MARK: Real fragmented captures

    @Test(.enabled(if: CaptureFixture.corpus != nil, "needs ../shared/corpus/public"))
    func ip4FragmentsCapture() throws {
        // formats/ip4_fragments.pcap frames 1-6: 10.118.213.212 → 10.118.213.211, 5 × "Fragmented IP protocol (proto=UDP 17, off=…, ID=1ea0)",
        // then frame 6: NFS 954 V3 WRITE Call (tshark: udp 789 → 2049, udp.length 8320).
        let frames = try #require(CaptureFixture.frames("formats/ip4_fragments.pcap"))
        var d = PacketDecoder()
        let out = frames.map { d.decode($0) }
        #expect(out[0..<5].allSatisfy { $0.0.fragmentPending && $0.0.src == IPAddress("10.118.213.212") })
        #expect(out[5].0.reassembled && out[5].0.srcPort == 789 && out[5].0.dstPort == 2049 && out[5].0.payloadLength == 8312)
        #expect(out[5].1.count == 8312)
        // tshark reassembles in frames 6, 12, 18, 28, 40 and 53. IDs 1ea3-1ea5 repeat 4 fragments each (12 overlaps,
        // first arrival kept); frames 30 and 42 repeat a last fragment after its datagram completed, so each opens a
        // datagram that never completes (tshark also leaves them unreassembled).
        let done = out.enumerated().filter { $0.element.0.reassembled }.map { $0.offset + 1 }
        #expect(done == [6, 12, 18, 28, 40, 53])
        #expect(out.filter { $0.0.reassembled }.allSatisfy { $0.0.srcPort == 789 && $0.0.dstPort == 2049 && $0.1.count == 8312 })
        #expect(d.anomalies.nonZero.map { "\($0.name)=\($0.count)" } == ["fragment_overlap=12"])
        #expect(d.pendingDatagrams == 2 && out[29].0.fragmentPending && out[41].0.fragmentPending)
    }

    @Test(.enabled(if: CaptureFixture.corpus != nil, "needs ../shared/corpus/public"))
    func fragWithPaddingCapture() throws {
        // formats/frag_with_padding.pcap: frames 1-7 "Fragmented IP protocol (proto=UDP 17, off=8 … 8888, ID=6312)", then
        // frame 8 (60 bytes, Ethernet padding): UDP 42402 → 42102 Len=9401, the offset-0 fragment arriving last.
        let frames = try #require(CaptureFixture.frames("formats/frag_with_padding.pcap"))
        var d = PacketDecoder()
        let out = frames.map { d.decode($0) }
        #expect(out[0..<7].allSatisfy { $0.0.fragmentPending })
        #expect(out[7].0.reassembled && out[7].0.srcPort == 42402 && out[7].0.dstPort == 42102 && out[7].0.payloadLength == 9401)
        #expect(d.anomalies.total == 0)
    }

    @Test(.enabled(if: CaptureFixture.corpus != nil, "needs ../shared/corpus/public"))
    func ip6FragmentsCapture() throws {
        // formats/ip6_fragments.pcap frames 1-7: fe80::21f:f3ff:fecd:f617 → ff02::fb "IPv6 fragment (off=0…600 more=y ident=0x002c5323 nxt=17)",
        // frame 7: MDNS 83 Standard query (tshark: udp 5353 → 5353, udp.length 737).
        let frames = try #require(CaptureFixture.frames("formats/ip6_fragments.pcap"))
        var d = PacketDecoder()
        let out = frames.map { d.decode($0) }
        #expect(out[0..<6].allSatisfy { $0.0.fragmentPending && $0.0.isIPv6 })
        #expect(out[6].0.reassembled && out[6].0.srcPort == 5353 && out[6].0.payloadLength == 729)
        // tshark's other reassembled frames: 20 (5353, len 1448), 29 (60245 → 3702, 999), 36 (60245 → 3702, 782).
        let done = out.enumerated().filter { $0.element.0.reassembled }.map { ($0.offset + 1, Int($0.element.0.srcPort), $0.element.0.payloadLength + 8) }
        #expect(done.map(\.0) == [7, 20, 29, 36])
        #expect(done.map(\.2) == [737, 1448, 999, 782])
    }

    @Test(.enabled(if: CaptureFixture.corpus != nil, "needs ../shared/corpus/public"))
    func zeekIPv6FragmentedDNSCapture() throws {
        // formats/zeek_ipv6-fragmented-dns.pcap: frame 4 "IPv6 fragment (off=2896 more=n ident=0x00000001 nxt=17)" whose
        // other fragments were never captured; frames 6-8 (ident 2) end in frame 8: DNS 436 Standard query response 0x9f91.
        let frames = try #require(CaptureFixture.frames("formats/zeek_ipv6-fragmented-dns.pcap"))
        var d = PacketDecoder()
        let out = frames.map { d.decode($0) }
        #expect(out[3].0.fragmentPending)
        #expect(out[7].0.reassembled && out[7].0.srcPort == 53 && out[7].0.dstPort == 51851)
        #expect(d.pendingDatagrams == 1)   // ident 1 never completes (it would time out after 60 s of capture time)
    }
}

