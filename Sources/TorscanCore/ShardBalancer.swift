// Which thread runs which shard with `--threads N` (issue 6), and moving shards between threads as
// their loads change. A fixed split cannot stay balanced: what the reader spends on its own work
// (reading, decoding, handing packets out) against the flows' analysis depends on the capture, and a
// shared host slows one core or the other from one moment to the next. With a fixed 1:4 split of the
// flows between the reader and one worker, each waited for the other 50-200 ms in a 0.6 s run
// (measured, 2 GB benchmark capture). So every `interval` the reader looks at how long each side
// waited for the other (BatchQueue's counters) and moves one shard from the thread that was waited
// for to one that waited.
//
// A move never changes a report: a shard's analyzer sees the same packets in the same order, with the
// same clocks, whichever thread runs it. Taking a shard from a worker first waits until that worker
// has processed every packet it was given (ShardWorker.finishGivenPackets); giving one to a worker
// needs no wait (the queue's lock orders the reader's use of the analyzer before the worker's).

final class ShardBalancer {
    /// Shards per thread: one move shifts about 1/(8 N) of the flows (6% with two threads). 4, 8 and
    /// 16 ran as fast (two threads, interleaved); each shard has its own flow table, timer queues and
    /// evidence, so 8 take about 1 MB less than 16 on the benchmark capture (issue 6's memory).
    static let shardsPerThread = 8
    /// How often the loads are compared, nanoseconds. At most one move per look. Interleaved runs
    /// (twelve rounds, two threads): 20 ms 0.70/0.85 s (fastest/median), 50 ms 0.72/0.80 s, 100 ms
    /// 0.70/0.80 s; 10 ms was slower (0.75/0.85 s: more moves, each a wait for the worker).
    static let interval: UInt64 = 50_000_000
    /// A move needs one side to have waited more than the other by this share of the interval (5%):
    /// both wait a little in turn even when balanced (a batch is 1,024 packets, 4 in flight).
    static let waitShare: UInt64 = 20

    /// The owner of each shard: 0 the reader, k worker k. Raw memory that the reader reads per packet
    /// (no bounds check, no uniqueness check of an array in a captured variable).
    let owner: UnsafeMutableBufferPointer<UInt8>
    let threads: Int
    /// Moves made (AnalysisRun.shardMoves).
    private(set) var moves = 0
    /// Calls of `forceMove` (tests): the next shard it moves.
    private var forced = 0
    /// Called with (shard, new owner) once a move is made, before the new owner gets a packet of the
    /// shard: the shard's analyzer then writes to that thread's evidence table (Pipeline).
    var onMove: ((Int, Int) -> Void)?
    private var lastLook: UInt64 = 0

    /// `shards` shards over `threads` threads, the reader starting with the share that balanced on the
    /// benchmark capture: its own work (reading, decoding, handing out) is about 0.4 of the flows'
    /// analysis, so it takes (1 - 0.4 (N - 1)) / N of the flows (30% with two threads, the 9-10 shards
    /// of 32 the balancer settled on with 16 a thread; 7% with three; none from four), the workers the
    /// rest evenly. Starting from the old 1 in 1 + 4(N - 1), the balancer took 4 looks (200 ms) to
    /// get there.
    init(shards: Int, threads: Int) {
        precondition(threads <= 256, "ShardBalancer: owners are bytes")
        self.threads = threads
        owner = .allocate(capacity: shards)
        let share = threads == 1 ? 1 : max(0, (1 - 0.4 * Double(threads - 1)) / Double(threads))
        let readerShards = threads == 1 ? shards : Int((Double(shards) * share).rounded())
        for v in 0..<shards { owner[v] = v < readerShards ? 0 : UInt8(1 + (v - readerShards) % (threads - 1)) }
        self.readerShards = readerShards
    }

    deinit { owner.deallocate() }

    /// Shards the reader runs (kept by `move`: the reader asks for every packet).
    private(set) var readerShards: Int

    /// Called by the reader now and then (every few thousand packets): once per interval, moves a
    /// shard as `plan` says.
    func look(_ workers: [ShardWorker]) {
        let now = monotonicNanoseconds()
        if lastLook == 0 { lastLook = now; for w in workers { _ = w.queue.takeWaits() }; return }
        let elapsed = now &- lastLook
        guard elapsed >= Self.interval else { return }
        lastLook = now
        if let m = plan(waits: workers.map { $0.queue.takeWaits() }, elapsed: elapsed) { move(m.shard, to: m.to, workers) }
    }

    /// The move the waits of the last `elapsed` nanoseconds call for (waits[k]: how long the reader
    /// waited for worker k + 1, and that worker for packets), or nil. The side that waited more, by
    /// more than `1/waitShare` of the interval, gets a shard from the side it waited for: a worker
    /// that held the reader up gives one to a worker that waited, else to the reader; a worker that
    /// waited takes one of the reader's, else one of the worker that held the reader up most. A
    /// worker keeps at least one shard.
    func plan(waits: [(reader: UInt64, worker: UInt64)], elapsed: UInt64) -> (shard: Int, to: Int)? {
        guard !waits.isEmpty else { return nil }
        let threshold = elapsed / Self.waitShare
        let busiest = waits.indices.max { waits[$0].reader < waits[$1].reader }!
        let idlest = waits.indices.max { waits[$0].worker < waits[$1].worker }!
        let readerWaited = waits[busiest].reader, workerWaited = waits[idlest].worker
        if readerWaited > workerWaited &+ threshold {
            let to = workerWaited > threshold && idlest != busiest ? idlest + 1 : 0
            return shard(of: busiest + 1, keepingOne: true).map { ($0, to) }
        }
        if workerWaited > readerWaited &+ threshold {
            let from = shard(of: 0, keepingOne: false) ?? (busiest != idlest ? shard(of: busiest + 1, keepingOne: true) : nil)
            return from.map { ($0, idlest + 1) }
        }
        return nil
    }

    /// Moves shards round the threads every call (tests: reports must not change when shards move).
    /// `leavingTheReader`: only the reader's shards move, to the workers in turn, until it has none.
    func forceMove(_ workers: [ShardWorker], leavingTheReader: Bool = false) {
        let v = forced % owner.count
        forced += 1
        let from = Int(owner[v])
        move(v, to: leavingTheReader ? (from == 0 ? 1 + v % (threads - 1) : from) : (from + 1) % threads, workers)
    }

    /// The last shard `thread` owns (nil if none, or if it owns only one and must keep it).
    private func shard(of thread: Int, keepingOne: Bool) -> Int? {
        guard let v = owner.lastIndex(of: UInt8(thread)) else { return nil }
        if keepingOne, owner.firstIndex(of: UInt8(thread)) == v { return nil }
        return v
    }

    /// Gives shard `v` to `thread`, once the worker that had it has processed every packet it was given.
    func move(_ v: Int, to thread: Int, _ workers: [ShardWorker]) {
        let from = Int(owner[v])
        guard from != thread else { return }
        if from > 0 { workers[from - 1].finishGivenPackets() }
        owner[v] = UInt8(thread)
        if from == 0 { readerShards -= 1 } else if thread == 0 { readerShards += 1 }
        onMove?(v, thread)
        moves += 1
    }
}
