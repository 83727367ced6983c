// The flow table's second timer: flows that the sweep found active since they were queued, kept by
// the second in which they will have been idle for their timeout (issue 6).
//
// Why: the first-in first-out queues (TimerQueue) order entries by the clock at which they were
// queued, so a flow found active at the head of its queue could only go to the back, due one whole
// timeout after the sweep instead of one timeout after its last packet. A two-datagram UDP flow then
// stayed in the table up to 240 s instead of 120 s: on the 2 GB benchmark capture the tables held 66,689
// flows while 37,912 were open (FlowCounts.open). Here such a flow waits in the bucket of its own
// expiry second and leaves at the first sweep after it.
//
// A bucket is a list through a pool of nodes (no allocation per bucket or per second once the pool
// holds the most entries waiting at once); `buckets` seconds ahead at most (a later expiry, with a
// timeout longer than that, is seen early and queued again). Which entries are stale (the flow
// ended, or is due later) is the caller's business: each entry is seen once when its second has
// passed, then the caller queues it again or not.

struct TimerWheel {
    struct Entry: Equatable {
        var slot: Int32
        var generation: UInt32
    }

    /// Seconds of buckets: more than the default timeouts (300 s), so that they never wrap.
    static var buckets: Int { 512 }

    private struct Node {
        var entry: Entry
        var next: Int32
    }

    /// First node of each bucket (second modulo `buckets`), -1 when empty.
    private var heads = [Int32](repeating: -1, count: TimerWheel.buckets)
    private var nodes = ChunkedArray<Node>()
    private var freeNodes: Int32 = -1
    /// The bucket being taken apart by `next` (detached from `heads`).
    private var current: Int32 = -1
    /// Entries queued (in buckets or in `current`).
    private(set) var count = 0
    /// Nodes in the pool (the most entries queued at once).
    var nodesAllocated: Int { nodes.count }
    /// The next second whose bucket `next` takes; nil before the first entry.
    private var cursor: Int64?
    /// The sweep's end (exclusive) and how many buckets it took, at most `buckets`.
    private var target: Int64 = .min
    private var steps = 0

    init() {}

    static func second(_ nanoseconds: Int64) -> Int64 {
        nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : -((-nanoseconds + 999_999_999) / 1_000_000_000)
    }

    /// Queues `e` for the second holding `due` (nanoseconds), or the next bucket taken if that second is past.
    mutating func insert(_ e: Entry, due: Int64) {
        let s = Swift.max(Self.second(due), cursor ?? Self.second(due))
        if cursor == nil { cursor = s }
        let b = Int(UInt64(bitPattern: s) % UInt64(Self.buckets))
        let node = Node(entry: e, next: heads[b])
        if freeNodes >= 0 {
            let n = freeNodes
            freeNodes = nodes[Int(n)].next
            nodes[Int(n)] = node
            heads[b] = n
        } else {
            heads[b] = Int32(nodes.count)
            nodes.append(node)
        }
        count += 1
    }

    /// Starts taking the entries of the seconds before `clock`'s (`next`); call it before inserting
    /// the entries of the same sweep (the first call sets the wheel's start).
    mutating func sweep(upTo clock: Int64) {
        target = Self.second(clock)
        steps = 0
        if cursor == nil { cursor = target }
    }

    /// The next entry of a second before the sweep's clock, nil when there is none. At most
    /// `buckets` buckets are taken per sweep: after a longer gap every bucket has been taken once.
    mutating func next() -> Entry? {
        while current < 0 {
            guard let c = cursor, c < target else { return nil }
            if steps == Self.buckets || count == 0 { cursor = target; return nil }
            let b = Int(UInt64(bitPattern: c) % UInt64(Self.buckets))
            current = heads[b]
            heads[b] = -1
            cursor = c + 1
            steps += 1
        }
        let n = current
        let node = nodes[Int(n)]
        current = node.next
        nodes[Int(n)].next = freeNodes
        freeNodes = n
        count -= 1
        return node.entry
    }

    /// Takes an entry of the earliest non-empty bucket from the cursor on (eviction, when the
    /// queues have none): nil when the wheel is empty.
    mutating func takeEarliest() -> Entry? {
        if current >= 0 { return next() }
        guard count > 0, let c = cursor else { return nil }
        for k in 0..<Int64(Self.buckets) {
            let b = Int(UInt64(bitPattern: c &+ k) % UInt64(Self.buckets))
            guard heads[b] >= 0 else { continue }
            let n = heads[b]
            heads[b] = nodes[Int(n)].next
            let e = nodes[Int(n)].entry
            nodes[Int(n)].next = freeNodes
            freeNodes = n
            count -= 1
            return e
        }
        return nil
    }
}
