import Testing
import TorscanTestSupport
import PacketDecode
@testable import FlowEvidence

/// Records what a reassembler delivers: the byte stream with gaps marked, and where bytes came from.
struct Collector: StreamConsumer {
    enum Piece: Equatable { case bytes([UInt8]), gap(Int) }
    var pieces: [Piece] = []
    var deliveredPointers: [UnsafeRawPointer?] = []
    var wantsBytes = true

    mutating func deliver(_ bytes: UnsafeRawBufferPointer) {
        deliveredPointers.append(bytes.baseAddress)
        if case .bytes(let b)? = pieces.last { pieces[pieces.count - 1] = .bytes(b + Array(bytes)) } else { pieces.append(.bytes(Array(bytes))) }
    }
    mutating func gap(_ n: Int) { pieces.append(.gap(n)) }
    var stream: [UInt8] {
        var out: [UInt8] = []
        for case .bytes(let b) in pieces { out += b }
        return out
    }
}


@Suite struct TCPReassemblerTests {
    let data: [UInt8] = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

    /// Feeds `data[range]` as the segment starting at `isn + 1 + range.lowerBound`.
    func feed(_ r: inout TCPReassembler, _ c: inout Collector, isn: UInt32, _ range: Range<Int>, flags: TCPFlags = [.ack]) {
        let seq = isn &+ 1 &+ UInt32(range.lowerBound)
        data[range].withUnsafeBytes { r.segment(seq: seq, flags: flags, payload: $0, consumer: &c) }
    }

    func syn(_ r: inout TCPReassembler, _ c: inout Collector, isn: UInt32) {
        r.segment(seq: isn, flags: [.syn], payload: UnsafeRawBufferPointer(start: nil, count: 0), consumer: &c)
    }

