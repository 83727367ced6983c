// FlowHint (issue 6: the flow of a frame some records ahead, read from its bytes, for a prefetch):
// wherever it gives a hint, the decoder puts the frame in the same flow (same addresses, ports and
// protocol), on every Ethernet frame of SampleCaptures and of the public corpus, on every prefix
// of real frames and on header-byte mutations; and it gives none for the near misses it must leave
// alone (fragments, VLAN tags, other protocols, IPv6 extension headers, an IP length that cuts the
// ports). A frame whose IP length cuts its TCP header after the ports may get a hint, as no flow
// table sees it.
import Foundation
import Testing
@testable import PacketDecode
import TorscanTestSupport
import WireBytes

@Suite struct FlowHintTests {
    /// The flow key of the hint for `bytes`, or nil.
    static func hintKey(_ bytes: [UInt8]) -> FlowKey? {
        bytes.withUnsafeBytes { b -> FlowKey? in
            if let h = FlowHint.ethernetIPv4(b) {
                return key(IPAddress(v4: h.src), h.srcPort, IPAddress(v4: h.dst), h.dstPort, h.ipProtocol)
            }
            guard let h = FlowHint.ethernetIPv6(b) else { return nil }
            return key(h.src, h.srcPort, h.dst, h.dstPort, h.ipProtocol)
        }
    }

    /// The flow key of a packet with these endpoints: the lower (address, port) first.
    static func key(_ src: IPAddress, _ sp: UInt16, _ dst: IPAddress, _ dp: UInt16, _ proto: UInt8) -> FlowKey {
        (src, sp) <= (dst, dp) ? FlowKey(a: src, aPort: sp, b: dst, bPort: dp, proto: proto) : FlowKey(a: dst, aPort: dp, b: src, bPort: sp, proto: proto)
    }

    /// nil when the hint, if any, names the flow the decoder puts the frame in; else what differs.
    /// `hinted` counts frames with a hint.
    static func compare(_ bytes: [UInt8], hinted: inout Int) -> String? {
        guard let key = hintKey(bytes) else { return nil }
        hinted += 1
        var decoder = PacketDecoder()
        let p = bytes.withUnsafeBytes { decoder.decode($0, linkType: .ethernet, timestamp: Timestamp(nanoseconds: 0)) }
        guard p.hasIP, !p.fragmentPending, p.ipProtocol == 6 || p.ipProtocol == 17 else {
            return "a hint (\(key)) for a frame that reaches no TCP or UDP flow"
        }
        // A transport header cut by the IP length: no flow table sees the packet (FlowAnalyzer.process
        // skips it), so the hint's prefetch is only wasted.
        if p.ipProtocol == 6 ? p.tcp == nil : p.stop?.layer == .udp { return nil }
        let decoded = FlowKey.canonical(p).key
        return decoded == key ? nil : "hint \(key), decoded \(decoded)"
    }

