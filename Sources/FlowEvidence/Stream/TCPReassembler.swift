// One direction of a TCP byte stream, put back in order (RFC 793 / RFC 9293 section 3.4: sequence
// numbers name bytes; segments may arrive out of order, duplicated or overlapping, and numbers wrap
// at 2^32). The consumer sees each stream byte at most once, in order, or learns through `gap` how
// many bytes it will never see.
//
// Costs: an in-order segment is delivered straight from the packet's bytes (no copy, no allocation).
// Only segments that arrive ahead of a hole are copied, into a ring buffer of `bufferLimit` bytes
// allocated the first time it is needed. When a segment would not fit, or the receiver has already
// acknowledged the missing bytes (the capture lost them, the receiver did not), the hole is reported
// as a gap and the stream continues after it.
import PacketDecode

public struct TCPReassembler {
    /// Bytes held ahead of a hole, per direction. 64 KiB is the largest window without scaling
    /// (RFC 9293 section 3.1, 16-bit window): a sender without window scaling cannot have more in flight.
    public static let defaultBufferLimit = 64 * 1024
    /// Separate out-of-order ranges held at once; more means a capture so lossy that waiting is useless.
    public static let maxBufferedRanges = 64

    public struct Counters: Sendable, Equatable {
        public var deliveredBytes: Int64 = 0
        /// Bytes that arrived again after they had been delivered or buffered.
        public var retransmittedBytes: Int64 = 0
        /// Holes given up on, and their total size.
        public var gaps = 0
        public var gapBytes: Int64 = 0
        /// Segments copied into the out-of-order buffer.
        public var bufferedSegments = 0
        public init() {}
    }

    public var counters: Counters {
        var c = Counters()
        c.deliveredBytes = delivered; c.retransmittedBytes = held?.retransmitted ?? 0
        c.gaps = held?.gaps ?? 0; c.gapBytes = held?.gapBytes ?? 0
        c.bufferedSegments = held?.bufferedSegments ?? 0
        return c
    }
    /// The buffer size, rounded up to a power of two (ring positions are `seq mod size`, so they stay
    /// valid across the 2^32 wrap).
    public var bufferLimit: Int { 1 << Int(bits & Self.shiftMask) }

    // Two per live TCP flow, a million flows in memory (issue 6): 23 bytes, what only a lossy,
    // reordered or retransmitting stream needs (the out-of-order buffer, counts of gaps and of
    // retransmitted bytes) out of line.
    /// Allocated at the first segment that arrives ahead of a hole, the first gap, or the first
    /// retransmitted byte.
    private var held: HeldBytes?
    /// The sequence number of the next byte the consumer expects.
    private var next: UInt32 = 0
    /// The highest acknowledgment number the other direction sent (RFC 9293 SEG.ACK), if `sawAck`.
    private var ackedUpTo: UInt32 = 0
    /// Bytes delivered, in 48 bits (2^48 bytes, 256 TiB, is more than a capture holds): 32 + 16.
    private var deliveredLow: UInt32 = 0, deliveredHigh: UInt16 = 0
    private var delivered: Int64 {
        get { Int64(deliveredHigh) << 32 | Int64(deliveredLow) }
        set {
            let v = min(max(newValue, 0), (1 << 48) - 1)
            deliveredHigh = UInt16(truncatingIfNeeded: v >> 32); deliveredLow = UInt32(truncatingIfNeeded: v)
        }
    }
    /// log2 of the buffer size (low 5 bits) and three flags.
    private var bits: UInt8
    private static let shiftMask: UInt8 = 0x1F, startedBit: UInt8 = 0x20, sawSYNBit: UInt8 = 0x40, sawAckBit: UInt8 = 0x80
    private var started: Bool {
        get { bits & Self.startedBit != 0 }
        set { if newValue { bits |= Self.startedBit } else { bits &= ~Self.startedBit } }
    }
    private var sawSYN: Bool {
        get { bits & Self.sawSYNBit != 0 }
        set { if newValue { bits |= Self.sawSYNBit } else { bits &= ~Self.sawSYNBit } }
    }
    private var sawAck: Bool {
        get { bits & Self.sawAckBit != 0 }
        set { if newValue { bits |= Self.sawAckBit } else { bits &= ~Self.sawAckBit } }
    }
    private var highestAck: UInt32? { sawAck ? ackedUpTo : nil }

    /// Bytes held ahead of a hole, and the holes given up on: a class, so that a reassembler of a
    /// stream without loss stays small; copied on write (`heldForWriting`), so that the reassembler
    /// keeps value semantics.
    private final class HeldBytes {
        var ring: [UInt8] = []
        /// Buffered byte ranges `[start, end)` ahead of `next`: sorted, disjoint, not touching.
        var ranges: [(start: UInt32, end: UInt32)] = []
        /// Segments copied into the ring.
        var bufferedSegments = 0
        /// Holes given up on, and their total size.
        var gaps = 0
        var gapBytes: Int64 = 0
        /// Bytes that arrived again after they had been delivered or buffered.
        var retransmitted: Int64 = 0
        init() {}
        init(copying o: HeldBytes) {
            ring = o.ring; ranges = o.ranges; bufferedSegments = o.bufferedSegments; gaps = o.gaps; gapBytes = o.gapBytes
            retransmitted = o.retransmitted
        }
    }
    private mutating func heldForWriting() -> HeldBytes {
        if held == nil { held = HeldBytes() }
        else if !isKnownUniquelyReferenced(&held!) { held = HeldBytes(copying: held!) }
        return held!
    }
    private var ranges: [(start: UInt32, end: UInt32)] {
        get { held?.ranges ?? [] }
        _modify { yield &heldForWriting().ranges }
    }
    /// Bytes are held ahead of a hole (an acknowledgment may release them to the consumer).
    var hasRanges: Bool { held.map { !$0.ranges.isEmpty } ?? false }

