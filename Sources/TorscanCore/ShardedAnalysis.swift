// `--threads N` (issue 6): the calling thread reads and decodes (IP fragment reassembly needs one
// decoder that sees every frame in order), analyses its own share of the flows and hands the packets
// of the others in batches to N - 1 workers. A common frame (PacketDecoder.decodeCommonFrame: no
// decoder state involved) goes to its worker undecoded, and the worker decodes it; idle workers also
// read the reader's next chunk of the file (ChunkReadAhead). A symmetric hash puts every flow in one
// of many shards (both directions in the same one), each with its own FlowAnalyzer (ShardBox);
// ShardBalancer decides which thread runs which shard and moves shards between threads as their
// loads change.
// FlowAnalyzer.finish(shards:) combines the shards (FlowAnalyzerShards.swift).
//
// Payload pointers: a batch holds pointers into the reader's chunk buffers, which the reader refills
// only once the workers are done with their records (CaptureReader.laggingReaders: the batches'
// first records, BatchQueue.waitUntilProcessed). A payload rebuilt from fragments points into the
// decoder's reassembly buffer (reused at the next decode), so it is copied into the batch (rare: one
// allocation per reassembled datagram).
// Streamed input (stdin, gzip, zstd) reuses its buffer per record: the pipeline uses one thread then.
import Foundation
import Synchronization
import CaptureFile
import WireBytes
import PacketDecode
import FlowEvidence

/// One shard's analyzer. One thread at a time uses it: the one ShardBalancer names for the shard (a
/// move waits until the old owner has processed every packet it was given, ShardBalancer.move).
final class ShardBox: @unchecked Sendable {
    var analyzer: FlowAnalyzer
    init(_ analyzer: FlowAnalyzer) { self.analyzer = analyzer }
    /// The analyzer, no longer referenced by the box (so that finishing it copies none of its
    /// arrays); the box keeps an empty one.
    func take() -> FlowAnalyzer {
        var taken = FlowAnalyzer(options: analyzer.options)
        swap(&taken, &analyzer)
        return taken
    }
}

/// Packets for one worker, in capture order. Reused: the reader refills batches the worker returns.
/// Raw storage for a fixed number of entries: the reader writes each packet's entry in place, with
/// no capacity or uniqueness check and no copy through the stack (an Array's append: 5% of a
/// two-thread run's CPU, perf).
final class PacketBatch: @unchecked Sendable {
    /// 1,024: what a worker reads is still in cache (ChunkedFile.swift; 4,096 was 10% slower).
    static let capacity = 1024
    struct Entry {
        var frame: FrameRef
        var timestamp: Timestamp
        /// The run's clock before the packet (FlowAnalyzer.process(record:timestamp:packet:clock:)).
        var clock: Timestamp
        var packet: HandOffPacket
        /// The packet's shard (Pipeline: `shardIndex`).
        var shard: Int32
    }
    private let storage = UnsafeMutablePointer<Entry>.allocate(capacity: PacketBatch.capacity)
    private(set) var count = 0
    /// Where the record of the batch's first packet lies (capture index, offset in the file): the
    /// reader refills no buffer holding records from there on until the batch is processed.
    /// The run position (LaggingReaders.runOffset + file offset) of the batch's first record.
    private(set) var firstRecord = 0
    /// Payloads copied out of the decoder's reassembly buffer, freed when the batch is reset.
    var copies: [UnsafeMutableRawBufferPointer] = []

    init() { precondition(_isPOD(Entry.self), "PacketBatch entries are not deinitialized") }
    deinit { reset(); storage.deallocate() }

    var entries: UnsafeBufferPointer<Entry> { UnsafeBufferPointer(start: storage, count: count) }
    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count >= Self.capacity }

    @inline(__always)
    func append(_ frame: FrameRef, _ t: Timestamp, _ clock: Timestamp, _ packet: DecodedPacket, shard: Int, recordPosition: Int) {
        let e = put(frame, t, clock, HandOffPacket(packet), shard: shard, recordPosition: recordPosition)
        if packet.reassembled, packet.payload.count > 0 {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: packet.payload.count, alignment: 1)
            copy.copyMemory(from: packet.payload)
            copies.append(copy)
            e.pointee.packet.setPayload(UnsafeRawBufferPointer(copy))
        }
    }

    /// `append` for a common frame, handed over undecoded (HandOffPacket.init(commonFrame:)).
    @inline(__always)
    func appendCommonFrame(_ frame: FrameRef, _ t: Timestamp, _ clock: Timestamp, _ bytes: UnsafeRawBufferPointer, shard: Int, recordPosition: Int) {
        _ = put(frame, t, clock, HandOffPacket(commonFrame: bytes), shard: shard, recordPosition: recordPosition)
    }

    /// Writes the next entry in place and returns it.
    @inline(__always)
    private func put(_ frame: FrameRef, _ t: Timestamp, _ clock: Timestamp, _ packet: HandOffPacket, shard: Int,
                     recordPosition: Int) -> UnsafeMutablePointer<Entry> {
        if count == 0 { firstRecord = recordPosition }
        let e = storage + count
        e.initialize(to: Entry(frame: frame, timestamp: t, clock: clock, packet: packet, shard: Int32(truncatingIfNeeded: shard)))
        count += 1
        return e
    }

    func reset() {
        for c in copies { c.deallocate() }
        copies.removeAll(keepingCapacity: true)
        count = 0   // entries are plain values: nothing to deinitialize
    }
}

