// EvidenceTable: the evidence of the shards one thread runs, merged once per table at the end.
import Testing
import Foundation
import WireBytes
import CaptureFile
import PacketDecode
import BitTorrentClassifier
import TorscanTestSupport
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

    /// A shard that moves to another thread writes to that thread's table from then on; the table
    /// it left may be pointed to by no shard at the end (a thread that gave all its shards away: the
    /// reading thread, busy hashing a --json run's input, did on the benchmark capture, and 37 rows
    /// were lost). Every table given to finish is merged: the rows are one analyzer's.
    @Test func evidenceInATableNoShardPointsToIsKept() throws {
        let url = TestPaths.packageRoot.appendingPathComponent("SampleCaptures/multi-torrent/capture.pcap")
        let whole = try analyze([url])
        #expect(whole.evidence.count >= 4)
        var shard = FlowAnalyzer()
        let left = EvidenceTable(), joined = EvidenceTable()
        shard.useEvidenceTable(left)
        let reader = try CaptureReader(path: url.path)
        var decoder = PacketDecoder()
        var n = 0
        var clock: Timestamp?   // the run's clock, as the pipeline keeps it: the latest timestamp
        _ = reader.forEachRecord { rec in
            n += 1
            if n == 200 { shard.useEvidenceTable(joined) }   // moved to another thread
            clock = max(clock ?? rec.timestamp, rec.timestamp)
            let p = decoder.decode(rec.data, linkType: rec.linkType, timestamp: rec.timestamp)
            shard.process(record: FrameRef(captureIndex: 0, frame: rec.frameNumber), timestamp: rec.timestamp, packet: p, clock: clock!)
            return true
        }
        #expect(n > 400 && !left.entries.isEmpty)
        let out = FlowAnalyzer.finish(shards: [shard], clock: nil, timestampRegressions: 0, evidenceTables: [left, joined])
        #expect(out.evidence == whole.evidence)
    }
}
