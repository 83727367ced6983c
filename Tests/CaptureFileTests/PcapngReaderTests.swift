// pcapng: sections in either byte order, several interfaces, if_tsresol/if_tsoffset, EPB/SPB/PB,
// skipped blocks.
import CaptureFile
import Testing
import WireBytes

@Suite struct PcapngReaderTests {
    @Test(arguments: [false, true])
    func enhancedPacketBlocks(bigEndian: Bool) throws {
        let out = try readBytes(Pcapng.file(n: 3, bigEndian: bigEndian))
        #expect(out.reader.format == .pcapng)
        #expect(out.reader.byteOrder == (bigEndian ? .big : .little))
        #expect(out.records.count == 3)
        #expect(out.records[0].ns == 1_600_000_000_000_000_000)
        #expect(out.records[2].ns == 1_600_000_002_000_002_000)
        #expect(out.records[1].data == payload(61, seed: 1))
        #expect(out.records[0].offset == 28 + 20)  // after the SHB (28) and the IDB (20)
        #expect(out.result.damage.isEmpty && out.result.anomalies.total == 0)
    }

    @Test func severalInterfacesWithTheirResolutionsAndOffsets() throws {
        var f = Pcapng.shb()
        f += Pcapng.idb(linkType: 1, snaplen: 1000)                                          // µs
        f += Pcapng.idb(linkType: 113, options: [Pcapng.tsresol(9)])                         // ns
        f += Pcapng.idb(linkType: 101, options: [Pcapng.tsresol(0x80 | 10), Pcapng.tsoffset(100)]) // 2^-10 s, +100 s
        f += Pcapng.idb(linkType: 228, options: [Pcapng.tsresol(3)])                         // ms
        f += Pcapng.epb(interface: 0, ts: 5_000_001, data: payload(10))
        f += Pcapng.epb(interface: 1, ts: 5_000_000_001, data: payload(11))
        f += Pcapng.epb(interface: 2, ts: 5 * 1024 + 512, data: payload(12))
        f += Pcapng.epb(interface: 3, ts: 5_001, data: payload(13))
        let out = try readBytes(f)
        #expect(out.reader.linkTypes.map(\.rawValue) == [1, 113, 101, 228])
        #expect(out.reader.interfaces.map(\.resolution) == [.microseconds, .nanoseconds, .binary(10), .decimal(3)])
        #expect(out.reader.interfaces[2].timestampOffsetSeconds == 100)
        #expect(out.records.map(\.ns) == [5_000_001_000, 5_000_000_001, 105_500_000_000, 5_001_000_000])
        #expect(out.records.map(\.interface) == [0, 1, 2, 3])
        #expect(out.records.map(\.linkType) == [1, 113, 101, 228])
        #expect(out.reader.snapLength == 1000)
    }

    @Test func binaryResolutionKeepsSubsecondPrecision() throws {
        // 2^-30 s units: 3 units = 2.79 ns, floored as libpcap does ((frac * 10^9) >> 30).
        let f = Pcapng.shb() + Pcapng.idb(options: [Pcapng.tsresol(0x80 | 30)]) + Pcapng.epb(ts: (7 << 30) + 3, data: payload(4))
        #expect(try readBytes(f).records.first?.ns == 7_000_000_002)
    }

    @Test func severalSectionsOfBothByteOrders() throws {
        var f = Pcapng.shb() + Pcapng.idb(linkType: 1) + Pcapng.epb(ts: 1_000_000, data: payload(8))
        f += Pcapng.shb(bigEndian: true) + Pcapng.idb(bigEndian: true, linkType: 113)
        f += Pcapng.epb(bigEndian: true, interface: 0, ts: 2_000_000, data: payload(9))
        let out = try readBytes(f)
        #expect(out.reader.byteOrder == .mixed)
        #expect(out.records.map(\.linkType) == [1, 113])
        #expect(out.records.map(\.interface) == [0, 1])  // interface ids restart per section, ours are file-wide
        #expect(out.reader.interfaces.map(\.section) == [0, 1])
        #expect(out.records.map(\.ns) == [1_000_000_000, 2_000_000_000])
    }

    @Test func simpleAndObsoletePacketBlocks() throws {
        var f = Pcapng.shb() + Pcapng.idb(snaplen: 16)
        f += Pcapng.spb(orig: 30, data: payload(30))     // cut to interface 0's snap length
        f += Pcapng.spb(orig: 10, data: payload(10))     // padded to 12 in the block: caplen = orig
        f += Pcapng.pb(ts: 3_000_000, data: payload(7))
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [16, 10, 7])
        #expect(out.records.map(\.origlen) == [30, 10, 7])
        #expect(out.records.map(\.hasTimestamp) == [false, false, true])
        #expect(out.records[0].data == Array(payload(30).prefix(16)))
        #expect(out.records[2].ns == 3_000_000_000)
        #expect(out.result.packetsWithoutTimestamp == 2)
        #expect(out.result.firstTimestamp?.nanoseconds == 3_000_000_000)
    }

    @Test func otherBlocksAreSkipped() throws {
        var f = Pcapng.shb() + Pcapng.idb()
        f += Pcapng.block(4, body: [0, 0, 0, 0])                                   // NRB (end only)
        f += Pcapng.epb(ts: 1, data: payload(5))
        f += Pcapng.block(5, body: payload(20))                                    // ISB
        f += Pcapng.block(10, body: payload(16))                                   // DSB
        f += Pcapng.block(0xBAD, body: payload(12))                                // custom
        f += Pcapng.block(0x4000_0BAD, body: payload(8))                           // custom, not copied
        f += Pcapng.block(0x0123_4567, body: payload(4))                           // unknown
        f += Pcapng.epb(ts: 2, data: payload(6))
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [5, 6])
        #expect(out.result.damage.isEmpty && out.result.anomalies.total == 0)
    }

    @Test func packetOnUnknownInterfaceIsSkippedAndCounted() throws {
        let f = Pcapng.shb() + Pcapng.idb() + Pcapng.epb(interface: 3, ts: 1, data: payload(4)) + Pcapng.epb(ts: 2, data: payload(5))
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [5])
        #expect(out.records.first?.frame == 1)
        #expect(out.result.anomalies[.unknownInterface] == 1)
    }

    @Test func timestampBeyond2262IsClampedAndCounted() throws {
        let f = Pcapng.shb() + Pcapng.idb(options: [Pcapng.tsresol(9)]) + Pcapng.epb(ts: UInt64.max, data: payload(4))
        let out = try readBytes(f)
        #expect(out.records.first?.ns == Int64.max)
        #expect(out.result.anomalies[.timestampOverflow] == 1)
    }
}
