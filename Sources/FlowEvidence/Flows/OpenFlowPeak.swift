// The most flows open at once in a run (the JSON report's `peak_live_flows`), counted so that it is
// the same whatever the thread count (issue 6: reports are byte-identical for any N).
//
// A flow is open from its first packet until it ends: its last packet plus its idle timeout (the
// instant FlowTable would call it idle), the packet that replaced or evicted it, or the end of input.
// That interval depends on the flow's own packets and the run's clock only, not on which table held
// it or when that table swept it. The open count is sampled at whole multiples of an interval: a
// sparse difference array gets +1 at the first sample of a flow and -1 at the first sample after it,
// and the peak is the largest prefix sum. The interval is 1 s, doubled while more than `maxSamples`
// (768) distinct samples are touched (so memory stays bounded: a run of hours is sampled every few
// seconds; with timeouts of 30 s and more, few flows fall between two samples). Runs that span years
// with gaps (several captures) only count the seconds they touch.
//
// Why the same for any split: the interval doubles to the smallest that keeps the samples touched
// by all the flows within `maxSamples` (a table's flows touch a subset, so a table never doubles
// past that; `absorb` finishes the job), and doubling maps sample i to ceil(i / 2), which is where
// the wider interval puts it directly. The tables' own peak (FlowCounts.peakLive) is not: a table
// keeps an idle flow until its next sweep, and each table sweeps at its own packets.

public struct OpenFlowPeak: Sendable, Equatable {
    /// Distinct samples kept at most: 1,024 slots of 12 bytes at a load of 3/4, 12 KB per table
    /// (a run with threads has 8 tables per thread, 16 until 2026-12-07; with 1,024 samples and a load of 1/2, the
    /// tables' 24 KB each showed as 0.4 MB more heap on the 4 GB benchmark capture than the 1 GB one).
    static var maxSamples: Int { 768 }

    /// The sampling interval is 1 s << `exponent`.
    public private(set) var exponent = 0
    /// Open addressing: sample index (Int64.min: empty slot) and change of the open count there.
    private var keys: [Int64] = []
    private var changes: [Int32] = []
    /// Samples touched (keys in use).
    private var used = 0

    public init() {}

    /// The sampling interval in seconds.
    public var intervalSeconds: Int64 { 1 << Int64(exponent) }

    /// A flow open from `opened` up to, not including, `closed` (nanoseconds since the epoch).
    public mutating func add(opened: Int64, closed: Int64) {
        // Both samples are touched even when they are the same (the flow fell between two samples):
        // what is touched must not depend on the interval at the time of the call.
        touch(Self.ceilDiv(opened, Self.width(exponent)), by: 1)
        touch(Self.ceilDiv(Swift.max(opened, closed), Self.width(exponent)), by: -1)
    }

    /// Adds another table's flows (the same as if they had been added here).
    public mutating func absorb(_ other: OpenFlowPeak) {
        var o = other
        while o.exponent < exponent { o.coarsen() }
        while exponent < o.exponent { coarsen() }
        for (k, c) in zip(o.keys, o.changes) where k != Self.empty {
            // `touch` may widen the interval: the key is mapped to the interval of the moment.
            let shift = exponent - o.exponent
            var key = k
            for _ in 0..<shift { key = Self.ceilDiv(key, 2) }
            touch(key, by: c)
        }
    }

    /// The largest number of flows open at one sample.
    public var peak: Int {
        var samples: [(Int64, Int32)] = []
        samples.reserveCapacity(used)
        for (k, c) in zip(keys, changes) where k != Self.empty { samples.append((k, c)) }
        samples.sort { $0.0 < $1.0 }
        var open = 0, best = 0
        for (_, c) in samples {
            open += Int(c)
            best = Swift.max(best, open)
        }
        return best
    }

    private static var empty: Int64 { .min }

    static func width(_ exponent: Int) -> Int64 { 1_000_000_000 << Int64(exponent) }

    /// ceil(x / d) for d > 0 and any x.
    static func ceilDiv(_ x: Int64, _ d: Int64) -> Int64 {
        x / d + (x % d > 0 ? 1 : 0)
    }

    /// Adds `change` at sample `key` (at the current interval), widening the interval when a new
    /// sample would make more than `maxSamples`.
    private mutating func touch(_ key: Int64, by change: Int32) {
        var key = key
        while true {
            if keys.isEmpty { rehash(slots: 64) }
            let mask = keys.count - 1
            var i = Self.slot(key, mask)
            while keys[i] != Self.empty && keys[i] != key { i = (i + 1) & mask }
            if keys[i] == key { changes[i] &+= change; return }
            if used < Self.maxSamples {
                keys[i] = key
                changes[i] = change
                used += 1
                if used * 4 > keys.count * 3 { rehash(slots: keys.count * 2) }
                return
            }
            coarsen()
            key = Self.ceilDiv(key, 2)
        }
    }

    /// Doubles the interval: the sample at k * 2w is the one at 2k * w, so the change at sample
    /// index i moves to ceil(i / 2) (what `add` computes directly at the wider interval).
    private mutating func coarsen() {
        precondition(exponent < 32, "an interval of 2^32 s spans any Int64 time in a few samples")
        exponent += 1
        let old = zip(keys, changes).filter { $0.0 != Self.empty }
        empty(slots: keys.count)
        for (k, c) in old { touch(Self.ceilDiv(k, 2), by: c) }   // as many keys or fewer: no more widening
    }

    /// Moves the keys into `slots` slots (a power of two).
    private mutating func rehash(slots: Int) {
        let old = zip(keys, changes).filter { $0.0 != Self.empty }
        empty(slots: slots)
        for (k, c) in old { touch(k, by: c) }
    }

    private mutating func empty(slots: Int) {
        keys = [Int64](repeating: Self.empty, count: slots)
        changes = [Int32](repeating: 0, count: slots)
        used = 0
    }

    private static func slot(_ key: Int64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }
}
