// The pcapng reader's per-packet fast paths (issue 6): an interface clock that converts microsecond
// and nanosecond timestamps by one multiplication must give what the general split gives, overflow
// included; EPBs read in place must keep their anomalies (caplen above the snap length or the
// original length) and their per-section interface mapping.
@testable import CaptureFile
import Testing
import WireBytes
import TorscanTestSupport

@Suite struct PcapngFastPathTests {
    typealias Clock = PcapngParser.Clock

    /// Units around the ends of the fast path's range, plus random ones of every magnitude.
    static func samples(limit: UInt64) -> [UInt64] {
        var g = SplitMix(state: 0x5EED)
        var out: [UInt64] = [0, 1, 999_999, 1_000_000, 1_000_001, limit &- 1, limit, limit &+ 1, limit &+ 1_000,
                             UInt64(Int64.max) &- 1, UInt64(Int64.max), UInt64(Int64.max) &+ 1, UInt64.max]
        for _ in 0..<20_000 {
            let bits = g.next() % 65
            out.append(bits == 64 ? g.next() : g.next() & ((1 << bits) &- 1))
        }
        return out
    }

    @Test(arguments: [TimestampResolution.microseconds, .nanoseconds])
    func oneMultiplicationMatchesTheSplit(resolution: TimestampResolution) {
        let clock = Clock(resolution, offset: 0)
        let limit = UInt64(Int64.max / (resolution == .microseconds ? 1_000 : 1))
        var fast = 0
        for t in Self.samples(limit: limit) {
            #expect(clock.nanoseconds(t) == clock.splitNanoseconds(t), "t = \(t)")
            if t <= limit { fast += 1 }
        }
        // Both ends of the range are exercised: values that convert and values that overflow.
        #expect(fast > 1_000)
        #expect(clock.nanoseconds(limit) != nil && clock.nanoseconds(limit + 1) == nil)
    }

    @Test func microsecondsConvertAsSecondsPlusFraction() {
        let clock = Clock(.microseconds, offset: 0)
        #expect(clock.nanoseconds(1_600_000_000_000_002) == 1_600_000_000_000_002_000)
        // The last microsecond before 2^63 ns (2262-04-11), then the first that overflows.
        #expect(clock.nanoseconds(9_223_372_036_854_775) == 9_223_372_036_854_775_000)
        #expect(clock.nanoseconds(9_223_372_036_854_776) == nil)
    }

    @Test(arguments: [Int64(100), -100, Int64.max, Int64.min])
    func anOffsetTakesTheSplit(offset: Int64) {
        // if_tsoffset adds whole seconds: no single multiplication; the split checks each step.
        for r in [TimestampResolution.microseconds, .nanoseconds] {
            let clock = Clock(r, offset: offset)
            for t in Self.samples(limit: 0).prefix(200) {
                #expect(clock.nanoseconds(t) == clock.splitNanoseconds(t))
            }
        }
        #expect(Clock(.microseconds, offset: 100).nanoseconds(5_000_001) == 105_000_001_000)
        #expect(Clock(.microseconds, offset: -100).nanoseconds(5_000_001) == -94_999_999_000)
        #expect(Clock(.nanoseconds, offset: Int64.max).nanoseconds(1) == nil)
    }

    @Test func otherResolutionsTakeTheSplit() {
        #expect(Clock(.decimal(3), offset: 0).nanoseconds(5_001) == 5_001_000_000)
        #expect(Clock(.binary(10), offset: 0).nanoseconds(5 * 1024 + 512) == 5_500_000_000)
        #expect(Clock(.decimal(0), offset: 0).nanoseconds(7) == 7_000_000_000)
    }

    @Test(arguments: [false, true])
    func enhancedPacketAnomaliesAreKept(bigEndian: Bool) throws {
        var f = Pcapng.shb(bigEndian: bigEndian) + Pcapng.idb(bigEndian: bigEndian, snaplen: 8)
        f += Pcapng.epb(bigEndian: bigEndian, ts: 1, data: payload(12))            // above the snap length: kept whole, counted
        f += Pcapng.epb(bigEndian: bigEndian, ts: 2, data: payload(6), orig: 4)    // above the original length: counted
        f += Pcapng.epb(bigEndian: bigEndian, ts: 3, data: payload(5), orig: 900)  // cut by the snap length: no anomaly
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [12, 6, 5])
        #expect(out.records.map(\.origlen) == [12, 4, 900])
        #expect(out.records[0].data == payload(12))
        #expect(out.records.map(\.ns) == [1_000, 2_000, 3_000])
        #expect(out.result.anomalies[.caplenExceedsSnaplen] == 1)
        #expect(out.result.anomalies[.caplenExceedsOriglen] == 1)
        #expect(out.result.truncatedBySnaplen == 1)
        #expect(out.result.anomalies.total == 2)
    }

    @Test func packetsBeforeAnyInterfaceAreCounted() throws {
        let f = Pcapng.shb() + Pcapng.epb(ts: 1, data: payload(4)) + Pcapng.idb() + Pcapng.epb(ts: 2, data: payload(5))
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [5])
        #expect(out.result.anomalies[.packetBeforeInterface] == 1)
    }

    @Test func aNewSectionStartsItsOwnInterfaceIDs() throws {
        // Section 2 has one interface: its EPB on id 1 is unknown there, though section 1 had two.
        var f = Pcapng.shb() + Pcapng.idb(linkType: 1) + Pcapng.idb(linkType: 113, options: [Pcapng.tsresol(9)])
        f += Pcapng.epb(interface: 1, ts: 7, data: payload(4))
        f += Pcapng.shb() + Pcapng.idb(linkType: 101)
        f += Pcapng.epb(interface: 1, ts: 8, data: payload(5))
        f += Pcapng.epb(interface: 0, ts: 9, data: payload(6))
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [4, 6])
        #expect(out.records.map(\.interface) == [1, 2])
        #expect(out.records.map(\.linkType) == [113, 101])
        #expect(out.records.map(\.ns) == [7, 9_000])
        #expect(out.result.anomalies[.unknownInterface] == 1)
    }
}

