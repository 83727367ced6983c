// pcap: the four magics, timestamps to ns, snap length, link type, record header checks.
import CaptureFile
import Testing
import WireBytes

@Suite struct PcapReaderTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func fourMagics(bigEndian: Bool, nanos: Bool) throws {
        var bytes = Pcap.header(bigEndian: bigEndian, nanos: nanos, snaplen: 1500, linkType: 101)
        bytes += Pcap.record(bigEndian: bigEndian, sec: 1_600_000_000, frac: 123_456, data: payload(40), orig: 60)
        bytes += Pcap.record(bigEndian: bigEndian, sec: 1_600_000_001, frac: 999_999, data: payload(20, seed: 9))
        let out = try readBytes(bytes)
        #expect(out.reader.format == .pcap)
        #expect(out.reader.byteOrder == (bigEndian ? .big : .little))
        #expect(out.reader.timestampResolution == (nanos ? .nanoseconds : .microseconds))
        #expect(out.reader.snapLength == 1500)
        #expect(out.reader.linkTypes == [LinkType.raw])
        #expect(out.records.count == 2)
        let scale: Int64 = nanos ? 1 : 1000
        #expect(out.records[0] == Rec(frame: 1, ns: 1_600_000_000_000_000_000 + 123_456 * scale, hasTimestamp: true, linkType: 101,
                                      interface: 0, caplen: 40, origlen: 60, offset: 24, data: payload(40)))
        #expect(out.records[1].frame == 2)
        #expect(out.records[1].offset == 24 + 16 + 40)
        #expect(out.records[1].data == payload(20, seed: 9))
        #expect(out.result.packets == 2)
        #expect(out.result.bytes == 60)
        #expect(out.result.truncatedBySnaplen == 1)
        #expect(out.result.firstTimestamp?.nanoseconds == out.records[0].ns)
        #expect(out.result.lastTimestamp?.nanoseconds == out.records[1].ns)
        #expect(out.result.damage.isEmpty)
        #expect(out.result.anomalies.total == 0)
    }

    @Test func linkTypeUpperBitsAreFCSInformation() throws {
        // LT_LINKTYPE: bits 16-31 of the link-type field carry FCS length, not the link type.
        let bytes = Pcap.header(linkType: 0x1000_0000 | 113) + Pcap.record(sec: 1, frac: 0, data: payload(16))
        #expect(try readBytes(bytes).records.first?.linkType == 113)
    }

    @Test func unsignedSecondsReach2106() throws {
        let bytes = Pcap.header() + Pcap.record(sec: 0xFFFF_FFFF, frac: 999_999, data: payload(4))
        let out = try readBytes(bytes)
        #expect(out.records.first?.ns == Int64(0xFFFF_FFFF) * 1_000_000_000 + 999_999_000)
        #expect(out.records.first.map { Timestamp(nanoseconds: $0.ns).rfc3339() } == "2106-02-07T06:28:15.999999000Z")
    }

    @Test func caplenAboveSnaplenIsCutAsLibpcapDoes() throws {
        let bytes = Pcap.header(snaplen: 32) + Pcap.record(sec: 1, frac: 0, data: payload(50)) + Pcap.record(sec: 2, frac: 0, data: payload(8))
        let out = try readBytes(bytes)
        #expect(out.records.map(\.caplen) == [32, 8])
        #expect(out.records[0].data == Array(payload(50).prefix(32)))
        #expect(out.records[1].data == payload(8))   // framing kept: the skipped 18 bytes are not a record
        #expect(out.result.anomalies[.caplenExceedsSnaplen] == 1)
        #expect(out.result.damage.isEmpty)
    }

    @Test func inclAboveOrigIsCountedAndKept() throws {
        let bytes = Pcap.header() + Pcap.record(sec: 1, frac: 0, data: payload(50), orig: 40)
        let out = try readBytes(bytes)
        #expect(out.records.map(\.caplen) == [50])
        #expect(out.result.anomalies[.caplenExceedsOriglen] == 1)
    }

    @Test func fractionOutOfRangeKeptAsLibpcapReturnsIt() throws {
        let bytes = Pcap.header(nanos: true) + Pcap.record(sec: 10, frac: 2_000_000_000, data: payload(4))
        let out = try readBytes(bytes)
        #expect(out.records.first?.ns == 12_000_000_000)
        #expect(out.result.anomalies[.timestampFractionOutOfRange] == 1)
    }

    @Test func headerOnlyFileHasNoPackets() throws {
        let out = try readBytes(Pcap.header())
        #expect(out.result.packets == 0)
        #expect(out.result.firstTimestamp == nil)
        #expect(out.result.damage.isEmpty)
    }

    @Test func stopsEarlyWhenBodySaysSo() throws {
        let path = tempFile(Pcap.file(n: 10))
        let reader = try CaptureReader(path: path)
        var seen = 0
        let result = reader.forEachRecord { _ in seen += 1; return seen < 3 }
        #expect(seen == 3)
        #expect(result.packets == 3)
        #expect(result.stoppedEarly)
    }
}

@Suite struct PcapOldVersionTests {
    /// Version 2.0-2.2 files have incl_len and orig_len swapped (libpcap sf-pcap.c); 2.3 may.
    @Test(arguments: [(UInt16(2), true), (3, true), (4, false)])
    func swappedLengths(minor: UInt16, swapped: Bool) throws {
        var h = Pcap.header()
        h[6] = UInt8(minor); h[7] = 0
        // On disk: incl field says 100 (really orig), orig field says 40 (really incl) when swapped.
        let rec = swapped ? Pcap.record(sec: 1, frac: 0, data: payload(40), orig: 40, incl: 100).prefix(16) + payload(40)
                          : Pcap.record(sec: 1, frac: 0, data: payload(40), orig: 100)[...]
        var fixed = Array(rec)
        if swapped { fixed.replaceSubrange(8..<16, with: [100, 0, 0, 0, 40, 0, 0, 0]) }
        let out = try readBytes(h + fixed)
        #expect(out.records.map(\.caplen) == [40])
        #expect(out.records.map(\.origlen) == [100])
        #expect(out.result.damage.isEmpty)
    }
}
