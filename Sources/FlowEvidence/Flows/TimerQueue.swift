// A first-in first-out queue in chunks, for the flow table's timer entries (one per flow, one more
// when it starts closing or when eviction passes over it, kept until they reach the head: a busy
// table holds a timeout's worth of them; a flow the sweep finds active waits in the TimerWheel).
//
// Why chunks, not a Deque: a Deque doubles as it fills, so it holds up to twice the entries of the
// busiest moment, and a run with threads had 16 tables per thread then (8 now), three queues each,
// each crossing powers of two on its own: on the benchmark, the queues' heap grew from 1.4 MB to
// 3.0 MB between the 1 GB and the 4 GB capture of the same mix with two threads (issue 6: memory
// must not grow with the capture). Chunks hold at most 512 entries (8 KB of timer entries) and a
// queue's first chunks are small (16, 32, ... entries), as most of a run's tables hold a few flows
// in a short capture; the slack is at most the first chunk's removed part and the last chunk's free
// part.
import DequeModule

struct TimerQueue<Element> {
    static var largestChunk: Int { 512 }
    static var smallestChunk: Int { 16 }

    private var chunks = Deque<[Element]>()
    /// Entries of chunks[0] already removed.
    private var head = 0
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    var first: Element? { count == 0 ? nil : chunks[0][head] }

    /// The entry `k` places after the first, if it is in the first two chunks (a prefetch hint for
    /// the sweep, FlowTable.sweep).
    @inline(__always) func peek(_ k: Int) -> Element? {
        guard k < count else { return nil }
        let i = head + k
        if i < chunks[0].count { return chunks[0][i] }
        guard chunks.count > 1, i - chunks[0].count < chunks[1].count else { return nil }
        return chunks[1][i - chunks[0].count]
    }

    mutating func append(_ e: Element) {
        if let last = chunks.indices.last, chunks[last].count < chunks[last].capacity {
            chunks[last].append(e)
        } else {
            var chunk: [Element] = []
            chunk.reserveCapacity(Swift.min(Self.largestChunk, Swift.max(Self.smallestChunk, count)))
            chunk.append(e)
            chunks.append(chunk)
        }
        count += 1
    }

    @discardableResult
    mutating func removeFirst() -> Element {
        precondition(count > 0, "removeFirst on an empty TimerQueue")
        let e = chunks[0][head]
        head += 1
        count -= 1
        if head == chunks[0].count {
            // A drained chunk goes, unless it is the only one (then it is reused from its start).
            if chunks.count > 1 { chunks.removeFirst() } else { chunks[0].removeAll(keepingCapacity: true) }
            head = 0
        }
        return e
    }
}
