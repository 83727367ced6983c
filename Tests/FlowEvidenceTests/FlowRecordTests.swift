// The flow record's packed fields (Flow.swift: 112 bytes per live flow, issue 6) give back what was
// stored, at the limits too, and the record does not grow unnoticed.
import Testing
import WireBytes
import PacketDecode
@testable import FlowEvidence

@Suite struct FlowRecordTests {
    static let v4a = IPAddress(v4: 0x0A00_0001), v4b = IPAddress(v4: 0xC633_6407)
    static let v6a = IPAddress(v6hi: 0x2001_0db8_0000_0000, v6lo: 1), v6b = IPAddress(v6hi: 0xfe80_0000_0000_0000, v6lo: 0xffff_ffff_ffff_ffff)

    static func flow(_ key: FlowKey, srcIsA: Bool, id: Int = 7, frame: FrameRef = FrameRef(captureIndex: 0, frame: 1)) -> Flow<Int> {
        Flow(id: id, key: key, srcIsA: srcIsA, timestamp: Timestamp(seconds: 5, nanos: 6), frame: frame, context: 42)
    }

    @Test func keyAndEndpointsRoundTrip() {
        let keys = [FlowKey(a: Self.v4a, aPort: 1, b: Self.v4b, bPort: 65535, proto: IPProtocolNumber.tcp),
                    FlowKey(a: Self.v6a, aPort: 53, b: Self.v6b, bPort: 0, proto: IPProtocolNumber.udp),
                    FlowKey(a: Self.v4a, aPort: 80, b: Self.v6b, bPort: 81, proto: 6)]   // families differ: still kept apart
        for key in keys {
            for srcIsA in [true, false] {
                let f = Self.flow(key, srcIsA: srcIsA)
                #expect(f.key == key)
                #expect(f.src == (srcIsA ? key.a : key.b) && f.dst == (srcIsA ? key.b : key.a))
                #expect(f.srcPort == (srcIsA ? key.aPort : key.bPort) && f.dstPort == (srcIsA ? key.bPort : key.aPort))
                #expect(f.ipProtocol == key.proto && f.context == 42 && f.firstSeen == Timestamp(seconds: 5, nanos: 6))
            }
        }
    }

    @Test func countsAndIdsBeyond32Bits() {
        let key = FlowKey(a: Self.v4a, aPort: 1, b: Self.v4b, bPort: 2, proto: 6)
        for id in [0, 1 << 32 - 1, 1 << 32, Flow<Int>.maxCount] {
            #expect(Self.flow(key, srcIsA: true, id: id).id == id)
        }
        var f = Self.flow(key, srcIsA: true)
        f.packetsFromSrc = 1 << 32 - 1
        f.packetsFromSrc += 1
        f.packetsFromDst = Flow<Int>.maxCount
        #expect(f.packetsFromSrc == 1 << 32 && f.packetsFromDst == Flow<Int>.maxCount)
        #expect(f.packets == 1 << 32 + Flow<Int>.maxCount)
        // The flow table's increment carries from the low 32 bits into the high 16.
        f.packetsFromDst = 1 << 32 - 1
        f.countPacket(fromSrc: false)
        f.countPacket(fromSrc: true)
        #expect(f.packetsFromDst == 1 << 32 && f.packetsFromSrc == 1 << 32 + 1)
    }

    @Test func lastFrameMovesOnlyForward() {
        let key = FlowKey(a: Self.v4a, aPort: 1, b: Self.v4b, bPort: 2, proto: 6)
        var f = Self.flow(key, srcIsA: true, frame: FrameRef(captureIndex: 1, frame: 10))
        for (next, expected) in [(FrameRef(captureIndex: 1, frame: 9), FrameRef(captureIndex: 1, frame: 10)),
                                 (FrameRef(captureIndex: 1, frame: 11), FrameRef(captureIndex: 1, frame: 11)),
                                 (FrameRef(captureIndex: 0, frame: 1 << 30), FrameRef(captureIndex: 1, frame: 11)),
                                 (FrameRef(captureIndex: 2, frame: 1), FrameRef(captureIndex: 2, frame: 1))] {
            f.noteFrame(next)
            #expect(f.lastFrame == expected && (next < expected || next == expected))
        }
    }

    @Test func frameReferencesAtTheirLimits() {
        let key = FlowKey(a: Self.v4a, aPort: 1, b: Self.v4b, bPort: 2, proto: 17)
        let first = FrameRef(captureIndex: Flow<Int>.maxCaptureIndex, frame: Flow<Int>.maxFrameNumber)
        var f = Self.flow(key, srcIsA: false, frame: first)
        #expect(f.firstFrame == first && f.lastFrame == first)
        f.lastFrame = FrameRef(captureIndex: 3, frame: 1)
        #expect(f.firstFrame == first && f.lastFrame == FrameRef(captureIndex: 3, frame: 1))
    }

    @Test func flagsAreIndependent() {
        let key = FlowKey(a: Self.v6a, aPort: 1, b: Self.v6b, bPort: 2, proto: 6)
        var f = Self.flow(key, srcIsA: false)
        let setters: [(inout Flow<Int>) -> Void] = [{ $0.sawSYN = true }, { $0.finFromSrc = true }, { $0.finFromDst = true },
                                                   { $0.sawRST = true }, { $0.settled = true }]
        for (i, set) in setters.enumerated() {
            set(&f)
            let now = [f.sawSYN, f.finFromSrc, f.finFromDst, f.sawRST, f.settled]
            #expect(now == (0..<5).map { $0 <= i })
            #expect(f.key == key && f.src == key.b)   // the address families and srcIsA share the byte
        }
        #expect(f.isClosing)
    }

    /// A million live flows must fit in memory (issue 6): the record of the analyzer's table, whose
    /// context is 8 bytes (FlowContext), is 112 bytes; a new field should be a decision.
    @Test func recordSize() {
        #expect(MemoryLayout<FlowContext>.size == 8)
        #expect(MemoryLayout<Flow<FlowContext>>.stride == 112)
    }
}
