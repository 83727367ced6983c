// EvidenceTable: the evidence of the shards one thread runs, merged once per table at the end.
import Testing
import WireBytes
import PacketDecode
import BitTorrentClassifier
@testable import FlowEvidence

@Suite struct EvidenceTableTests {
    static let ih = InfoHash(hex: "aa3769c4530dde06241873dad43ab5ccec2ce622")!

    static func accumulator(at seconds: Int64, flow: Int, bytesUp: Int64) -> EvidenceAccumulator {
        let a = EvidenceAccumulator(timestamp: Timestamp(seconds: seconds, nanos: 0))
        a.flows.insert(flow)
        a.bytesUp = bytesUp
        return a
    }

    /// Keys both tables hold merge (flows united, bytes summed, first and last seen widened); the
    /// absorbed table is emptied, so absorbing it again adds nothing; a table does not absorb itself.
    @Test func mergesOnceAndEmptiesTheOther() {
        let shared = EvidenceKey(ip: IPAddress("10.0.0.1")!, infoHash: Self.ih, day: 20_000)
        let only = EvidenceKey(ip: IPAddress("10.0.0.2")!, infoHash: Self.ih, day: 20_000)
        let a = EvidenceTable(), b = EvidenceTable()
        a.entries[shared] = Self.accumulator(at: 100, flow: FlowTable<Void>.firstID(shard: 0), bytesUp: 10)
        b.entries[shared] = Self.accumulator(at: 50, flow: FlowTable<Void>.firstID(shard: 3) + 7, bytesUp: 5)
        b.entries[only] = Self.accumulator(at: 70, flow: 1, bytesUp: 1)
        a.absorb(b)
        a.absorb(b)
        a.absorb(a)
        #expect(b.entries.isEmpty && a.entries.count == 2)
        let m = a.entries[shared]!
        #expect(m.flows.count == 2 && m.bytesUp == 15)
        #expect(m.firstSeen == Timestamp(seconds: 50, nanos: 0) && m.lastSeen == Timestamp(seconds: 100, nanos: 0))
    }

    /// Shards' flow ids are apart and order as shard, then creation (what the renumbering at the
    /// end of a run gave before the shards of a thread shared evidence).
    @Test func shardsNumberTheirFlowsApart() {
        let firsts = (0..<4096).map { FlowTable<Void>.firstID(shard: $0) }
        #expect(zip(firsts, firsts.dropFirst()).allSatisfy { $0 < $1 })
        #expect(firsts[1] - firsts[0] == 1 << 36 && firsts.last! + (1 << 36) - 1 < 1 << 48)   // Flow keeps 48 bits
    }
}
