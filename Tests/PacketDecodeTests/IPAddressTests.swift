import Testing
import PacketDecode

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),     // a single zero group is not shortened (RFC 5952 4.2.2)
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),              // the longest run wins
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),        // first run on a tie
        ("::", "::"),
        ("::1", "::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("192.168.1.3", "192.168.1.3"),
    ])
    func formatsPerRFC5952(input: String, expected: String) {
        #expect(IPAddress(input)?.description == expected)
    }

    @Test func rejectsMalformedText() {
        for bad in ["1.2.3", "1.2.3.256", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "g::1", ""] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func ordersIPv4BeforeIPv6() {
        #expect(IPAddress("10.0.0.1")! < IPAddress("::1")!)
        #expect(IPAddress("10.0.0.1")! < IPAddress("10.0.0.2")!)
    }
}