/// One worker's queue: filled batches to the worker, empty ones back to the reader (a few in flight).
/// It also keeps the time each side waited for the other, which ShardBalancer reads to move shards.
final class BatchQueue: @unchecked Sendable {
    static let batchesInFlight = 4
    private let condition = NSCondition()
    private var filled: [PacketBatch] = []
    private var empty: [PacketBatch] = (0..<BatchQueue.batchesInFlight).map { _ in PacketBatch() }
    private var closed = false
    /// The first records of the batches sent and not processed yet, oldest first.
    private var unprocessed: [Int] = []
    /// Nanoseconds the reader waited for this worker (all batches in flight, or records the worker
    /// had still to read), and the worker waited for batches, since the last `takeWaits`.
    private var readerWaited: UInt64 = 0
    private var workerWaited: UInt64 = 0
    /// Bumped (under the lock) when the reader sends a batch or closes the queue, and when the worker
    /// gives one back: a waiting side watches the other's counter without taking the lock (`wait`).
    private let sends = Atomic<Int>(0)
    private let recycles = Atomic<Int>(0)
    /// How long each side spins before sleeping (SpinBudget.swift); each is used by its own thread only.
    private var readerSpin: SpinBudget
    private var workerSpin: SpinBudget
    /// Waits that slept, by side, and how long each side spins now (tests).
    private(set) var readerSleeps = 0
    private(set) var workerSleeps = 0
    var readerSpinNanoseconds: UInt64 { condition.lock(); defer { condition.unlock() }; return readerSpin.nanoseconds }
    var workerSpinNanoseconds: UInt64 { condition.lock(); defer { condition.unlock() }; return workerSpin.nanoseconds }

    /// Read by the worker while it watches for a batch (ChunkReadAhead).
    private let readAhead: ChunkReadAhead?

    /// `spinCeiling`: the longest a side spins before it sleeps (SpinBudget). `readAhead`: the
    /// reader's next chunk, which the worker reads while it waits for a batch.
    init(spinCeiling: UInt64 = SpinBudget.defaultCeiling, readAhead: ChunkReadAhead? = nil) {
        self.readAhead = readAhead
        readerSpin = SpinBudget(ceiling: spinCeiling)
        workerSpin = SpinBudget(ceiling: spinCeiling)
    }

    /// Reader: an empty batch (waits while the worker holds them all).
    func emptyBatch() -> PacketBatch {
        condition.lock(); defer { condition.unlock() }
        readerWaited &+= wait(forWorker: true) { !empty.isEmpty }
        return empty.removeLast()
    }
    /// Reader: hands a batch to the worker.
    func send(_ b: PacketBatch) {
        condition.lock()
        filled.append(b); unprocessed.append(b.firstRecord)
        sends.add(1, ordering: .relaxed)
        condition.broadcast(); condition.unlock()
    }
    /// Reader: the first record of the oldest batch the worker has not finished.
    func oldestUnprocessed() -> Int? {
        condition.lock(); defer { condition.unlock() }
        return unprocessed.first
    }
    /// Reader: waits until every batch sent with a first record before `record` is processed.
    /// `counted`: the wait is for the worker's load, which ShardBalancer balances (a shard move's
    /// wait is not).
    func waitUntilProcessed(before record: Int, counted: Bool = true) {
        condition.lock(); defer { condition.unlock() }
        let waited = wait(forWorker: true) { unprocessed.first.map { !($0 < record) } ?? true }
        if counted { readerWaited &+= waited }
    }
    /// Reader: the waits since the last call (ShardBalancer).
    func takeWaits() -> (reader: UInt64, worker: UInt64) {
        condition.lock(); defer { condition.unlock() }
        defer { readerWaited = 0; workerWaited = 0 }
        return (readerWaited, workerWaited)
    }
    /// Reader: no more batches.
    func close() {
        condition.lock(); closed = true; sends.add(1, ordering: .relaxed); condition.broadcast(); condition.unlock()
    }
    /// Worker: the next batch, nil when closed and drained.
    func next() -> PacketBatch? {
        condition.lock(); defer { condition.unlock() }
        workerWaited &+= wait(forWorker: false) { !filled.isEmpty || closed }
        return filled.isEmpty ? nil : filled.removeFirst()
    }
    /// Worker: gives a processed batch back.
    func recycle(_ b: PacketBatch) {
        b.reset()
        condition.lock()
        unprocessed.removeFirst(); empty.append(b)
        recycles.add(1, ordering: .relaxed)
        condition.broadcast(); condition.unlock()
    }

