// TCPFlowState.segmentWithoutConsumers (issue 6): a segment none of whose bytes can reach a classifier
// skips building the feeds and sinks, but one whose ACK gives up a hole of the other direction must
// still release that direction's held bytes then, as evidence from them names the ACK's frame.
import Testing
import WireBytes
import PacketDecode
@testable import FlowEvidence

@Suite struct QuietSegmentTests {
    typealias Segment = OpeningSYNTests.Segment

    /// The server's first 10 bytes are lost; its handshake, held behind the hole, is released when
    /// the client acknowledges past it (frame 5), not at the end of the flow (frame 6).
    @Test func anACKThatGivesUpAHoleStillReleasesTheHeldBytes() {
        let hc = OpeningSYNTests.handshake(peer: 0x41), hs = OpeningSYNTests.handshake(peer: 0x42)
        let clientEnd = 1001 + UInt32(hc.count), serverEnd = 5011 + UInt32(hs.count)
        let out = OpeningSYNTests.run([
            Segment(fromClient: true, seq: 1000, ack: 0, flags: [.syn], payload: []),
            Segment(fromClient: false, seq: 5000, ack: 1001, flags: [.syn, .ack], payload: []),
            Segment(fromClient: true, seq: 1001, ack: 5001, flags: [.ack, .psh], payload: hc),
            Segment(fromClient: false, seq: 5011, ack: clientEnd, flags: [.ack, .psh], payload: hs),   // 10 bytes lost before it
            Segment(fromClient: true, seq: clientEnd, ack: serverEnd, flags: [.ack], payload: []),       // gives the hole up
            Segment(fromClient: true, seq: clientEnd, ack: serverEnd, flags: [.ack], payload: []),
        ])
        let server = out.evidence.filter { $0.ip == OpeningSYNTests.server && $0.confidence == .handshake }
        #expect(server.count == 1)
        #expect(server.first?.firstFrame == FrameRef(captureIndex: 0, frame: 5))
        #expect(out.anomalies["tcp_reassembly_gap", default: 0] == 1)
    }

    static func state() -> TCPFlowState {
        let s = TCPFlowState(bufferLimit: 1 << 16)
        s.load(openingSYN: 1000, bufferLimit: 1 << 16)
        return s
    }

    @Test func bareACKsNeedNoFeedsButBytesBeingClassifiedDo() {
        let s = Self.state()
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        let synAck = TCPInfo(seq: 5000, ack: 1001, flags: [.syn, .ack], window: 65535, headerLength: 20)
        #expect(s.segmentWithoutConsumers(synAck, payload: none, cutBytes: 0, fromSrc: false) == false)
        let ack = TCPInfo(seq: 1001, ack: 5001, flags: [.ack], window: 65535, headerLength: 20)
        #expect(s.segmentWithoutConsumers(ack, payload: none, cutBytes: 0, fromSrc: true) == false)
        // Bytes while the MSE shape is measured (or a proxy handshake probed) go to the feeds.
        let data = TCPInfo(seq: 1001, ack: 5001, flags: [.ack, .psh], window: 65535, headerLength: 20)
        [UInt8](repeating: 7, count: 100).withUnsafeBytes {
            #expect(s.segmentWithoutConsumers(data, payload: $0, cutBytes: 0, fromSrc: true) == nil)
        }
    }

    @Test func anACKOverHeldBytesNeedsTheFeeds() {
        let s = Self.state()
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        let synAck = TCPInfo(seq: 5000, ack: 1001, flags: [.syn, .ack], window: 65535, headerLength: 20)
        _ = s.segmentWithoutConsumers(synAck, payload: none, cutBytes: 0, fromSrc: false)
        // The server's bytes from 5011 are held behind a 10-byte hole (its first byte is 5001).
        let ahead = TCPInfo(seq: 5011, ack: 1001, flags: [.ack, .psh], window: 65535, headerLength: 20)
        let box = AggregatorBox(EvidenceAggregator())   // (the sink does not own it)
        let sink = EvidenceSink(aggregator: box, state: s,
                                origin: EventOrigin(flowID: 1, sender: OpeningSYNTests.server, receiver: OpeningSYNTests.client,
                                                    timestamp: Timestamp(seconds: 1, nanos: 0), frame: FrameRef(captureIndex: 0, frame: 1)),
                                senderIsSrc: false, srcPort: 50000, dstPort: 6881)
        withExtendedLifetime(box) {
            [UInt8](repeating: 7, count: 100).withUnsafeBytes { _ = s.segment(ahead, payload: $0, cutBytes: 0, fromSrc: false, sink: sink) }
        }
        #expect(s.reassemblerFromDst.hasRanges)
        let ack = TCPInfo(seq: 1001, ack: 5200, flags: [.ack], window: 65535, headerLength: 20)
        #expect(s.segmentWithoutConsumers(ack, payload: none, cutBytes: 0, fromSrc: true) == nil)
    }
}
