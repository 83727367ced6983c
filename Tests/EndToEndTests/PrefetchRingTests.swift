// PrefetchRing (issue 6): the name pushed for the packet `distance` records on comes back
// `distance / 2` pushes later, when its record is to be asked for; entries keep shard and tag.
import Testing
@testable import TorscanCore

@Suite struct PrefetchRingTests {
    @Test func anEntryComesBackHalfTheDistanceLater() {
        var ring = PrefetchRing()
        let half = PrefetchRing.distance / 2
        #expect(half >= 1)
        for i in 0..<100 {
            let back = ring.push(i % 3 == 0 ? 0 : PrefetchRing.entry(shard: i, tag: UInt32(i * 7)))
            let expected = i < half || (i - half) % 3 == 0 ? 0 : PrefetchRing.entry(shard: i - half, tag: UInt32((i - half) * 7))
            #expect(back == expected, "push \(i)")
        }
    }

    @Test func entriesKeepShardAndTag() {
        for (shard, tag) in [(0, UInt32(0)), (0, UInt32.max), (4_095, 12_345), (17, 1)] {
            let e = PrefetchRing.entry(shard: shard, tag: tag)
            #expect(e != 0)
            #expect(e.prefetchShard == shard && e.prefetchTag == tag)
        }
    }
}
