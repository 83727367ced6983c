// `--threads N` (issue 6): the calling thread reads and decodes (IP fragment reassembly needs one
// decoder that sees every frame in order), analyses its own share of the flows and hands the packets
// of the others in batches to N - 1 workers, each owning a FlowAnalyzer (Pipeline.owner(ofVirtualShard:)).
// A symmetric hash sends both directions of a flow to the same thread, so every flow is whole in one
// shard; FlowAnalyzer.finish(shards:) combines them (FlowAnalyzerShards.swift).
//
// Payload pointers: a batch holds pointers into the reader's chunk buffers, which the reader refills
// only once the workers are done with their records (CaptureReader.laggingReaders: the batches'
// first records, BatchQueue.waitUntilProcessed). A payload rebuilt from fragments points into the
// decoder's reassembly buffer (reused at the next decode), so it is copied into the batch (rare: one
// allocation per reassembled datagram).
// Streamed input (stdin, gzip, zstd) reuses its buffer per record: the pipeline uses one thread then.
import Foundation
import WireBytes
import PacketDecode
import FlowEvidence

/// Packets for one worker, in capture order. Reused: the reader refills batches the worker returns.
/// One array of entries (not one per field): the reader appends once per packet.
final class PacketBatch: @unchecked Sendable {
    /// 1,024: what a worker reads is still in cache (ChunkedFile.swift; 4,096 was 10% slower).
    static let capacity = 1024
    struct Entry {
        var frame: FrameRef
        var timestamp: Timestamp
        /// The run's clock before the packet (FlowAnalyzer.process(record:timestamp:packet:clock:)).
        var clock: Timestamp
        var packet: DecodedPacket
    }
    var entries: [Entry] = []
    /// Where the record of the batch's first packet lies (capture index, offset in the file): the
    /// reader keeps the capture's pages from there on resident until the batch is processed.
    private(set) var firstRecord = (capture: 0, offset: 0)
    /// Payloads copied out of the decoder's reassembly buffer, freed when the batch is reset.
    var copies: [UnsafeMutableRawBufferPointer] = []

    init() { entries.reserveCapacity(Self.capacity) }
    var isFull: Bool { entries.count >= Self.capacity }

    func append(_ frame: FrameRef, _ t: Timestamp, _ clock: Timestamp, _ packet: DecodedPacket, recordOffset: Int) {
        if entries.isEmpty { firstRecord = (frame.captureIndex, recordOffset) }
        var p = packet
        if p.reassembled, p.payload.count > 0 {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: p.payload.count, alignment: 1)
            copy.copyMemory(from: p.payload)
            copies.append(copy)
            p.payload = UnsafeRawBufferPointer(copy)
        }
        entries.append(Entry(frame: frame, timestamp: t, clock: clock, packet: p))
    }

    func reset() {
        for c in copies { c.deallocate() }
        copies.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }
}

/// One worker's queue: filled batches to the worker, empty ones back to the reader (a few in flight).
final class BatchQueue: @unchecked Sendable {
    static let batchesInFlight = 4
    private let condition = NSCondition()
    private var filled: [PacketBatch] = []
    private var empty: [PacketBatch] = (0..<BatchQueue.batchesInFlight).map { _ in PacketBatch() }
    private var closed = false
    /// The first records of the batches sent and not processed yet, oldest first.
    private var unprocessed: [(capture: Int, offset: Int)] = []

    /// Reader: an empty batch (waits while the worker holds them all).
    func emptyBatch() -> PacketBatch {
        condition.lock(); defer { condition.unlock() }
        while empty.isEmpty { condition.wait() }
        return empty.removeLast()
    }
    /// Reader: hands a batch to the worker.
    func send(_ b: PacketBatch) {
        condition.lock(); filled.append(b); unprocessed.append(b.firstRecord); condition.broadcast(); condition.unlock()
    }
    /// Reader: the first record of the oldest batch the worker has not finished.
    func oldestUnprocessed() -> (capture: Int, offset: Int)? {
        condition.lock(); defer { condition.unlock() }
        return unprocessed.first
    }
    /// Reader: waits until every batch sent with a first record before `record` is processed.
    func waitUntilProcessed(before record: (capture: Int, offset: Int)) {
        condition.lock(); defer { condition.unlock() }
        while let first = unprocessed.first, first < record { condition.wait() }
    }
    /// Reader: no more batches.
    func close() {
        condition.lock(); closed = true; condition.broadcast(); condition.unlock()
    }
    /// Worker: the next batch, nil when closed and drained.
    func next() -> PacketBatch? {
        condition.lock(); defer { condition.unlock() }
        while filled.isEmpty && !closed { condition.wait() }
        return filled.isEmpty ? nil : filled.removeFirst()
    }
    /// Worker: gives a processed batch back.
    func recycle(_ b: PacketBatch) {
        b.reset()
        condition.lock(); unprocessed.removeFirst(); empty.append(b); condition.broadcast(); condition.unlock()
    }
}

