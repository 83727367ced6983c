// How long a waiting thread of `--threads N` spins before it sleeps (SpinBudget.swift): long on a
// shared host, where a sleeping thread wakes late, but not when spinning does not pay.
import Testing
import Foundation
@testable import TorscanCore

@Suite struct SpinBudgetTests {
    private let ceiling = SpinBudget.defaultCeiling

    @Test func startsAtTheCeilingAndHalvesAfterSleepsInARow() {
        var b = SpinBudget()
        #expect(b.nanoseconds == ceiling)
        for _ in 1..<SpinBudget.sleepsToShrink { b.record(endedSpinning: false) }
        #expect(b.nanoseconds == ceiling)   // a few sleeps: a busy moment of the host, not a pattern
        b.record(endedSpinning: false)
        #expect(b.nanoseconds == ceiling / 2)
    }

    @Test func aWaitThatEndsWhileSpinningDoublesAndForgetsTheSleeps() {
        var b = SpinBudget()
        for _ in 0..<SpinBudget.sleepsToShrink * 3 { b.record(endedSpinning: false) }
        #expect(b.nanoseconds == ceiling / 8)
        for _ in 1..<SpinBudget.sleepsToShrink { b.record(endedSpinning: false) }
        b.record(endedSpinning: true)
        #expect(b.nanoseconds == ceiling / 4)
        // The sleeps before the success no longer count towards the next halving.
        for _ in 1..<SpinBudget.sleepsToShrink { b.record(endedSpinning: false) }
        #expect(b.nanoseconds == ceiling / 4)
        for _ in 0..<10 { b.record(endedSpinning: true) }
        #expect(b.nanoseconds == ceiling)
    }

    @Test func neverBelowTheFloor() {
        var b = SpinBudget()
        for _ in 0..<1_000 { b.record(endedSpinning: false) }
        #expect(b.nanoseconds == SpinBudget.floor)
        b.record(endedSpinning: true)
        #expect(b.nanoseconds == 2 * SpinBudget.floor)
    }

    @Test func aCeilingBelowTheFloorMeansTheFloor() {
        var b = SpinBudget(ceiling: 0)
        #expect(b.nanoseconds == SpinBudget.floor)
        b.record(endedSpinning: true)
        #expect(b.nanoseconds == SpinBudget.floor)
    }

    /// A real queue whose reader sends a batch every 3 ms (a slow disk): the worker's waits outlast
    /// any spin, so it stops spinning for nothing and sleeps at once.
    @Test func aWorkerWaitingForASlowReaderStopsSpinning() {
        let q = BatchQueue()
        let done = DispatchSemaphore(value: 0)
        let worker = Thread {
            while let b = q.next() { q.recycle(b) }
            done.signal()
        }
        worker.start()
        for _ in 0..<60 {
            let b = q.emptyBatch()
            Thread.sleep(forTimeInterval: 0.003)
            q.send(b)
        }
        q.close()
        done.wait()
        // 1 ms to 30 us is six halvings of four sleeps each; 60 sends leave room for a wait that a
        // busy machine turned into a short one (which doubles the spin once).
        #expect(q.workerSpinNanoseconds <= 2 * SpinBudget.floor)
        #expect(q.workerSleeps >= 6 * SpinBudget.sleepsToShrink)
        #expect(q.readerSpinNanoseconds == SpinBudget.defaultCeiling)
    }
}