    /// Called and returns with the lock held: waits until `ready` (checked under the lock) and
    /// returns the nanoseconds waited. First watches the other side's counter without the lock, for
    /// as long as the side's SpinBudget says: the other side is usually that close (a batch of 1,024
    /// packets takes 0.1-0.3 ms), and a sleeping thread wakes late, on a virtual machine after the host
    /// gives its CPU back (SpinBudget.swift); a spin that took the lock instead made the two threads
    /// contend for it. Then sleeps.
    private func wait(forWorker: Bool, until ready: () -> Bool) -> UInt64 {
        if ready() { return 0 }
        let start = monotonicNanoseconds()
        let seen = forWorker ? recycles.load(ordering: .relaxed) : sends.load(ordering: .relaxed)
        let spin = forWorker ? readerSpin.nanoseconds : workerSpin.nanoseconds
        condition.unlock()
        watching: while true {
            for _ in 0..<64 {
                if (forWorker ? recycles.load(ordering: .relaxed) : sends.load(ordering: .relaxed)) != seen { break watching }
            }
            if !forWorker { readAhead?.serve() }
            if monotonicNanoseconds() &- start >= spin { break }
        }
        condition.lock()
        var slept = false
        while !ready() { slept = true; condition.wait() }
        if forWorker {
            readerSpin.record(endedSpinning: !slept)
            if slept { readerSleeps += 1 }
        } else {
            workerSpin.record(endedSpinning: !slept)
            if slept { workerSleeps += 1 }
        }
        return monotonicNanoseconds() &- start
    }
}

/// A monotonic clock (CLOCK_MONOTONIC through the vDSO: no system call), read only around waits.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
}

/// A worker thread: processes the packets the reader hands it, each with its shard's analyzer.
final class ShardWorker: @unchecked Sendable {
    /// Every shard's analyzer (the pipeline owns them); the worker uses those of the packets it gets.
    private let shards: [Unmanaged<ShardBox>]
    let queue: BatchQueue
    private let finished = DispatchSemaphore(value: 0)
    /// The batch the reader is filling, and the same unmanaged: appending through it costs no
    /// retain and release per packet (issue 6: they were the reader's bottleneck with two threads).
    private var current: PacketBatch { didSet { currentRef = .passUnretained(current) } }
    private var currentRef: Unmanaged<PacketBatch>

    /// The reader's next chunk, which this worker reads when it has nothing else to do.
    private let readAhead: ChunkReadAhead?

    /// `spinCeiling`: how long a side may spin before it sleeps (SpinBudget). `readAhead`: where the
    /// reader posts the read of its next chunk.
    init(shards: [Unmanaged<ShardBox>], spinCeiling: UInt64 = SpinBudget.defaultCeiling, readAhead: ChunkReadAhead? = nil) {
        self.shards = shards
        self.readAhead = readAhead
        queue = BatchQueue(spinCeiling: spinCeiling, readAhead: readAhead)
        let first = queue.emptyBatch()
        current = first
        currentRef = .passUnretained(first)
    }

    /// Set by the reader before it closes the queue (`close(endingFlowsOf:clock:)`): the shards whose
    /// flows this worker ends once it has processed every packet, and the run's last clock.
    private var shardsToEnd: [Int] = []
    private var endClock: Timestamp?

