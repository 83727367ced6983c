// A set of addresses asked about at every flow's end (AggregatorBox.proxies: does this flow touch an
// address that accepted a proxy handshake?), with a 256-bit filter in front of the Set.
//
// Why: once a capture holds one proxy, every ended flow asked twice, and each Set lookup hashed
// the address with SipHash: 1.6% of a run's instructions on the benchmark capture (callgrind, issue 6).
// The filter answers "no" for almost every address of a capture with a few proxies, from one word.
import PacketDecode

struct AddressSet {
    private var members: Set<IPAddress> = []
    private var filter: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    var isEmpty: Bool { members.isEmpty }
    var count: Int { members.count }

    /// A bit of the filter per address (0...255): a multiplicative hash of its words, fixed (not
    /// seeded: the filter only saves lookups, its answers are checked by the Set).
    @inline(__always) private static func bit(_ a: IPAddress) -> Int {
        Int(truncatingIfNeeded: ((((a.hi &* 0x9E37_79B9_7F4A_7C15) ^ a.lo) &* 0xBF58_476D_1CE4_E5B9) >> 56))
    }

    @inline(__always) private func mayContain(_ a: IPAddress) -> Bool {
        let b = Self.bit(a)
        let word: UInt64
        switch b >> 6 {
        case 0: word = filter.0
        case 1: word = filter.1
        case 2: word = filter.2
        default: word = filter.3
        }
        return word & (1 << UInt64(b & 63)) != 0
    }

    func contains(_ a: IPAddress) -> Bool { mayContain(a) && members.contains(a) }

    func mayContainForTests(_ a: IPAddress) -> Bool { mayContain(a) }

    mutating func insert(_ a: IPAddress) {
        let b = Self.bit(a), m: UInt64 = 1 << UInt64(b & 63)
        switch b >> 6 {
        case 0: filter.0 |= m
        case 1: filter.1 |= m
        case 2: filter.2 |= m
        default: filter.3 |= m
        }
        members.insert(a)
    }

    mutating func formUnion(_ other: AddressSet) {
        for a in other.members { insert(a) }
    }
}