    @Test func everySampleCaptureFrameGetsItsFlow() {
        var hinted = 0, frames = 0
        var failures: [String] = []
        for file in FastPathTests.sampleFiles {
            for f in FastPathTests.ethernetFrames(of: file) {
                frames += 1
                if let why = Self.compare(f.bytes, hinted: &hinted) { failures.append("\(file.lastPathComponent) frame \(f.number): \(why)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        #expect(frames > 5_000 && hinted > frames / 2, "\(hinted) of \(frames) frames got a hint")
    }

    @Test(.enabled(if: CaptureFixture.corpus != nil, "needs ../shared/corpus/public"))
    func everyCorpusFrameGetsItsFlow() {
        var hinted = 0, frames = 0
        var failures: [String] = []
        for file in CorpusOracleTests.captures() {
            for f in FastPathTests.ethernetFrames(of: file) {
                frames += 1
                if let why = Self.compare(f.bytes, hinted: &hinted) { failures.append("\(file.lastPathComponent) frame \(f.number): \(why)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        #expect(hinted > 0, "\(hinted) of \(frames) frames got a hint")
    }

    /// Every prefix: no hint until both ports are captured, then the flow of the whole frame.
    @Test func everyPrefixOfRealFramesGetsItsFlowOrNone() {
        let frames = FastPathTests.realFrames()
        #expect(frames.count == 6)
        for frame in frames {
            guard let whole = Self.hintKey(frame) else { Issue.record("no hint for a real frame"); continue }
            let portsEnd = frame[12] == 0x08 ? 14 + Int(frame[14] & 0x0f) * 4 + 4 : 14 + 40 + 4
            for n in 0...frame.count {
                let key = Self.hintKey(Array(frame.prefix(n)))
                if n < portsEnd { #expect(key == nil, "prefix \(n) of \(frame.count)") } else { #expect(key == whole, "prefix \(n)") }
            }
        }
    }

    /// Header bytes set to values at the edges of the hint's checks: a hint, when given, is the
    /// decoder's flow.
    @Test func headerByteMutationsGetTheirFlowOrNone() {
        let values: [UInt8] = [0x00, 0x01, 0x05, 0x06, 0x08, 0x11, 0x20, 0x2c, 0x3a, 0x3f, 0x40, 0x45, 0x46, 0x4f, 0x60, 0x86, 0xdd, 0xff]
        var hinted = 0, tried = 0
        var failures: [String] = []
        for frame in FastPathTests.realFrames() {
            for i in 0..<min(frame.count, 14 + 60 + 4) {
                for v in values + [frame[i] ^ 0x01, frame[i] &+ 1] {
                    var m = frame
                    m[i] = v
                    tried += 1
                    if let why = Self.compare(m, hinted: &hinted) { failures.append("byte \(i) = \(v): \(why)") }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        #expect(hinted > 0 && hinted < tried, "\(hinted) of \(tried) mutations got a hint")
    }

    /// IPv4 options: the ports are read after them.
    @Test func portsFollowIPv4Options() {
        guard let tcp = FastPathTests.realFrames().first else { Issue.record("no TCP frame"); return }
        var withOptions = Array(tcp[0..<34]) + [1, 1, 1, 0] + Array(tcp[34...])   // NOP, NOP, NOP, end of options
        withOptions[14] = 0x46
        let total = Int(tcp[16]) << 8 | Int(tcp[17]) + 4
        withOptions[16] = UInt8(total >> 8); withOptions[17] = UInt8(total & 0xff)
        var hinted = 0
        #expect(Self.compare(withOptions, hinted: &hinted) == nil)
        #expect(hinted == 1)
        #expect(Self.hintKey(withOptions) == Self.hintKey(tcp))
    }

    @Test func nearMissesGetNoHint() {
        let real = FastPathTests.realFrames()
        guard let tcp = real.first, let tcp6 = real.first(where: { $0[12] == 0x86 }) else { Issue.record("no frames"); return }
        let vlan = Array(tcp[0..<12]) + [0x81, 0x00, 0x00, 0x07] + Array(tcp[12...])
        var moreFragments = tcp; moreFragments[20] |= 0x20
        var laterFragment = tcp; laterFragment[21] = 0x10
        var icmp = tcp; icmp[23] = 1
        var shortIHL = tcp; shortIHL[14] = 0x44
        var ipv6InIPv4Type = tcp; ipv6InIPv4Type[14] = 0x65
        var hopByHop = tcp6; hopByHop[20] = 0
        var fragment6 = tcp6; fragment6[20] = 44
        var version4In6 = tcp6; version4In6[14] = 0x40
        var cutPorts = tcp; cutPorts[16] = 0; cutPorts[17] = UInt8(Int(tcp[14] & 0x0f) * 4 + 3)
        var cutPorts6 = tcp6; cutPorts6[18] = 0; cutPorts6[19] = 3
        for (name, frame) in [("vlan", vlan), ("more fragments", moreFragments), ("later fragment", laterFragment), ("icmp", icmp),
                              ("IHL 4", shortIHL), ("version 6 in an IPv4 frame", ipv6InIPv4Type), ("IPv6 hop-by-hop", hopByHop),
                              ("IPv6 fragment", fragment6), ("version 4 in an IPv6 frame", version4In6),
                              ("IPv4 length cuts the ports", cutPorts), ("IPv6 length cuts the ports", cutPorts6)] {
            #expect(Self.hintKey(frame) == nil, "\(name)")
        }
    }
}