    @Test func inOrderSegmentsAreDeliveredWithoutCopy() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 1000)
        let seg: [UInt8] = Array(data[0..<50])
        seg.withUnsafeBytes { p in
            r.segment(seq: 1001, flags: [.ack], payload: p, consumer: &c)
            #expect(c.deliveredPointers == [p.baseAddress])
        }
        #expect(c.stream == seg)
        #expect(r.counters.bufferedSegments == 0)
        #expect(r.nextSequence == 1051)
    }

    @Test func outOfOrderSegmentsComeOutInOrder() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 5)
        feed(&r, &c, isn: 5, 100..<150)
        feed(&r, &c, isn: 5, 50..<100)
        #expect(c.pieces.isEmpty)
        #expect(r.bufferedBytes == 100)
        feed(&r, &c, isn: 5, 0..<50)
        #expect(c.pieces == [.bytes(Array(data[0..<150]))])
        #expect(r.counters.bufferedSegments == 2)
        #expect(r.bufferedBytes == 0)
    }

    @Test func retransmissionsAreDeliveredOnce() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 0)
        feed(&r, &c, isn: 0, 0..<40)
        feed(&r, &c, isn: 0, 0..<40)
        feed(&r, &c, isn: 0, 60..<80)
        feed(&r, &c, isn: 0, 60..<80)
        feed(&r, &c, isn: 0, 40..<60)
        #expect(c.stream == Array(data[0..<80]))
        #expect(r.counters.retransmittedBytes == 60)
        #expect(r.counters.deliveredBytes == 80)
    }

    @Test func overlappingSegmentsDeliverEachByteOnce() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 77)
        feed(&r, &c, isn: 77, 0..<30)
        feed(&r, &c, isn: 77, 20..<50)      // overlaps delivered bytes
        feed(&r, &c, isn: 77, 70..<90)      // ahead
        feed(&r, &c, isn: 77, 65..<80)      // overlaps the buffered range
        feed(&r, &c, isn: 77, 45..<66)      // overlaps delivered and buffered bytes
        #expect(c.stream == Array(data[0..<90]))
        #expect(r.counters.gaps == 0)
    }

    @Test func sequenceNumbersWrapAt2To32() {
        var r = TCPReassembler(), c = Collector()
        let isn: UInt32 = 0xFFFF_FFC0          // stream bytes cross 2^32 at offset 63
        syn(&r, &c, isn: isn)
        feed(&r, &c, isn: isn, 100..<200)
        feed(&r, &c, isn: isn, 40..<100)       // straddles the wrap, buffered
        feed(&r, &c, isn: isn, 0..<40)
        #expect(c.stream == data)
        #expect(r.nextSequence == isn &+ 201)
    }

    @Test func withoutSYNTheFirstSegmentStartsTheStream() {
        var r = TCPReassembler(), c = Collector()
        data[10..<20].withUnsafeBytes { r.segment(seq: 7_000_000, flags: [.ack], payload: $0, consumer: &c) }
        data[20..<30].withUnsafeBytes { r.segment(seq: 7_000_010, flags: [.ack], payload: $0, consumer: &c) }
        #expect(c.stream == Array(data[10..<30]))
    }

    @Test func bufferOverflowReportsTheHoleAsAGap() {
        var r = TCPReassembler(bufferLimit: 64), c = Collector()
        syn(&r, &c, isn: 0)
        feed(&r, &c, isn: 0, 0..<10)
        // 10..<20 is never seen; 20..<60 fits the 64-byte window, 60..<100 does not.
        feed(&r, &c, isn: 0, 20..<60)
        #expect(c.pieces == [.bytes(Array(data[0..<10]))])
        feed(&r, &c, isn: 0, 60..<100)
        #expect(c.pieces == [.bytes(Array(data[0..<10])), .gap(10), .bytes(Array(data[20..<100]))])
        #expect(r.counters.gaps == 1 && r.counters.gapBytes == 10)
    }

    @Test func segmentFarAheadWithNothingBufferedSkipsTheHole() {
        var r = TCPReassembler(bufferLimit: 64), c = Collector()
        syn(&r, &c, isn: 0)
        feed(&r, &c, isn: 0, 0..<10)
        feed(&r, &c, isn: 0, 100..<150)
        #expect(c.pieces == [.bytes(Array(data[0..<10])), .gap(90), .bytes(Array(data[100..<150]))])
    }

    @Test func acknowledgedHoleIsCaptureLoss() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 0)
        feed(&r, &c, isn: 0, 0..<10)
        feed(&r, &c, isn: 0, 30..<40)
        #expect(c.stream.count == 10)
        // The receiver acknowledges byte 40: it got 10..<30, the capture did not.
        r.acknowledged(upTo: 41, consumer: &c)
        #expect(c.pieces == [.bytes(Array(data[0..<10])), .gap(20), .bytes(Array(data[30..<40]))])
        // A later segment after another lost stretch below the ack level is not buffered either.
        r.acknowledged(upTo: 61, consumer: &c)
        feed(&r, &c, isn: 0, 60..<70)
        #expect(c.pieces.suffix(2) == [.gap(20), .bytes(Array(data[60..<70]))])
        #expect(r.counters.bufferedSegments == 1)
    }

    @Test func acknowledgmentBehindOrAbsurdlyAheadIsIgnored() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 0)
        feed(&r, &c, isn: 0, 0..<10)
        feed(&r, &c, isn: 0, 30..<40)
        r.acknowledged(upTo: 5, consumer: &c)
        r.acknowledged(upTo: 0x8000_0000, consumer: &c)
        #expect(c.stream.count == 10)
        #expect(r.counters.gaps == 0)
    }

    @Test func finishFlushesBufferedDataAfterItsHoles() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 0)
        feed(&r, &c, isn: 0, 0..<10)
        feed(&r, &c, isn: 0, 20..<30)
        feed(&r, &c, isn: 0, 50..<60)
        r.finish(consumer: &c)
        #expect(c.pieces == [.bytes(Array(data[0..<10])), .gap(10), .bytes(Array(data[20..<30])), .gap(20), .bytes(Array(data[50..<60]))])
    }

    @Test func consumerThatWantsNothingGetsNothing() {
        var r = TCPReassembler(), c = Collector()
        c.wantsBytes = false
        syn(&r, &c, isn: 0)
        feed(&r, &c, isn: 0, 50..<60)
        feed(&r, &c, isn: 0, 0..<50)
        #expect(c.pieces.isEmpty)
        #expect(r.counters.bufferedSegments == 0)
        #expect(r.nextSequence == 61)
    }

    @Test func tooManyHolesAreGivenUp() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 0)
        // 65 one-byte islands separated by holes: the 65th forces the oldest hole out.
        let big: [UInt8] = (0..<400).map { UInt8(truncatingIfNeeded: $0) }
        for k in 0...TCPReassembler.maxBufferedRanges {
            let off = 1 + 2 * k
            big[off..<(off + 1)].withUnsafeBytes { r.segment(seq: 1 + UInt32(off), flags: [.ack], payload: $0, consumer: &c) }
        }
        #expect(c.pieces.first == .gap(1))
        #expect(r.counters.gaps == 1)
    }

    @Test(arguments: [UInt32(0), 0x7FFF_FFF0, 0xFFFF_FF00, 0xFFFF_FFFF])
    func shuffledDuplicatedSegmentsRebuildTheStream(isn: UInt32) {
        var rng = SplitMix(state: UInt64(isn) &+ 42)
        let stream: [UInt8] = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // Random segment boundaries, each segment possibly duplicated or overlapping its neighbour.
        var segments: [Range<Int>] = []
        var at = 0
        while at < stream.count {
            let n = Int.random(in: 1...300, using: &rng)
            let start = max(0, at - Int.random(in: 0...20, using: &rng))
            segments.append(start..<min(stream.count, at + n))
            if Bool.random(using: &rng) { segments.append(segments.last!) }
            at += n
        }
        // Local reordering (within 8 positions), so the window stays within the 64 KiB buffer.
        for i in segments.indices { segments.swapAt(i, min(segments.count - 1, i + Int.random(in: 0...8, using: &rng))) }
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: isn)
        for s in segments {
            stream[s].withUnsafeBytes { r.segment(seq: isn &+ 1 &+ UInt32(s.lowerBound), flags: [.ack], payload: $0, consumer: &c) }
        }
        r.finish(consumer: &c)
        #expect(c.pieces == [.bytes(stream)])
        #expect(r.counters.deliveredBytes == Int64(stream.count))
    }
    @Test func bytesCutBySnapLengthBecomeAGapAtOnce() {
        var r = TCPReassembler(), c = Collector()
        syn(&r, &c, isn: 0)
        // 0..<100 was on the wire, the capture kept 0..<40.
        data[0..<40].withUnsafeBytes { r.segment(seq: 1, flags: [.ack], payload: $0, cutBytes: 60, consumer: &c) }
        feed(&r, &c, isn: 0, 100..<120)
        #expect(c.pieces == [.bytes(Array(data[0..<40])), .gap(60), .bytes(Array(data[100..<120]))])
        #expect(r.counters.bufferedSegments == 0)
    }
}
