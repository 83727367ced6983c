import Testing
import TorscanCore
import PacketDecode

@Suite struct CIDRTests {
    @Test func matchesIPv4AndIPv6Prefixes() throws {
        let v4 = try #require(CIDR("10.0.0.0/8"))
        #expect(v4.contains(IPAddress("10.255.1.2")!))
        #expect(!v4.contains(IPAddress("11.0.0.1")!))
        #expect(!v4.contains(IPAddress("::ffff:10.0.0.1")!))
        let v6 = try #require(CIDR("2001:db8::/32"))
        #expect(v6.contains(IPAddress("2001:db8:1::5")!))
        #expect(!v6.contains(IPAddress("2001:db9::1")!))
        #expect(CIDR("192.168.1.3")?.contains(IPAddress("192.168.1.3")!) == true)
        #expect(CIDR("0.0.0.0/0")?.contains(IPAddress("8.8.8.8")!) == true)
    }

    @Test func rejectsBadPrefixes() {
        for bad in ["10.0.0.0/33", "10.0.0.0/-1", "::/129", "host/8", "10.0.0.0/"] { #expect(CIDR(bad) == nil, "\(bad)") }
    }
}
