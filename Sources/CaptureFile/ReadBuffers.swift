// The buffers records are read into, and the loop both byte sources share (CaptureReader: a regular
// file read in chunks, ChunkedFile.swift; a stream, StreamSource.swift): fill a buffer, parse the
// whole records in it, move the partial record at its end to the front of the next buffer, grow a
// buffer for a record larger than it (within CaptureLimits.maxStreamBuffer).
//
// One buffer, reused, unless other threads read records after the reader (`LaggingReaders`, the
// pipeline's workers): then a ring of them, each refilled only once those threads are done with the
// records delivered from it. The ring belongs to the LaggingReaders, not to one file: the files of a
// run (rotated captures) go on through it, so a file's end is no reason to wait for the other threads,
// and its buffers are not mapped again for the next file (issue 6: with 48 files of 21 MB, two threads
// were no faster than one).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What other threads still read, so that a buffer's records stay valid for them. The files read
/// with one LaggingReaders (in turn, one at a time) share its buffers; a record is named by its run
/// position: `runOffset` (while its file is read) plus its file offset. Records stay valid until the
/// lagging readers are done with them or the last copy of this value is gone, whichever comes first:
/// the reader does not wait for them at a file's end.
public struct LaggingReaders {
    /// The lowest run position of a record not processed yet, nil when none is pending.
    public var oldestNeeded: () -> Int?
    /// Blocks until no record before run position `position` is pending (the caller first hands out
    /// what it holds).
    public var waitUntilDone: (_ position: Int) -> Void
    /// Where the reader posts the read of a regular file's next chunk for an idle lagging reader to
    /// perform (ChunkReadAhead.swift); nil: the reader reads every chunk itself.
    public let readAhead: ChunkReadAhead?
    let pool: ReadBufferPool
    public init(oldestNeeded: @escaping () -> Int?, waitUntilDone: @escaping (_ position: Int) -> Void,
                readAhead: ChunkReadAhead? = nil) {
        self.oldestNeeded = oldestNeeded; self.waitUntilDone = waitUntilDone
        self.readAhead = readAhead
        pool = ReadBufferPool(lead: readAhead == nil ? 0 : ReadBuffers.readAheadLead)
    }
    /// The run position of the first byte of the file read now (or next): the bytes of the files
    /// read before it with these lagging readers. A record's run position is this plus its `fileOffset`.
    public var runOffset: Int { pool.runOffset }
}

/// The ring of buffers the files read with one LaggingReaders go through, and where the next file goes on.
final class ReadBufferPool {
    private var buffers: ReadBuffers?
    /// ReadBuffers.lead of the ring.
    let lead: Int
    init(lead: Int) { self.lead = lead }
    /// The ring's slot the next file starts in.
    var nextSlot = 0
    /// LaggingReaders.runOffset.
    var runOffset = 0

    /// The ring, made for the first file (`size`: its read chunk).
    func buffers(size: Int) -> ReadBuffers {
        if let b = buffers { return b }
        let b = ReadBuffers(size: size, lead: lead)
        buffers = b
        return b
    }
}

final class ReadBuffers {
    /// Buffers when other threads read behind the reader: they lag by a few hand-off batches
    /// (4 of 1,024 records, about 1.5 MB on the benchmark's mix); more buffers mean fewer waits.
    static let countWithLaggingReaders = 8
    static let alignment = 4096
    /// With read-ahead, bytes before each chunk for the partial record carried over from the buffer
    /// before (a chunk is read into a buffer before that record is known). A longer record is carried
    /// the slow way (the read ahead is set aside and the chunk read again after it).
    static let readAheadLead = 64 << 10

    /// Bytes of a chunk read.
    let size: Int
    /// Bytes reserved before a chunk read ahead (readAheadLead, or 0 without read-ahead). A new buffer
    /// has `lead + size` bytes.
    let lead: Int
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    /// For each buffer, the end of the input range whose records were delivered from it.
    private var delivered: [Int] = []

