// `--threads N` moves shards between threads as their loads change (ShardBalancer.swift): where a
// shard goes given how long each side waited, and that moving shards in the middle of their flows
// changes no report.
import Testing
import Foundation
import TorscanTestSupport
@testable import TorscanCore

@Suite struct ShardBalancerTests {
    private let ms: UInt64 = 1_000_000
    private let window: UInt64 = 20_000_000

    /// The balancer's plan for a 20 ms interval in which the reader waited `reader[k]` for worker
    /// k + 1 and that worker `worker[k]` for packets.
    private func plan(_ b: ShardBalancer, reader: [UInt64], worker: [UInt64]) -> (shard: Int, to: Int)? {
        b.plan(waits: zip(reader, worker).map { (reader: $0, worker: $1) }, elapsed: window)
    }

    @Test func theReaderStartsWithTheShareThatBalancedOnTheBenchmark() {
        let two = ShardBalancer(shards: 32, threads: 2)
        #expect(two.readerShards == 10)   // 30% of 32, rounded
        let three = ShardBalancer(shards: 48, threads: 3)
        #expect(three.readerShards == 3)   // 7% of 48
        #expect((1...2).map { k in three.owner.filter { $0 == k }.count } == [23, 22])
        let four = ShardBalancer(shards: 64, threads: 4)
        #expect(four.readerShards == 0 && (1...3).map { k in four.owner.filter { $0 == k }.count } == [22, 21, 21])
        let one = ShardBalancer(shards: 1, threads: 1)
        #expect(Array(one.owner) == [0])
    }

    @Test func aWorkerThatHeldTheReaderUpGivesAShardToTheReader() throws {
        let b = ShardBalancer(shards: 32, threads: 2)
        let m = try #require(plan(b, reader: [5 * ms], worker: [0]))
        #expect(b.owner[m.shard] == 1 && m.to == 0)
    }

    @Test func aWorkerThatWaitedTakesOneOfTheReadersShards() throws {
        let b = ShardBalancer(shards: 32, threads: 2)
        let m = try #require(plan(b, reader: [0], worker: [5 * ms]))
        #expect(b.owner[m.shard] == 0 && m.to == 1)
    }

    @Test func smallOrEvenWaitsMoveNothing() {
        let b = ShardBalancer(shards: 32, threads: 2)
        // 5% of 20 ms is 1 ms: a difference below that is the hand-off's slack.
        #expect(plan(b, reader: [900_000], worker: [0]) == nil)
        #expect(plan(b, reader: [6 * ms], worker: [5_500_000]) == nil)
        #expect(plan(b, reader: [0], worker: [0]) == nil)
    }

    @Test func withSeveralWorkersAShardGoesFromTheBusiestToTheIdlest() throws {
        let b = ShardBalancer(shards: 48, threads: 3)
        // The reader waited for worker 2; worker 1 waited for packets: worker 2 gives worker 1 a shard.
        let m = try #require(plan(b, reader: [0, 6 * ms], worker: [4 * ms, 0]))
        #expect(b.owner[m.shard] == 2 && m.to == 1)
        // Worker 1 waited and the reader waited for nobody: worker 1 takes one of the reader's.
        let n = try #require(plan(b, reader: [0, 0], worker: [4 * ms, 0]))
        #expect(b.owner[n.shard] == 0 && n.to == 1)
    }

    @Test func aWorkerKeepsItsLastShardAndTheReaderMayGiveAllOfItsOwn() {
        let b = ShardBalancer(shards: 4, threads: 2)   // reader: shard 0 (30% of 4 rounds to 1); worker 1: 1-3
        #expect(b.readerShards == 1)
        let worker = [ShardWorker(shards: [])]   // not started, given nothing: a move from it needs no wait
        for _ in 0..<2 { if let m = plan(b, reader: [9 * ms], worker: [0]) { b.move(m.shard, to: m.to, worker) } }
        #expect(b.readerShards == 3)
        #expect(plan(b, reader: [9 * ms], worker: [0]) == nil)   // worker 1's last one
        for _ in 0..<3 { if let m = plan(b, reader: [0], worker: [9 * ms]) { b.move(m.shard, to: m.to, worker) } }
        #expect(b.readerShards == 0)
        #expect(plan(b, reader: [0], worker: [9 * ms]) == nil)
        #expect(b.moves == 5)
    }

    /// Shards moved every few packets, in the middle of their flows, from the reader to workers and
    /// back (ShardBalancer.forceMove): SampleCaptures' uncompressed files in one run give the evidence
    /// and flow rows one thread gives. A move that did not wait for the old owner to finish its
    /// packets would let two threads run one shard's analyzer at once.
    @Test func movingShardsBetweenThreadsChangesNoRow() throws {
        let (samples, a) = try ReusedReadBufferTests.samplesWithOneThreadRun()
        #expect(samples.count >= 30)
        #expect(a.evidence.count > 10 && a.shardMoves == 0)
        for (threads, every) in [(2, 7), (3, 3), (2, 1)] {
            var moving = AnalysisOptions()
            moving.threads = threads
            moving.shardMoveInterval = every
            moving.readChunkSize = 4096
            let b = try Pipeline.analyze(paths: samples, options: moving)
            let packets = a.inputs.reduce(0) { $0 + $1.packets }
            #expect(b.shardMoves == packets / every, "--threads \(threads), a move every \(every) packets")
            let sameEvidence = a.evidence == b.evidence, sameFlows = a.flows == b.flows   // (not the rows in a failure)
            #expect(sameEvidence, "--threads \(threads), a move every \(every) packets")
            #expect(sameFlows, "--threads \(threads), a move every \(every) packets")
        }
    }

    /// The reader gives all its shards to the workers, a few hundred packets into the run (after it
    /// recorded evidence for them): what its thread's evidence table holds must still reach the
    /// rows, though no shard points to that table at the end. Without merging every thread's table
    /// (FlowAnalyzer.finish(shards:evidenceTables:)), this fails with 2 and 3 threads.
    @Test func theReaderGivingAwayAllItsShardsLosesNoEvidence() throws {
        let (samples, a) = try ReusedReadBufferTests.samplesWithOneThreadRun()
        for threads in [2, 3] {
            var options = AnalysisOptions()
            options.threads = threads
            options.shardMoveInterval = 100
            options.shardMovesLeaveTheReader = true
            let b = try Pipeline.analyze(paths: samples, options: options)
            let readerShards = ShardBalancer(shards: ShardBalancer.shardsPerThread * threads, threads: threads).readerShards
            #expect(readerShards > 0 && b.shardMoves == readerShards, "--threads \(threads)")
            let sameEvidence = a.evidence == b.evidence, sameFlows = a.flows == b.flows   // (not the rows in a failure)
            #expect(sameEvidence, "--threads \(threads): \(a.evidence.count) rows with one thread, \(b.evidence.count)")
            #expect(sameFlows, "--threads \(threads)")
        }
    }
}
