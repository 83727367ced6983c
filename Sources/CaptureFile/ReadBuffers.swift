// The buffers records are read into, and the loop both byte sources share (CaptureReader: a regular
// file read in chunks, ChunkedFile.swift; a stream, StreamSource.swift): fill a buffer, parse the
// whole records in it, move the partial record at its end to the front of the next buffer, grow a
// buffer for a record larger than it (within CaptureLimits.maxStreamBuffer).
//
// One buffer, reused, unless other threads read records after the reader (`LaggingReaders`, the
// pipeline's workers): then a ring of them, each refilled only once those threads are done with the
// records delivered from it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What other threads still read, so that a buffer's records stay valid for them.
public struct LaggingReaders {
    /// The lowest file offset of a record not processed yet, nil when none is pending.
    public var oldestNeeded: () -> Int?
    /// Blocks until no record before `offset` is pending (the caller first hands out what it holds).
    public var waitUntilDone: (_ offset: Int) -> Void
    public init(oldestNeeded: @escaping () -> Int?, waitUntilDone: @escaping (_ offset: Int) -> Void) {
        self.oldestNeeded = oldestNeeded; self.waitUntilDone = waitUntilDone
    }
}

final class ReadBuffers {
    /// Buffers when other threads read behind the reader: they lag by a few hand-off batches
    /// (4 of 1,024 records, about 1.5 MB on the benchmark's mix); more buffers mean fewer waits.
    static let countWithLaggingReaders = 8
    static let alignment = 4096

    /// Bytes of a new buffer.
    let size: Int
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    /// For each buffer, the end of the input range whose records were delivered from it.
    private var delivered: [Int] = []

    /// `first`: a buffer to start with, owned from now on (a stream's, holding the bytes read while
    /// sniffing its format).
    init(size: Int, first: UnsafeMutableRawBufferPointer? = nil) {
        self.size = size
        if let first { buffers = [first]; delivered = [0] }
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Buffer `i` (allocated on first use), at least `size` bytes, keeping its first `keep` bytes.
    func buffer(_ i: Int, size: Int, keeping keep: Int = 0) -> UnsafeMutableRawBufferPointer {
        while buffers.count <= i {
            buffers.append(.allocate(byteCount: self.size, alignment: Self.alignment))
            delivered.append(0)
        }
        if buffers[i].count < size {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: Self.alignment)
            if keep > 0 { bigger.baseAddress!.copyMemory(from: buffers[i].baseAddress!, byteCount: keep) }
            buffers[i].deallocate()
            buffers[i] = bigger
        }
        return buffers[i]
    }

    func deliveredEnd(_ i: Int) -> Int { i < delivered.count ? delivered[i] : 0 }   // 0: not used yet
    func setDeliveredEnd(_ i: Int, _ end: Int) { delivered[i] = end }
}

extension RecordParser {
    /// Parses `filled` bytes already in `buffers`' first buffer, then what `fill(into:count:at:)`
    /// reads (bytes read at input offset `at`; 0 at the end; nil after a read error, errno set).
    /// Returns the input offset reached.
    mutating func parse(_ buffers: ReadBuffers, filled: Int, lagging: LaggingReaders?, state: inout ReadState,
                        body: (CaptureRecord) -> Bool,
                        fill: (_ into: UnsafeMutableRawPointer, _ count: Int, _ at: Int) -> Int?) -> Int {
        let slots = lagging == nil ? 1 : ReadBuffers.countWithLaggingReaders
        var slot = 0
        var buf = buffers.buffer(0, size: buffers.size)
        var start = 0, end = filled, base = 0, eof = false   // unparsed: buf[start..<end]; buf[0] is at offset base
        defer { lagging?.waitUntilDone(Int.max) }   // nothing read from these buffers may be pending after this
        while true {
            if !eof && end < buf.count {
                if let n = fill(buf.baseAddress! + end, buf.count - end, base + end) {
                    if n == 0 { eof = true } else { end += n }
                } else {
                    state.damage(.readError, at: base + end, String(cString: strerror(errno)))
                    eof = true
                }
            }
            let step = parse(UnsafeRawBufferPointer(rebasing: buf[start..<end]), base: base + start, atEOF: eof,
                             state: &state, body: body)
            start += step.consumed
            if step.stop || eof { return base + end }
            guard end == buf.count else { continue }   // room to read more in place
            // The buffer is full: its unparsed end (a partial record) starts the next buffer, grown if
            // the record needs more than a buffer holds.
            let carry = end - start
            let size = max(buffers.size, step.need, carry < buf.count ? 0 : min(2 * buf.count, CaptureLimits.maxStreamBuffer))
            guard size <= CaptureLimits.maxStreamBuffer, size > carry else {
                state.damage(.badBlockLength, at: base + start, "a record needs more than \(CaptureLimits.maxStreamBuffer) bytes")
                return base + end
            }
            buffers.setDeliveredEnd(slot, base + start)
            let next = (slot + 1) % slots
            if next == slot {
                if carry > 0 && start > 0 { memmove(buf.baseAddress!, buf.baseAddress! + start, carry) }   // regions may overlap
                buf = buffers.buffer(slot, size: size, keeping: carry)
            } else {
                if let l = lagging, let oldest = l.oldestNeeded(), oldest < buffers.deliveredEnd(next) {
                    l.waitUntilDone(buffers.deliveredEnd(next))
                }
                let nextBuf = buffers.buffer(next, size: size)
                if carry > 0 { nextBuf.baseAddress!.copyMemory(from: buf.baseAddress! + start, byteCount: carry) }
                buf = nextBuf
            }
            slot = next
            base += start; end = carry; start = 0
        }
    }
}
