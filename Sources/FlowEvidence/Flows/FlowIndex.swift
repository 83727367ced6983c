// The flow table's hash index: FlowKey -> record slot, open addressing with linear probing and
// backward-shift deletion (no tombstones, so lookups never slow down as flows come and go).
// EvidenceMap indexes its entries with it too, by tags of its own hash (`hash` is for flow keys).
//
// Why not Dictionary<FlowKey, ...>: SipHash over a 45-byte key plus Dictionary's generic probing cost
// more than the rest of the per-packet work (perf, issue 6). Each bucket packs a 32-bit hash tag with
// the slot, so a probe compares tags before it touches a record (one cache miss per lookup, not one
// per probe). The hash is seeded per table from the system's random source: a crafted capture cannot
// aim for collisions, and no output depends on it (nothing iterates the index).
import PacketDecode
import CPrefetch

struct FlowIndex {
    /// Bucket: tag (high 32 bits) and slot + 1 (low 32 bits); 0 is empty.
    private var buckets: [UInt64]
    private var mask: Int
    private(set) var count = 0
    private let seed: UInt64

    init(expected: Int = 1024) {
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        buckets = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        var rng = SystemRandomNumberGenerator()
        seed = rng.next()
    }

    /// The key's hash, whose low 32 bits are the bucket tag.
    @inline(__always) func hash(_ k: FlowKey) -> UInt32 {
        if !k.a.isV6 && !k.b.isV6 {
            return hashIPv4(a: UInt32(truncatingIfNeeded: k.a.lo), aPort: k.aPort, b: UInt32(truncatingIfNeeded: k.b.lo), bPort: k.bPort, proto: k.proto)
        }
        var h = Self.mix(seed, k.a.lo)
        h = Self.mix(h, k.a.hi)
        h = Self.mix(h, k.b.lo)
        h = Self.mix(h, k.b.hi)
        h = Self.mix(h, UInt64(k.aPort) << 32 | UInt64(k.bPort) << 16 | UInt64(k.proto) << 8 | 1)
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }

    /// `hash` of an IPv4 key (endpoint `a` first): both addresses in one word, two rounds, not five.
    /// Apart so that a prefetch hint (FlowTable.prefetchBucket) hashes without building the key.
    @inline(__always) func hashIPv4(a: UInt32, aPort: UInt16, b: UInt32, bPort: UInt16, proto: UInt8) -> UInt32 {
        var h = Self.mix(seed, UInt64(a) << 32 | UInt64(b))
        h = Self.mix(h, UInt64(aPort) << 32 | UInt64(bPort) << 16 | UInt64(proto) << 8)
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }

    @inline(__always) private static func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
        let m = (h ^ v).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return m.high ^ m.low
    }

    /// The slot whose key hashed to `tag` and for which `isKey` (does that slot's record hold the key
    /// looked for?) is true.
    @inline(__always) func find(tag: UInt32, isKey: (Int) -> Bool) -> Int? {
        var i = Int(tag) & mask
        while true {
            let b = buckets[i]
            if b == 0 { return nil }
            if UInt32(truncatingIfNeeded: b >> 32) == tag, isKey(Int(b & 0xFFFF_FFFF) - 1) { return Int(b & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
    }

    /// Asks for the bucket where a lookup of `tag` starts (FlowTable.prefetchBucket).
    @inline(__always) func prefetchBucket(tag: UInt32) {
        // The address only (a prefetch never faults): withUnsafeBufferPointer retained and released
        // the array on every call: two runtime calls a packet.
        if let base = buckets._baseAddressIfContiguous { torscan_prefetch(base + (Int(tag) & mask)) }
    }

    /// The slot of the first entry tagged `tag` in the bucket a lookup starts from or the next one,
    /// if any: where the record a lookup of `tag` will want most likely is (FlowTable.prefetchRecord).
    @inline(__always) func likelySlot(tag: UInt32) -> Int? {
        let i = Int(tag) & mask
        var b = buckets[i]
        if UInt32(truncatingIfNeeded: b >> 32) != tag {
            b = buckets[(i + 1) & mask]
            guard UInt32(truncatingIfNeeded: b >> 32) == tag else { return nil }
        }
        return b == 0 ? nil : Int(b & 0xFFFF_FFFF) - 1
    }

    mutating func insert(tag: UInt32, slot: Int) {
        if (count + 1) * 2 > buckets.count { grow() }
        place(UInt64(tag) << 32 | UInt64(slot + 1))
        count += 1
    }

    private mutating func place(_ entry: UInt64) {
        var i = Int(entry >> 32) & mask
        while buckets[i] != 0 { i = (i + 1) & mask }
        buckets[i] = entry
    }

    /// Removes the bucket holding `slot` (its key hashed to `tag`).
    mutating func remove(tag: UInt32, slot: Int) {
        let entry = UInt64(tag) << 32 | UInt64(slot + 1)
        var i = Int(tag) & mask
        while buckets[i] != entry {
            precondition(buckets[i] != 0, "FlowIndex: removing a slot that is not indexed")
            i = (i + 1) & mask
        }
        // Backward shift: move later entries of the probe run into the hole when their home allows it.
        var hole = i
        var j = (i + 1) & mask
        while buckets[j] != 0 {
            let home = Int(buckets[j] >> 32) & mask
            // The entry at j may fill the hole when its home is not cyclically within (hole, j].
            let distanceToJ = (j - home) & mask, distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToJ {
                buckets[hole] = buckets[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        buckets[hole] = 0
        count -= 1
    }

    private mutating func grow() {
        let old = buckets
        buckets = [UInt64](repeating: 0, count: old.count * 2)
        mask = buckets.count - 1
        for e in old where e != 0 { place(e) }
    }
}
