// A set of addresses asked about at every flow's end (AggregatorBox.proxies: does this flow touch an
// address that accepted a proxy handshake?), with a 256-bit filter in front of the Set.
//
// Why: once a capture holds one proxy, every ended flow asked twice, and each Set lookup hashed
// the address with SipHash: 1.6% of a run's instructions on the benchmark capture (callgrind, issue 6).
// The filter answers "no" for almost every address of a capture with a few proxies, from one word.
import PacketDecode

struct AddressSet {
    private var members: Set<IPAddress> = []
    private var filter = SIMD4<UInt64>()

    init() {}

    var isEmpty: Bool { members.isEmpty }
    var count: Int { members.count }

    /// A bit of the filter per address (0...255): a multiplicative hash of its words, fixed (not
    /// seeded: the filter only saves lookups, its answers are checked by the Set).
    @inline(__always) private static func bit(_ a: IPAddress) -> (word: Int, mask: UInt64) {
        let b = Int(truncatingIfNeeded: ((((a.hi &* 0x9E37_79B9_7F4A_7C15) ^ a.lo) &* 0xBF58_476D_1CE4_E5B9) >> 56))
        return (b >> 6, 1 << UInt64(b & 63))
    }

    /// Whether the filter lets `a` through to the Set (internal for the test of its rate).
    @inline(__always) func mayContain(_ a: IPAddress) -> Bool {
        let (w, m) = Self.bit(a)
        return filter[w] & m != 0
    }

    func contains(_ a: IPAddress) -> Bool { mayContain(a) && members.contains(a) }

    mutating func insert(_ a: IPAddress) {
        let (w, m) = Self.bit(a)
        filter[w] |= m
        members.insert(a)
    }

    mutating func formUnion(_ other: AddressSet) {
        for a in other.members { insert(a) }
    }
}
