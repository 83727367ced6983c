// A TCP flow whose packets so far are its opening SYN keeps only the SYN's sequence number
// (FlowContext.openingSYN, issue 6): what follows must be read as if the whole state had been kept.
import Testing
import WireBytes
import PacketDecode
@testable import FlowEvidence

@Suite struct OpeningSYNTests {
    static let client = IPAddress(v4: 0x0A00_0002), server = IPAddress(v4: 0x0A00_0003)
    static let infoHash: [UInt8] = (0..<20).map { UInt8($0 * 11 + 1) }
    /// A BEP 3 handshake: pstrlen 19, "BitTorrent protocol", 8 reserved bytes, infohash, peer id.
    static func handshake(peer: UInt8) -> [UInt8] {
        [19] + Array("BitTorrent protocol".utf8) + [UInt8](repeating: 0, count: 8) + infoHash + Array("-qB4650-".utf8)
            + [UInt8](repeating: peer, count: 12)
    }

    struct Segment {
        let fromClient: Bool, seq: UInt32, ack: UInt32, flags: TCPFlags, payload: [UInt8]
    }

    static func run(_ segments: [Segment]) -> AnalysisOutput {
        var analyzer = FlowAnalyzer()
        for (i, s) in segments.enumerated() {
            s.payload.withUnsafeBytes { bytes in
                var p = DecodedPacket()
                p.hasIP = true
                p.src = s.fromClient ? client : server; p.dst = s.fromClient ? server : client
                p.srcPort = s.fromClient ? 50000 : 6881; p.dstPort = s.fromClient ? 6881 : 50000
                p.ipProtocol = IPProtocolNumber.tcp
                p.tcp = TCPInfo(seq: s.seq, ack: s.ack, flags: s.flags, window: 65535, headerLength: 20)
                p.payload = bytes; p.payloadLength = bytes.count
                analyzer.process(record: FrameRef(captureIndex: 0, frame: i + 1), timestamp: Timestamp(seconds: 10, nanos: Int64(i)), packet: p)
            }
        }
        return analyzer.finish()
    }

    @Test func retransmittedSYNThenHandshakes() {
        let hc = Self.handshake(peer: 0x41), hs = Self.handshake(peer: 0x42)
        let out = Self.run([
            Segment(fromClient: true, seq: 1000, ack: 0, flags: [.syn], payload: []),
            Segment(fromClient: true, seq: 1000, ack: 0, flags: [.syn], payload: []),   // retransmitted
            Segment(fromClient: false, seq: 5000, ack: 1001, flags: [.syn, .ack], payload: []),
            Segment(fromClient: true, seq: 1001, ack: 5001, flags: [.ack, .psh], payload: hc),
            Segment(fromClient: false, seq: 5001, ack: 1001 + UInt32(hc.count), flags: [.ack, .psh], payload: hs),
        ])
        #expect(out.flows.count == 1)
        #expect(out.flows.first?.label == "bittorrent-peer" && out.flows.first?.packets == 5)
        let ips = Set(out.evidence.filter { $0.confidence == .handshake }.map(\.ip))
        #expect(ips == [Self.client, Self.server])
        #expect(out.anomalies["tcp_reassembly_gap", default: 0] == 0)
    }

    /// The client's first byte is one after its SYN: a handshake at the SYN's own sequence number
    /// (one byte early) is not in order, and a gap before it would show.
    @Test func sequenceNumberIsTheSYNs() {
        let hc = Self.handshake(peer: 0x41)
        let out = Self.run([
            Segment(fromClient: true, seq: 0xFFFF_FFFF, ack: 0, flags: [.syn], payload: []),   // wraps: data from 0
            Segment(fromClient: true, seq: 0, ack: 1, flags: [.ack, .psh], payload: hc),
        ])
        #expect(out.flows.first?.label == "bittorrent-peer")
        #expect(out.anomalies["tcp_reassembly_gap", default: 0] == 0)
        let late = Self.run([
            Segment(fromClient: true, seq: 0xFFFF_FFFF, ack: 0, flags: [.syn], payload: []),
            Segment(fromClient: true, seq: 10, ack: 1, flags: [.ack, .psh], payload: hc),      // 10 bytes missing
        ])
        #expect(late.anomalies["tcp_reassembly_gap", default: 0] == 1)
    }

    @Test func aSYNOnlyFlowStillHasItsRow() {
        let out = Self.run([
            Segment(fromClient: true, seq: 7, ack: 0, flags: [.syn], payload: []),
            Segment(fromClient: true, seq: 7, ack: 0, flags: [.syn], payload: []),
        ])
        #expect(out.flows.count == 1)
        #expect(out.flows.first?.label == "other" && out.flows.first?.packets == 2 && out.flows.first?.srcIP == Self.client)
        #expect(out.flowCounts.created == 1)
    }

    @Test func onlySYNSequenceOfAReassembler() {
        var r = TCPReassembler(), c = Collector()
        #expect(r.onlySYNSequence == nil)
        r.segment(seq: 41, flags: [.syn], payload: UnsafeRawBufferPointer(start: nil, count: 0), consumer: &c)
        #expect(r.onlySYNSequence == 41)
        r.segment(seq: 41, flags: [.syn], payload: UnsafeRawBufferPointer(start: nil, count: 0), consumer: &c)
        #expect(r.onlySYNSequence == 41)
        [UInt8](repeating: 1, count: 3).withUnsafeBytes { r.segment(seq: 42, flags: [.ack], payload: $0, consumer: &c) }
        #expect(r.onlySYNSequence == nil)
        var acked = TCPReassembler()
        acked.segment(seq: 41, flags: [.syn], payload: UnsafeRawBufferPointer(start: nil, count: 0), consumer: &c)
        acked.acknowledged(upTo: 50, consumer: &c)
        #expect(acked.onlySYNSequence == nil)
    }
}
