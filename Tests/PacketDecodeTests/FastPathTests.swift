// The Ethernet/IPv4 fast path (EthernetIPv4FastPath.swift) against the layered decoder: wherever the
// fast path accepts a frame, every field of its result must equal the layered decoder's, and the
// layered decoder must count no anomaly for that frame (the fast path counts none). Checked on every
// frame of SampleCaptures and of the public corpus, and on mutations of real frames: every prefix,
// and every header byte set to values that hit the boundaries of each check.
import Foundation
import Testing
@testable import PacketDecode
import TorscanTestSupport
import WireBytes

@Suite struct FastPathTests {
    /// Every field of two decoded packets, payload by address and length (both point into the frame).
    static func differences(_ a: DecodedPacket, _ b: DecodedPacket) -> [String] {
        var d: [String] = []
        if a.stop != b.stop { d.append("stop \(String(describing: a.stop)) vs \(String(describing: b.stop))") }
        if a.isIPv6 != b.isIPv6 { d.append("isIPv6") }
        if a.hasIP != b.hasIP { d.append("hasIP") }
        if a.src != b.src || a.dst != b.dst { d.append("addresses \(a.src) \(a.dst) vs \(b.src) \(b.dst)") }
        if a.ipProtocol != b.ipProtocol { d.append("ipProtocol \(a.ipProtocol) vs \(b.ipProtocol)") }
        if a.srcPort != b.srcPort || a.dstPort != b.dstPort { d.append("ports") }
        if a.tcp != b.tcp { d.append("tcp \(String(describing: a.tcp)) vs \(String(describing: b.tcp))") }
        if a.payload.baseAddress != b.payload.baseAddress || a.payload.count != b.payload.count {
            d.append("payload \(a.payload.count) vs \(b.payload.count) bytes")
        }
        if a.payloadLength != b.payloadLength { d.append("payloadLength \(a.payloadLength) vs \(b.payloadLength)") }
        if a.fragmentPending != b.fragmentPending || a.reassembled != b.reassembled { d.append("fragment state") }
        if a.ipOffset != b.ipOffset { d.append("ipOffset") }
        return d
    }

    /// Fast path and layered decoder on one Ethernet frame: nil when they agree (or the fast path
    /// declined), else what differs. `taken` counts frames the fast path accepted.
    static func compare(_ bytes: [UInt8], taken: inout Int) -> String? {
        bytes.withUnsafeBytes { b -> String? in
            var fast = DecodedPacket()
            guard PacketDecoder.decodeEthernetIPv4(b, into: &fast) else { return nil }
            taken += 1
            var layered = PacketDecoder()
            let slow = layered.decodeLayered(b, linkType: .ethernet, timestamp: Timestamp(nanoseconds: 0))
            var problems = differences(fast, slow)
            if !layered.anomalies.nonZero.isEmpty { problems.append("layered counted \(layered.anomalies.nonZero)") }
            var viaDecode = PacketDecoder()
            if !differences(viaDecode.decode(b, linkType: .ethernet, timestamp: Timestamp(nanoseconds: 0)), slow).isEmpty {
                problems.append("decode() differs from the layered decoder")
            }
            return problems.isEmpty ? nil : problems.joined(separator: ", ")
        }
    }

    static func ethernetFrames(of file: URL) -> [Frame] {
        guard let data = try? Data(contentsOf: file) else { return [] }
        return CaptureFixture.frames(of: [UInt8](data)).filter { $0.linkType == .ethernet }
    }

    static var sampleFiles: [URL] {
        TestPaths.files(under: TestPaths.sampleCaptures).filter { $0.pathExtension == "pcap" || $0.pathExtension == "pcapng" }
    }

