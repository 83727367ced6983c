// TimerWheel: entries come out in the first sweep past their second, once, whatever the gaps.
import Testing
import TorscanTestSupport
@testable import FlowEvidence

@Suite struct TimerWheelTests {
    static let s: Int64 = 1_000_000_000

    static func entry(_ i: Int) -> TimerWheel.Entry { TimerWheel.Entry(slot: Int32(i), generation: UInt32(i % 7)) }

    static func drain(_ w: inout TimerWheel, clock: Int64) -> [Int] {
        w.sweep(upTo: clock)
        var out: [Int] = []
        while let e = w.next() { out.append(Int(e.slot)) }
        return out
    }

    /// Against a model: 3,000 entries due 0-400 s ahead of a clock that moves 0-5 s a sweep, with
    /// fractions of seconds: each comes out in the first sweep whose second is past its due second.
    @Test func entriesComeOutOnceInTheFirstSweepPastTheirSecond() {
        var rng = SplitMix(state: 6)
        var w = TimerWheel()
        var clock: Int64 = 1_765_000_000 * Self.s + 123
        _ = Self.drain(&w, clock: clock)
        var dueSecond: [Int: Int64] = [:]
        var next = 0
        for _ in 0..<1_500 {
            for _ in 0..<Int(rng.next() % 3) where next < 3_000 {
                let due = clock + Int64(rng.next() % 400_000) * 1_000_000 + 1
                w.insert(Self.entry(next), due: due)
                dueSecond[next] = TimerWheel.second(due)
                next += 1
            }
            clock += Int64(rng.next() % 5_000) * 1_000_000
            let out = Self.drain(&w, clock: clock)
            let expected = dueSecond.filter { $0.value < TimerWheel.second(clock) }.map(\.key)
            #expect(out.sorted() == expected.sorted())
            for k in out { dueSecond[k] = nil }
        }
        #expect(w.count == dueSecond.count)
    }

    /// A gap longer than the wheel takes every bucket once (not one step per second of the gap),
    /// and an entry due past the wheel's span is seen early, for its owner to queue again.
    @Test func longGapsAndLongTimeouts() {
        var w = TimerWheel()
        _ = Self.drain(&w, clock: 1_000 * Self.s)
        w.insert(Self.entry(1), due: 1_010 * Self.s)
        w.insert(Self.entry(2), due: (1_000 + 2_000) * Self.s)      // 2,000 s ahead: past 512 buckets
        // Years later (a file that starts much later): both come out in one sweep.
        #expect(Set(Self.drain(&w, clock: 1_000_000_000 * Self.s)) == [1, 2])
        #expect(w.count == 0 && Self.drain(&w, clock: 1_000_000_100 * Self.s).isEmpty)
        // The long one, queued again by its owner while not due, ends up after its second.
        var v = TimerWheel()
        _ = Self.drain(&v, clock: 0)
        let due = 2_000 * Self.s
        v.insert(Self.entry(3), due: due)
        var seenAt: Int64?
        for t in stride(from: Int64(1), through: 2_100, by: 1) {
            for e in Self.drain(&v, clock: t * Self.s) {
                if t * Self.s > due { seenAt = t } else { v.insert(Self.entry(e), due: due) }
            }
            if seenAt != nil { break }
        }
        #expect(seenAt == 2_001)
    }

    /// An entry due before the wheel's position comes out at the next sweep past that position; a
    /// clock that goes back takes nothing.
    @Test func pastDuesAndAClockThatGoesBack() {
        var w = TimerWheel()
        _ = Self.drain(&w, clock: 500 * Self.s)
        w.insert(Self.entry(1), due: 100 * Self.s)
        #expect(Self.drain(&w, clock: 400 * Self.s).isEmpty)
        #expect(Self.drain(&w, clock: 500 * Self.s).isEmpty)
        #expect(Self.drain(&w, clock: 501 * Self.s) == [1])
    }

    /// Eviction takes from the earliest bucket; nodes are reused (the pool does not grow as entries cycle).
    @Test func takeEarliestAndReuse() {
        var w = TimerWheel()
        _ = Self.drain(&w, clock: 10 * Self.s)
        w.insert(Self.entry(1), due: 90 * Self.s)
        w.insert(Self.entry(2), due: 30 * Self.s)
        w.insert(Self.entry(3), due: 60 * Self.s)
        #expect(w.takeEarliest()?.slot == 2 && w.takeEarliest()?.slot == 3 && w.count == 1)
        for k in 0..<1_000 {
            w.insert(Self.entry(k), due: (100 + Int64(k)) * Self.s)
            #expect(Self.drain(&w, clock: (102 + Int64(k)) * Self.s).count == (k == 0 ? 2 : 1))
        }
        #expect(w.count == 0 && w.nodesAllocated <= 3)
    }
}

