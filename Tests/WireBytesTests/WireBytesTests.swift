import Testing
import WireBytes

@Suite struct ByteCursorTests {
    @Test func readsBigAndLittleEndianAndStopsAtTheEnd() {
        let bytes: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9a]
        bytes.withUnsafeBytes { raw in
            var c = ByteCursor(raw)
            #expect(c.u16be() == 0x1234)
            #expect(c.u16le() == 0x7856)
            #expect(c.u32be() == nil)      // only one byte left: nil, and nothing consumed
            #expect(c.remaining == 1)
            #expect(c.u8() == 0x9a)
            #expect(c.u8() == nil)
            #expect(c.take(-1) == nil)
        }
    }

    @Test func sliceClampsInsteadOfTrapping() {
        [UInt8](repeating: 1, count: 4).withUnsafeBytes { raw in
            #expect(raw.slice(2, 100).count == 2)
            #expect(raw.slice(-5, 2).count == 2)
            #expect(raw.slice(10, 1).count == 0)
            #expect(raw.u32be(at: 1) == nil)
            #expect(raw.u32be(at: Int.max) == nil)
        }
    }

    @Test func checkedArithmeticRefusesOverflow() {
        #expect((Int.max +? 1) == nil)
        #expect((Int.max *? 2) == nil)
        #expect(paddedTo4(5) == 8)
        #expect(paddedTo4(Int.max) == nil)
    }
}

@Suite struct TimestampTests {
    @Test func formatsRFC3339InUTC() {
        let t = Timestamp(seconds: 1_635_949_321, nanos: 123_456_000)
        #expect(t.rfc3339(fractionDigits: 6) == "2021-11-03T14:22:01.123456Z")
        #expect(t.utcDay == "2021-11-03")
        #expect(Timestamp(seconds: 0, nanos: 0).rfc3339(fractionDigits: 0) == "1970-01-01T00:00:00Z")
        // 32-bit seconds end in 2106.
        #expect(Timestamp(seconds: 4_294_967_295, nanos: 0).rfc3339(fractionDigits: 0) == "2106-02-07T06:28:15Z")
    }

    @Test func parsesWhatUsersType() {
        #expect(Timestamp(rfc3339: "2021-11-03T14:22:01.123456Z") == Timestamp(seconds: 1_635_949_321, nanos: 123_456_000))
        #expect(Timestamp(rfc3339: "2021-11-03")?.rfc3339(fractionDigits: 0) == "2021-11-03T00:00:00Z")
        #expect(Timestamp(rfc3339: "2021-13-03") == nil)
        #expect(Timestamp(rfc3339: "yesterday") == nil)
    }
}