    /// `first`: a buffer to start with, owned from now on (a stream's, holding the bytes read while
    /// sniffing its format).
    init(size: Int, lead: Int = 0, first: UnsafeMutableRawBufferPointer? = nil) {
        self.size = size
        self.lead = lead
        if let first { buffers = [first]; delivered = [0] }
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Buffer `i` (allocated on first use), at least `size` bytes, keeping its first `keep` bytes.
    func buffer(_ i: Int, size: Int, keeping keep: Int = 0) -> UnsafeMutableRawBufferPointer {
        while buffers.count <= i {
            buffers.append(.allocate(byteCount: lead + self.size, alignment: Self.alignment))
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
    /// Returns the input offset reached. With `lagging` (whose ring `buffers` must be), the file
    /// starts in the ring's next slot and, at its end, advances the ring and its run offset for the next.
    /// With `readAhead` (attached to the file `fill` reads; `buffers.lead` > 0), the read of the next
    /// chunk is posted as soon as a buffer is full, and `fill` takes it when the parser gets there
    /// (ChunkReadAhead.take); the caller settles what is still in flight when this returns.
    mutating func parse(_ buffers: ReadBuffers, filled: Int, lagging: LaggingReaders?, readAhead: ChunkReadAhead? = nil,
                        state: inout ReadState, body: (CaptureRecord) -> Bool,
                        fill: (_ into: UnsafeMutableRawPointer, _ count: Int, _ at: Int) -> Int?) -> Int {
        let slots = lagging == nil ? 1 : ReadBuffers.countWithLaggingReaders
        let readAhead = slots > 1 && buffers.lead > 0 ? readAhead : nil
        let runOffset = lagging?.pool.runOffset ?? 0
        var slot = lagging?.pool.nextSlot ?? 0
        // The slot may still hold records of the file before, not yet read by the lagging readers.
        if let l = lagging, let oldest = l.oldestNeeded(), oldest < buffers.deliveredEnd(slot) {
            l.waitUntilDone(buffers.deliveredEnd(slot))
        }
        var buf = buffers.buffer(slot, size: buffers.size)
        var start = 0, end = filled, base = 0, eof = false   // unparsed: buf[start..<end]; buf[0] is at offset base
        var aheadBuffer: UnsafeMutableRawBufferPointer?   // the next slot's buffer, with a read posted into it
        defer {
            // This file's last records stay in `slot` (up to its last byte read); the next file goes on
            // in the next slot, its run positions after this file's.
            if let l = lagging {
                buffers.setDeliveredEnd(slot, runOffset + base + end)
                l.pool.nextSlot = (slot + 1) % slots
                l.pool.runOffset = runOffset + base + end
            }
        }
        while true {
            if !eof && end < buf.count {
                if let n = fill(buf.baseAddress! + end, buf.count - end, base + end) {
                    if n == 0 { eof = true } else { end += n }
                } else {
                    state.damage(.readError, at: base + end, String(cString: strerror(errno)))
                    eof = true
                }
                if let a = readAhead, !eof, end == buf.count, aheadBuffer == nil {
                    // Full: the next chunk goes after the lead of the next slot, once the lagging
                    // readers are done with that slot's records.
                    let next = (slot + 1) % slots
                    if let l = lagging, let oldest = l.oldestNeeded(), oldest < buffers.deliveredEnd(next) {
                        l.waitUntilDone(buffers.deliveredEnd(next))
                    }
                    let b = buffers.buffer(next, size: buffers.lead + buffers.size)
                    a.post(into: b.baseAddress! + buffers.lead, count: buffers.size, at: base + end)
                    aheadBuffer = b
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
            buffers.setDeliveredEnd(slot, runOffset + base + start)
            let next = (slot + 1) % slots
            if let b = aheadBuffer {
                aheadBuffer = nil
                if carry <= buffers.lead && size == buffers.size {
                    // The partial record goes right before the chunk read ahead: the next `fill`
                    // asks for exactly that read and takes it.
                    let chunk = b.baseAddress! + buffers.lead
                    if carry > 0 { (chunk - carry).copyMemory(from: buf.baseAddress! + start, byteCount: carry) }
                    buf = UnsafeMutableRawBufferPointer(start: chunk - carry, count: carry + buffers.size)
                    slot = next
                    base += start; end = carry; start = 0
                    continue
                }
                readAhead?.settle()   // a longer record, or a larger buffer: the slow way below
            }
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
