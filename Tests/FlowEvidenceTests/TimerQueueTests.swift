// TimerQueue: the flow table's FIFO timer queues in chunks (TimerQueue.swift).
import Testing
import TorscanTestSupport
@testable import FlowEvidence

@Suite struct TimerQueueTests {
    /// First in, first out across chunk boundaries, with appends and removals interleaved the way a
    /// table's sweeps and new flows interleave, against an array doing the same.
    @Test func keepsOrderAcrossChunks() {
        var q = TimerQueue<Int>(), model: [Int] = [], next = 0, peekedAhead = 0
        var rng = SplitMix(state: 7)   // (TCPReassemblerTests.swift)
        for _ in 0..<20_000 {
            if rng.next() % 5 < 3 || model.isEmpty {
                for _ in 0..<Int(rng.next() % 40) { q.append(next); model.append(next); next += 1 }
            } else {
                for _ in 0..<Int(rng.next() % 60) where !model.isEmpty {
                    #expect(q.first == model.first)
                    #expect(q.removeFirst() == model.removeFirst())
                }
            }
            #expect(q.count == model.count && q.isEmpty == model.isEmpty && q.first == model.first)
            // peek (the sweep's prefetch hint): the entry k on, or nil past the first two chunks.
            for k in [0, 1, 2, 4, 15, 16, 17, 100, 600] {
                if let p = q.peek(k) { #expect(k < model.count && p == model[k], "peek(\(k))") }
            }
            if !model.isEmpty { #expect(q.peek(0) == model[0] && q.peek(model.count) == nil) }
            if model.count > 4 { peekedAhead += q.peek(4) != nil ? 1 : 0 }
        }
        #expect(next > 100_000)   // the queue held many chunks' worth at times
        #expect(peekedAhead > 0)
    }

    /// Drained to empty and filled again (a table whose flows all ended): still in order.
    @Test func emptiesAndRefills() {
        var q = TimerQueue<Int>()
        for round in 0..<3 {
            for i in 0..<1_500 { q.append(round * 10_000 + i) }
            for i in 0..<1_500 { #expect(q.removeFirst() == round * 10_000 + i) }
            #expect(q.isEmpty && q.first == nil)
        }
    }
}