    public init(bufferLimit: Int = TCPReassembler.defaultBufferLimit) {
        // The smallest power of two >= bufferLimit, at most 2^30: its log2.
        let limit = min(max(bufferLimit, 1), 1 << 30)
        self.bits = UInt8(Int.bitWidth - (limit - 1).leadingZeroBitCount)
    }

    /// The next sequence number the consumer expects, once the stream has started.
    public var nextSequence: UInt32? { started ? next : nil }
    /// The sequence number of the SYN that started the stream, when that SYN (and retransmissions of
    /// it) is all the reassembler has seen: `TCPReassembler()` fed `segment(seq:flags: [.syn],...)`
    /// with no payload is then this reassembler again. Lets a flow layer keep 4 bytes instead.
    public var onlySYNSequence: UInt32? {
        started && sawSYN && !sawAck && delivered == 0 && held == nil ? next &- 1 : nil
    }
    /// Bytes currently held ahead of a hole.
    public var bufferedBytes: Int { ranges.reduce(0) { $0 + SequenceNumber.distance(from: $1.start, to: $1.end) } }

    /// Feeds one segment of this direction. A SYN sets the initial sequence number; without one the
    /// first segment seen starts the stream.
    ///
    /// `cutBytes`: bytes of the segment that were on the wire but not captured (snap length). When
    /// the segment is in order they become a gap at once instead of a hole that waits for the buffer.
    public mutating func segment<C: StreamConsumer>(seq: UInt32, flags: TCPFlags, payload: UnsafeRawBufferPointer,
                                                    cutBytes: Int = 0, consumer: inout C) {
        var dataSeq = seq
        if flags.contains(.syn) {
            dataSeq = seq &+ 1   // the SYN occupies one sequence number
            if !started || (!sawSYN && delivered == 0 && !hasRanges) {
                next = dataSeq; started = true; sawSYN = true
            }
        }
        if !started { next = dataSeq; started = true }
        let count = payload.count
        guard count > 0 else { return }

        guard consumer.wantsBytes else {
            // Track the sequence only, so that a later reader of `nextSequence` stays right.
            let end = SequenceNumber.advance(dataSeq, by: count)
            if SequenceNumber.distance(from: next, to: end) > 0 { next = end }
            if hasRanges { ranges.removeAll(keepingCapacity: true) }
            return
        }

        var offset = SequenceNumber.distance(from: next, to: dataSeq)
        if offset > 0 {
            // A hole before this segment. Give it up when the receiver already acknowledged it, or
            // when holding this segment would overflow the buffer.
            if let ack = highestAck, SequenceNumber.distance(from: dataSeq, to: ack) >= 0 {
                skipHoles(upTo: dataSeq, consumer: &consumer)
                offset = SequenceNumber.distance(from: next, to: dataSeq)
                if offset > 0 {
                    reportGap(offset, consumer: &consumer)
                    next = dataSeq
                    offset = 0
                }
            }
            while offset > 0, offset + count > bufferLimit || (ranges.count >= Self.maxBufferedRanges && !coversOrTouches(dataSeq, count)) {
                if !skipToFirstRange(consumer: &consumer) {
                    reportGap(offset, consumer: &consumer)
                    next = dataSeq
                }
                offset = SequenceNumber.distance(from: next, to: dataSeq)
            }
            if offset > 0 {
                store(payload, at: dataSeq)
                return
            }
        }
        if offset + count <= 0 {
            countRetransmitted(count)
            return
        }
        // In order, possibly starting with bytes already delivered.
        countRetransmitted(-offset)
        let fresh = payload.slice(-offset, count + offset)
        delivered += Int64(fresh.count)
        next = SequenceNumber.advance(next, by: fresh.count)
        consumer.deliver(fresh)
        if cutBytes > 0, cutBytes <= 1 << 30 {
            reportGap(cutBytes, consumer: &consumer)
            next = SequenceNumber.advance(next, by: cutBytes)
        }
        drain(consumer: &consumer)
    }

    /// The other direction acknowledged everything before `ack`: holes below it were lost by the
    /// capture, not by the network, so waiting for a retransmission is useless.
    public mutating func acknowledged<C: StreamConsumer>(upTo ack: UInt32, consumer: inout C) {
        guard started else { return }
        let ahead = SequenceNumber.distance(from: next, to: ack)
        // Ignore acknowledgments behind us, or absurdly far ahead (a broken or foreign header).
        guard ahead > 0, ahead <= 1 << 30 else { return }
        if let h = highestAck, SequenceNumber.distance(from: h, to: ack) <= 0 {} else { ackedUpTo = ack; sawAck = true }
        if consumer.wantsBytes { skipHoles(upTo: ack, consumer: &consumer) }
    }

