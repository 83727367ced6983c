// Which flow lookups to prefetch, packet by packet (issue 6; FlowTable's prefetching). Each packet the
// pipeline processes, it names the flow of the packet `distance` records on (its tag in a shard's
// table, after asking for that flow's index bucket): the ring keeps those names, and hands back the
// one given `distance / 2` packets ago, whose bucket has arrived since, so that its record is asked
// for next. The bucket is then about 8 packets ahead of its lookup and the record about 4: on the
// 2 GB benchmark capture, far enough for the misses to overlap the packets in between, near enough
// for the lines to be in cache still.
import CaptureFile

struct PrefetchRing {
    /// Records ahead: the parser's lookahead (CaptureRecord.lookaheadDistance) or a batch's.
    static var distance: Int { CaptureRecord.lookaheadDistance }
    /// Entries: 0 for none, else (shard + 1) << 32 | tag.
    private var entries = InlineArray<8, UInt64>(repeating: 0)
    private var head = 0

    static func entry(shard: Int, tag: UInt32) -> UInt64 { UInt64(shard + 1) << 32 | UInt64(tag) }

    /// Adds this packet's name (0 for none) and returns the one added `distance / 2` calls ago.
    @inline(__always)
    mutating func push(_ entry: UInt64) -> UInt64 {
        let older = entries[(head &- Self.distance / 2) & 7]
        entries[head & 7] = entry
        head &+= 1
        return older
    }
}

extension UInt64 {
    /// A PrefetchRing entry's shard and tag.
    var prefetchShard: Int { Int(self >> 32) - 1 }
    var prefetchTag: UInt32 { UInt32(truncatingIfNeeded: self) }
}