    func start() {
        let t = Thread { [self] in
            while let b = queue.next() {
                // The reader's next chunk first: the reader is the slower side with two threads.
                readAhead?.serve()
                // The flow lookups of the batch's next packets, ahead of time (PrefetchRing): the
                // shards of a batch's packets are this worker's until it has processed them all.
                let entries = b.entries
                var prefetches = PrefetchRing()
                let distance = PrefetchRing.distance
                for i in 0..<min(distance, entries.count) { _ = prefetches.push(prefetchBucket(entries[i])) }
                for i in entries.indices {
                    let older = prefetches.push(i + distance < entries.count ? prefetchBucket(entries[i + distance]) : 0)
                    if older != 0 { shards[older.prefetchShard]._withUnsafeGuaranteedRef { $0.analyzer.prefetchRecord(tag: older.prefetchTag) } }
                    let e = entries[i]
                    shards[Int(e.shard)]._withUnsafeGuaranteedRef {
                        $0.analyzer.process(record: e.frame, timestamp: e.timestamp, packet: e.packet.decoded, clock: e.clock)
                    }
                }
                queue.recycle(b)
            }
            // The queue is closed (its lock orders the reader's writes of these before this read).
            for v in shardsToEnd { shards[v]._withUnsafeGuaranteedRef { $0.analyzer.endFlows(clock: endClock) } }
            finished.signal()
        }
        t.stackSize = 16 << 20
        t.start()
    }

    /// Asks for the bucket of `e`'s flow in its shard's table; the PrefetchRing entry.
    @inline(__always)
    private func prefetchBucket(_ e: PacketBatch.Entry) -> UInt64 {
        let v = Int(e.shard)
        guard let tag = shards[v]._withUnsafeGuaranteedRef({ e.packet.prefetchBucket(in: &$0.analyzer) }) else { return 0 }
        return PrefetchRing.entry(shard: v, tag: tag)
    }

    /// Reader: queues one packet of `shard`.
    func add(_ frame: FrameRef, _ t: Timestamp, _ clock: Timestamp, _ packet: DecodedPacket, shard: Int, recordPosition: Int) {
        filling { $0.append(frame, t, clock, packet, shard: shard, recordPosition: recordPosition) }
    }

    /// Reader: queues one common frame of `shard`, undecoded (the worker decodes it).
    func addCommonFrame(_ frame: FrameRef, _ t: Timestamp, _ clock: Timestamp, _ bytes: UnsafeRawBufferPointer, shard: Int, recordPosition: Int) {
        filling { $0.appendCommonFrame(frame, t, clock, bytes, shard: shard, recordPosition: recordPosition) }
    }

    /// Appends to the batch being filled (`append`: one entry) and sends it once full.
    @inline(__always)
    private func filling(_ append: (PacketBatch) -> Void) {
        let full = currentRef._withUnsafeGuaranteedRef { b in
            append(b)
            return b.isFull
        }
        if full { queue.send(current); current = queue.emptyBatch() }
    }

    /// Reader: the first record this worker still has to read (in a batch sent or being filled).
    func oldestRecordNeeded() -> Int? {
        queue.oldestUnprocessed() ?? (current.isEmpty ? nil : current.firstRecord)
    }

    /// Reader: sends the batch being filled (if any) and waits until every record before `record`
    /// is processed, so that the reader may reuse the buffer they lie in.
    func waitUntilProcessed(before record: Int) {
        if !current.isEmpty, current.firstRecord < record { queue.send(current); current = queue.emptyBatch() }
        queue.waitUntilProcessed(before: record)
    }

    /// Reader: sends the batch being filled (if any) and waits until the worker has processed every
    /// packet it was given, so that another thread may take over one of its shards.
    func finishGivenPackets() {
        if !current.isEmpty { queue.send(current); current = queue.emptyBatch() }
        queue.waitUntilProcessed(before: Int.max, counted: false)
    }

    /// Reader: sends what is left and closes the queue; once it has processed every packet, the worker
    /// ends the flows of `shards` (the ones it owns) at the run's last clock. `waitUntilFinished` next.
    func close(endingFlowsOf shards: [Int], clock: Timestamp?) {
        shardsToEnd = shards
        endClock = clock
        queue.send(current)
        queue.close()
    }

    /// Reader: waits for the worker to finish (after `close`).
    func waitUntilFinished() {
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
    return shardIndex(src: p.src, dst: p.dst, workers: workers)
}

/// `shardIndex` of a packet between these addresses.
@inline(__always)
func shardIndex(src: IPAddress, dst: IPAddress, workers: Int) -> Int {
    @inline(__always) func address(_ a: IPAddress) -> UInt64 {
        var h = a.lo &* 0x9E37_79B9_7F4A_7C15 ^ a.hi &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 29
        return h
    }
    var h = address(src) &+ address(dst)
    h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 32
    // The high half of h * workers: uniform over 0..<workers for a mixed h, without the 64-bit
    // division `h % workers` would cost (15 cycles per packet on the reader, issue 6).
    return Int(truncatingIfNeeded: h.multipliedFullWidth(by: UInt64(workers)).high)
}