    /// End of the flow: delivers what is buffered, reporting the holes between.
    public mutating func finish<C: StreamConsumer>(consumer: inout C) {
        while hasRanges, consumer.wantsBytes {
            _ = skipToFirstRange(consumer: &consumer)
        }
        if held != nil {   // keeps its segment count
            let h = heldForWriting()
            h.ranges = []
            h.ring = []
        }
    }

    // MARK: - Buffer

    /// Skips the holes whose buffered data starts at or before `limit`.
    private mutating func skipHoles<C: StreamConsumer>(upTo limit: UInt32, consumer: inout C) {
        while let first = ranges.first, SequenceNumber.distance(from: first.start, to: limit) >= 0, consumer.wantsBytes {
            _ = skipToFirstRange(consumer: &consumer)
        }
    }

    /// True when `[seq, seq+count)` overlaps or touches a buffered range (storing it adds no range).
    private func coversOrTouches(_ seq: UInt32, _ count: Int) -> Bool {
        let s = SequenceNumber.distance(from: next, to: seq), e = s + count
        return ranges.contains { SequenceNumber.distance(from: next, to: $0.start) <= e && SequenceNumber.distance(from: next, to: $0.end) >= s }
    }

    /// Reports the hole before the first buffered range as a gap and delivers from there.
    private mutating func skipToFirstRange<C: StreamConsumer>(consumer: inout C) -> Bool {
        guard let first = ranges.first else { return false }
        let hole = SequenceNumber.distance(from: next, to: first.start)
        if hole > 0 {
            reportGap(hole, consumer: &consumer)
            next = first.start
        }
        drain(consumer: &consumer)
        return true
    }

    private mutating func countRetransmitted(_ n: Int) {
        if n > 0 { heldForWriting().retransmitted += Int64(n) }
    }

    private mutating func reportGap<C: StreamConsumer>(_ n: Int, consumer: inout C) {
        let h = heldForWriting()
        h.gaps += 1
        h.gapBytes += Int64(n)
        consumer.gap(n)
    }

    /// Delivers buffered ranges that now start at or before `next`.
    private mutating func drain<C: StreamConsumer>(consumer: inout C) {
        while let first = held?.ranges.first, SequenceNumber.distance(from: next, to: first.start) <= 0 {
            ranges.removeFirst()
            let n = SequenceNumber.distance(from: next, to: first.end)
            guard n > 0 else { continue }
            deliverFromRing(from: next, count: n, consumer: &consumer)
            next = first.end
        }
    }

    private mutating func deliverFromRing<C: StreamConsumer>(from seq: UInt32, count: Int, consumer: inout C) {
        delivered += Int64(count)
        let mask = UInt32(bufferLimit - 1)
        let start = Int(seq & mask)
        let firstPart = min(count, bufferLimit - start)
        held!.ring.withUnsafeBytes { buf in
            consumer.deliver(buf.slice(start, firstPart))
            if firstPart < count, consumer.wantsBytes { consumer.deliver(buf.slice(0, count - firstPart)) }
        }
    }

    /// Copies a segment that lies ahead of `next` (and within the buffer) into the ring.
    private mutating func store(_ payload: UnsafeRawBufferPointer, at seq: UInt32) {
        let h = heldForWriting()
        if h.ring.isEmpty { h.ring = [UInt8](repeating: 0, count: bufferLimit) }
        h.bufferedSegments += 1
        let mask = UInt32(bufferLimit - 1)
        let start = Int(seq & mask)
        let firstPart = min(payload.count, bufferLimit - start)
        h.ring.withUnsafeMutableBytes { buf in
            buf.baseAddress!.advanced(by: start).copyMemory(from: payload.baseAddress!, byteCount: firstPart)
            if firstPart < payload.count {
                buf.baseAddress!.copyMemory(from: payload.baseAddress!.advanced(by: firstPart), byteCount: payload.count - firstPart)
            }
        }
        // Merge [s, e) (relative to next) into the sorted range list.
        var s = SequenceNumber.distance(from: next, to: seq)
        var e = s + payload.count
        var i = 0
        while i < h.ranges.count, SequenceNumber.distance(from: next, to: h.ranges[i].end) < s { i += 1 }
        var j = i
        while j < h.ranges.count, SequenceNumber.distance(from: next, to: h.ranges[j].start) <= e {
            let rs = SequenceNumber.distance(from: next, to: h.ranges[j].start)
            let re = SequenceNumber.distance(from: next, to: h.ranges[j].end)
            h.retransmitted += Int64(max(0, min(e, re) - max(s, rs)))
            s = min(s, rs); e = max(e, re)
            j += 1
        }
        let merged = (start: SequenceNumber.advance(next, by: s), end: SequenceNumber.advance(next, by: e))
        h.ranges.replaceSubrange(i..<j, with: CollectionOfOne(merged))
    }
}
