// OpenFlowPeak: the reports' peak_live_flows, the same for any split of the flows over tables.
import Testing
import TorscanTestSupport
import WireBytes
import PacketDecode
@testable import FlowEvidence

@Suite struct OpenFlowPeakTests {
    static let second: Int64 = 1_000_000_000

    @Test func countsFlowsOpenAtTheSameSecond() {
        var p = OpenFlowPeak()
        p.add(opened: 0, closed: 10 * Self.second)
        p.add(opened: 5 * Self.second, closed: 20 * Self.second)
        p.add(opened: 15 * Self.second, closed: 30 * Self.second)
        #expect(p.peak == 2 && p.intervalSeconds == 1)
        // Open at 10 s exactly and closed at 10 s exactly: the first is gone when the second comes.
        var q = OpenFlowPeak()
        q.add(opened: 0, closed: 10 * Self.second)
        q.add(opened: 10 * Self.second, closed: 11 * Self.second)
        #expect(q.peak == 1)
    }

    @Test func aFlowBetweenTwoSamplesIsNotCounted() {
        var p = OpenFlowPeak()
        p.add(opened: Self.second + 1, closed: 2 * Self.second)   // (1 s, 2 s): no whole second in it
        #expect(p.peak == 0)
        p.add(opened: Self.second, closed: Self.second + 1)       // [1 s, 1 s + 1 ns): the sample at 1 s
        #expect(p.peak == 1)
    }

    @Test func aRunSpanningYearsWithGapsKeepsOneSecondSamples() {
        // Three captures years apart, a few minutes each: only the seconds they touch are kept.
        var p = OpenFlowPeak()
        for year: Int64 in [2008, 2016, 2024] {
            let start = (year - 1970) * 365 * 86_400 * Self.second
            for i: Int64 in 0..<50 { p.add(opened: start + i * Self.second, closed: start + (i + 120) * Self.second) }
        }
        #expect(p.intervalSeconds == 1 && p.peak == 50)
    }

    @Test func widensTheIntervalToKeepMemoryBounded() {
        // Flows every 10 s for 30,000 s: 6,000 distinct samples at 1 s, over the limit.
        var p = OpenFlowPeak()
        for i: Int64 in 0..<3000 { p.add(opened: i * 10 * Self.second, closed: (i * 10 + 35) * Self.second) }
        #expect(p.intervalSeconds > 1 && p.peak == Self.bruteForcePeak(flows: (0..<3000).map { ($0 * 10 * Self.second, ($0 * 10 + 35) * Self.second) }, interval: p.intervalSeconds))
        #expect(p.peak >= 3 && p.peak <= 4)
    }

    @Test func extremeTimestampsDoNotTrap() {
        var p = OpenFlowPeak()
        p.add(opened: .min, closed: .min + 1)
        p.add(opened: -5 * Self.second, closed: 5 * Self.second)
        p.add(opened: .max - 10, closed: .max)
        p.add(opened: 3, closed: -3)   // closed before opened (regressed clocks): counted as never open
        #expect(p.peak == 1)
    }

    /// The property the reports need: any split of the flows over tables, absorbed in any order,
    /// gives the interval and peak of one table, and both match a count at every sample.
    @Test func anySplitGivesTheSamePeak() {
        var rng = SplitMix(state: 42)   // (TCPReassemblerTests.swift)
        for round in 0..<40 {
            // Up to 3,000 flows over up to 4 hours (the interval widens in the longer rounds, and
            // some rounds sit near the number of samples that widens it); half of them shorter
            // than 4 s, which may fall between two samples.
            let span = Int64(1 + round) * 360 * Self.second
            let flows: [(Int64, Int64)] = (0..<(200 + round * 70)).map { i in
                let s = Int64(rng.next() % UInt64(span))
                return (s, s + Int64(rng.next() % UInt64((i % 2 == 0 ? 4 : 400) * Self.second)))
            }
            var whole = OpenFlowPeak()
            for f in flows { whole.add(opened: f.0, closed: f.1) }
            #expect(whole.peak == Self.bruteForcePeak(flows: flows, interval: whole.intervalSeconds), "round \(round)")
            for tables in [2, 3, 16, 64] {
                var parts = [OpenFlowPeak](repeating: OpenFlowPeak(), count: tables)
                for f in flows { parts[Int(rng.next() % UInt64(tables))].add(opened: f.0, closed: f.1) }
                var merged = OpenFlowPeak()
                for i in (0..<tables).shuffled(using: &rng) { merged.absorb(parts[i]) }
                #expect(merged.peak == whole.peak && merged.intervalSeconds == whole.intervalSeconds,
                        "round \(round), \(tables) tables: \(merged.peak) every \(merged.intervalSeconds) s against \(whole.peak) every \(whole.intervalSeconds) s")
            }
        }
    }

    /// The flow table gives each flow its open interval: last packet plus the idle timeout, the packet
    /// that replaced it, or the end of input.
    @Test func theFlowTableCountsFlowsUntilTheirTimeout() {
        let a = IPAddress("10.0.0.9")!, b = IPAddress("10.0.0.1")!
        func udp(_ t: inout FlowTable<Int>, _ r: inout Recorder, port: UInt16, at s: Int64) {
            _ = t.packet(src: a, srcPort: port, dst: b, dstPort: 53, ipProtocol: IPProtocolNumber.udp, tcpFlags: nil,
                         payloadBytes: 4, timestamp: Timestamp(seconds: s, nanos: 0), frame: FrameRef(captureIndex: 0, frame: 1), handler: &r)
        }
        // UDP times out after 120 s: a flow at 0 s is open at 120 s, not at 121 s.
        var t = FlowTable<Int>(), r = Recorder()
        udp(&t, &r, port: 1, at: 0)
        udp(&t, &r, port: 2, at: 120)
        t.finish(handler: &r)
        #expect(t.counts.open.peak == 2)
        var u = FlowTable<Int>(), v = Recorder()
        udp(&u, &v, port: 1, at: 0)
        udp(&u, &v, port: 2, at: 121)
        u.finish(handler: &v)
        #expect(u.counts.open.peak == 1)
        // Still open when the input ends (the first flow's timeout is not over at 100 s).
        var w = FlowTable<Int>(), x = Recorder()
        udp(&w, &x, port: 1, at: 0)
        udp(&w, &x, port: 2, at: 100)
        w.finish(handler: &x)
        #expect(w.counts.open.peak == 2 && x.ended.map(\.reason) == [.endOfInput, .endOfInput])
    }

    /// Flows open at each sample, counted one by one.
    static func bruteForcePeak(flows: [(Int64, Int64)], interval: Int64) -> Int {
        let w = interval * second
        var samples: Set<Int64> = []
        for f in flows { samples.insert(OpenFlowPeak.ceilDiv(f.0, w)); samples.insert(OpenFlowPeak.ceilDiv(f.1, w)) }
        return samples.map { k in flows.filter { OpenFlowPeak.ceilDiv($0.0, w) <= k && k < OpenFlowPeak.ceilDiv($0.1, w) }.count }.max() ?? 0
    }
}
