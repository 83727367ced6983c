// The evidence accumulators by key, in a table that every shard one thread runs writes to (issue 6).
//
// Why shared: with one table per shard, an address that talks to peers in several shards (most
// BitTorrent peers: a shard is a set of address pairs) had an accumulator in each, and each shard's
// dictionary kept its own slack: with two threads, 0.7 MB more than one thread on the 4 GB benchmark
// capture, and growing with the thread count. Accumulators merge by union, sum, min and max
// (EvidenceAccumulator.merge), so which thread's table a shard's evidence lands in changes no row:
// a shard that moves to another thread writes to that thread's table from then on
// (ShardBalancer.onMove), and every thread's table is merged at the end, one that no shard points to
// any more included (FlowAnalyzer.finish(shards:evidenceTables:)). Flow ids in the accumulators are
// unique across shards (AnalyzerOptions.flowIDBase).
//
// One thread at a time writes a table: the one that runs the shards using it. Nothing reads it
// before the end of the run.
public final class EvidenceTable: @unchecked Sendable {
    var entries = EvidenceMap()
    public init() {}

    /// Merges `other`'s accumulators into this table and empties `other` (its accumulators now belong here).
    func absorb(_ other: EvidenceTable) {
        guard other !== self else { return }
        for (key, acc) in other.entries {
            if let mine = entries[key] { mine.merge(acc) } else { entries[key] = acc }
        }
        other.entries.removeAll()
    }
}