    @Test func everySampleCaptureFrameAgrees() {
        var taken = 0, frames = 0
        var failures: [String] = []
        for file in Self.sampleFiles {
            for f in Self.ethernetFrames(of: file) {
                frames += 1
                if let why = Self.compare(f.bytes, taken: &taken) { failures.append("\(file.lastPathComponent) frame \(f.number): \(why)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        // The sample captures (about 6,600 frames) are mostly Ethernet IPv4 BitTorrent traffic: the common case.
        #expect(frames > 5_000 && taken > frames / 2, "\(taken) of \(frames) frames took the fast path")
    }

    @Test(.enabled(if: CaptureFixture.corpus != nil, "needs ../shared/corpus/public"))
    func everyCorpusFrameAgrees() {
        var taken = 0, frames = 0
        var failures: [String] = []
        for file in CorpusOracleTests.captures() {
            for f in Self.ethernetFrames(of: file) {
                frames += 1
                if let why = Self.compare(f.bytes, taken: &taken) { failures.append("\(file.lastPathComponent) frame \(f.number): \(why)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
        #expect(taken > 0, "\(taken) of \(frames) frames took the fast path")
    }

    /// Real frames of SampleCaptures: the first TCP with payload, the first bare ACK, the first UDP
    /// datagram, and the first IPv4 TCP frame with options in its IP header if any.
    static func realFrames() -> [[UInt8]] {
        var tcpData: [UInt8]?, tcpAck: [UInt8]?, udp: [UInt8]?
        for file in sampleFiles {
            for f in ethernetFrames(of: file) where f.bytes.count >= 34 && f.bytes[12] == 0x08 && f.bytes[13] == 0 {
                let ihl = Int(f.bytes[14] & 0x0f) * 4
                let proto = f.bytes[23], total = Int(f.bytes[16]) << 8 | Int(f.bytes[17])
                if proto == 6, tcpData == nil, total > ihl + 40 { tcpData = f.bytes }
                if proto == 6, tcpAck == nil, total == ihl + 20 || total == ihl + 32 { tcpAck = f.bytes }
                if proto == 17, udp == nil { udp = f.bytes }
            }
        }
        return [tcpData, tcpAck, udp].compactMap { $0 }
    }

    @Test func everyPrefixOfRealFramesAgrees() {
        let frames = Self.realFrames()
        #expect(frames.count == 3)
        var taken = 0
        for frame in frames {
            for n in 0...frame.count {
                if let why = Self.compare(Array(frame.prefix(n)), taken: &taken) { Issue.record("prefix \(n) of \(frame.count): \(why)") }
            }
        }
        #expect(taken > 0)
    }

    /// Every byte of the Ethernet, IP and transport headers (and a few past them) set to values at the
    /// edges of the fast path's checks: version and IHL nibbles, flag bits, lengths around the real ones.
    @Test func headerByteMutationsAgree() {
        let values: [UInt8] = [0x00, 0x01, 0x05, 0x06, 0x07, 0x08, 0x11, 0x14, 0x20, 0x3f, 0x40, 0x45, 0x46, 0x4f, 0x50, 0x5f,
                               0x60, 0x80, 0x86, 0xdd, 0xf0, 0xff]
        var taken = 0, tried = 0
        for frame in Self.realFrames() {
            for i in 0..<min(frame.count, 14 + 60 + 24) {
                for v in values + [frame[i] ^ 0x01, frame[i] &+ 1, frame[i] &- 1] {
                    var m = frame
                    m[i] = v
                    tried += 1
                    if let why = Self.compare(m, taken: &taken) { Issue.record("byte \(i) = \(v): \(why)") }
                }
            }
        }
        #expect(taken > 0 && taken < tried, "\(taken) of \(tried) mutations took the fast path")
    }

    /// Near misses the fast path must hand to the layers (each is counted or stopped there).
    @Test func nearMissesGoThroughTheLayers() {
        guard let tcp = Self.realFrames().first else { Issue.record("no TCP frame in SampleCaptures"); return }
        let vlan = Array(tcp[0..<12]) + [0x81, 0x00, 0x00, 0x07] + Array(tcp[12...])
        var fragment = tcp; fragment[20] |= 0x20                     // more fragments
        var zeroTotal = tcp; zeroTotal[16] = 0; zeroTotal[17] = 0    // segmentation offload: counted
        var badOffset = tcp; badOffset[14 + 20 + 12] = 0x40           // data offset 16 bytes
        for (name, frame) in [("vlan", vlan), ("fragment", fragment), ("zero total", zeroTotal), ("bad data offset", badOffset)] {
            let accepted = frame.withUnsafeBytes { b -> Bool in
                var p = DecodedPacket()
                return PacketDecoder.decodeEthernetIPv4(b, into: &p)
            }
            #expect(!accepted, "\(name)")
        }
    }
}