/// A worker thread owning one shard's FlowAnalyzer.
final class ShardWorker: @unchecked Sendable {
    var analyzer: FlowAnalyzer
    let queue = BatchQueue()
    private let finished = DispatchSemaphore(value: 0)
    /// The batch the reader is filling, and the same unmanaged: appending through it costs no
    /// retain and release per packet (issue 6: they were the reader's bottleneck with two threads).
    private var current: PacketBatch { didSet { currentRef = .passUnretained(current) } }
    private var currentRef: Unmanaged<PacketBatch>

    init(options: AnalyzerOptions) {
        analyzer = FlowAnalyzer(options: options)
        let first = queue.emptyBatch()
        current = first
        currentRef = .passUnretained(first)
    }

    func start() {
        let t = Thread { [self] in
            while let b = queue.next() {
                for e in b.entries {
                    analyzer.process(record: e.frame, timestamp: e.timestamp, packet: e.packet, clock: e.clock)
                }
                queue.recycle(b)
            }
            finished.signal()
        }
        t.stackSize = 16 << 20
        t.start()
    }

    /// Reader: queues one packet.
    func add(_ frame: FrameRef, _ t: Timestamp, _ clock: Timestamp, _ packet: DecodedPacket, recordOffset: Int) {
        let full = currentRef._withUnsafeGuaranteedRef { b in
            b.append(frame, t, clock, packet, recordOffset: recordOffset)
            return b.isFull
        }
        if full { queue.send(current); current = queue.emptyBatch() }
    }

    /// Reader: the first record this worker still has to read (in a batch sent or being filled).
    func oldestRecordNeeded() -> (capture: Int, offset: Int)? {
        queue.oldestUnprocessed() ?? (current.entries.isEmpty ? nil : current.firstRecord)
    }

    /// Reader: sends the batch being filled (if any) and waits until every record before `record`
    /// is processed, so that the reader may reuse the buffer they lie in.
    func waitUntilProcessed(before record: (capture: Int, offset: Int)) {
        if !current.entries.isEmpty, current.firstRecord < record { queue.send(current); current = queue.emptyBatch() }
        queue.waitUntilProcessed(before: record)
    }

    /// After `drain`: the worker's analyzer, no longer referenced by the worker (so that finishing it
    /// copies none of its arrays); the worker keeps an empty one.
    func takeAnalyzer() -> FlowAnalyzer {
        var taken = FlowAnalyzer(options: analyzer.options)
        swap(&taken, &analyzer)
        return taken
    }

    /// Reader: sends what is left and waits for the worker to finish.
    func drain() {
        queue.send(current)
        queue.close()
        finished.wait()
    }
}

/// Which worker gets a packet: the same for both directions, and for every flow between the same two
/// addresses (the addresses are combined with a commutative operation before mixing; ports are left
/// out). Keeping an address pair in one shard keeps a SOCKS5 client's UDP ASSOCIATE relay datagrams
/// with the TCP connection that opened the relay (AggregatorBox.udpRelays), so the relay is decoded
/// whatever the thread count. Packets without IP go to worker 0.
@inline(__always)
func shardIndex(_ p: DecodedPacket, workers: Int) -> Int {
    guard p.hasIP else { return 0 }
    @inline(__always) func address(_ a: IPAddress) -> UInt64 {
        var h = a.lo &* 0x9E37_79B9_7F4A_7C15 ^ a.hi &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 29
        return h
    }
    var h = address(p.src) &+ address(p.dst)
    h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 32
    // The high half of h * workers: uniform over 0..<workers for a mixed h, without the 64-bit
    // division `h % workers` would cost (15 cycles per packet on the reader, issue 6).
    return Int(truncatingIfNeeded: h.multipliedFullWidth(by: UInt64(workers)).high)
}
