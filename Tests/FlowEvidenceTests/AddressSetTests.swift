// AddressSet: a Set of addresses with a filter in front; it must answer as the Set does.
import Testing
import TorscanTestSupport
import PacketDecode
@testable import FlowEvidence

@Suite struct AddressSetTests {
    static func address(_ rng: inout SplitMix) -> IPAddress {
        rng.next() & 1 == 0 ? IPAddress(v4: UInt32(truncatingIfNeeded: rng.next()))
            : IPAddress(v6hi: rng.next(), v6lo: rng.next())
    }

    @Test func answersAsASetDoes() {
        var rng = SplitMix(state: 11)
        var s = AddressSet(), reference = Set<IPAddress>()
        #expect(s.isEmpty && !s.contains(IPAddress("10.0.0.1")!))
        for n in [1, 3, 40, 400] {
            while reference.count < n { let a = Self.address(&rng); s.insert(a); reference.insert(a) }
            #expect(s.count == reference.count && reference.allSatisfy { s.contains($0) })
            // Addresses not inserted (v4 and v6, and the v4 of an inserted v6's low word) are absent.
            for _ in 0..<2_000 { let a = Self.address(&rng); #expect(s.contains(a) == reference.contains(a)) }
            for a in reference where a.isV6 { let v4 = IPAddress(v4: UInt32(truncatingIfNeeded: a.lo)); #expect(s.contains(v4) == reference.contains(v4)) }
        }
        var t = AddressSet()
        t.insert(IPAddress("192.0.2.1")!)
        t.formUnion(s)
        #expect(t.count == reference.count + 1 && t.contains(IPAddress("192.0.2.1")!) && reference.allSatisfy { t.contains($0) })
    }

    /// The filter lets few absent addresses through to the Set while it holds a few proxies.
    @Test func theFilterSparesMostLookups() {
        var rng = SplitMix(state: 12)
        var s = AddressSet()
        for _ in 0..<4 { s.insert(Self.address(&rng)) }
        var passed = 0
        for _ in 0..<10_000 where s.mayContain(Self.address(&rng)) { passed += 1 }
        #expect(passed < 10_000 * 8 / 256)   // 4 bits of 256 set: about 1.6% expected
    }
}
