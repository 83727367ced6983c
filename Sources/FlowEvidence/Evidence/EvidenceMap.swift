// The evidence accumulators by key (EvidenceTable.entries): a Dictionary's job, in about half its
// memory, because the table lives until the end of the run and grows with what the run finds
// (issue 6: peak memory must not grow with the capture's size).
//
// Why not Dictionary<EvidenceKey, EvidenceAccumulator>: its buckets hold the 96-byte key and the
// reference, at most 3/4 full and doubled when they fill, so 1,900 rows took 4,096 buckets of 104
// bytes (426 KB), and a doubling held the old and the new storage at once. Here the keys and
// accumulators are appended to fixed chunks (ChunkedArray: never moved, at most one chunk of slack)
// and the hash index holds 8 bytes a bucket: the 1,900 rows take 213 KB of entries and 32 KB of
// index, and a doubling copies only the index.
//
// Iteration is in insertion order (Dictionary's is random): callers sort keys or use
// order-independent results either way. Entries are never removed, only all at once (`removeAll`).

struct EvidenceMap: Sequence {
    struct Entry {
        let key: EvidenceKey
        var value: EvidenceAccumulator
    }

    private var entries = ChunkedArray<Entry>()
    /// Open addressing with linear probing, at most half full: the key's hash (its low 32 bits,
    /// which also pick the first bucket) in the high half, entry index + 1 in the low half; 0 is empty.
    private var buckets: [UInt64] = []
    /// The keys' hash: Hasher's (seeded per process); tests give a colliding one.
    private let hash: (EvidenceKey) -> UInt32

    init(hash: @escaping (EvidenceKey) -> UInt32 = EvidenceMap.defaultHash) { self.hash = hash }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The accumulator of `key`. Setting stores one (a new key, or a new accumulator for a known
    /// key); setting nil is not supported (entries are not removed one by one).
    subscript(key: EvidenceKey) -> EvidenceAccumulator? {
        get {
            let h = hash(key)
            return index(of: key, hash: h).map { entries[$0].value }
        }
        set {
            guard let newValue else { preconditionFailure("EvidenceMap: entries are removed all at once (removeAll)") }
            let h = hash(key)
            if let i = index(of: key, hash: h) { entries[i].value = newValue; return }
            if (entries.count + 1) * 2 > buckets.count { growIndex() }
            place(hash: h, entry: entries.count)
            entries.append(Entry(key: key, value: newValue))
        }
    }

    var keys: LazyMapSequence<ChunkedArray<Entry>, EvidenceKey> { entries.lazy.map { $0.key } }

    mutating func removeAll() { self = EvidenceMap(hash: hash) }

    func makeIterator() -> AnyIterator<(key: EvidenceKey, value: EvidenceAccumulator)> {
        var i = 0
        let entries = entries
        return AnyIterator {
            guard i < entries.count else { return nil }
            defer { i += 1 }
            return (entries[i].key, entries[i].value)
        }
    }

    static func defaultHash(_ key: EvidenceKey) -> UInt32 {
        var hasher = Hasher()
        key.hash(into: &hasher)
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    private func index(of key: EvidenceKey, hash h: UInt32) -> Int? {
        guard !buckets.isEmpty else { return nil }
        let mask = buckets.count - 1
        var b = Int(h) & mask
        while true {
            let e = buckets[b]
            if e == 0 { return nil }
            if UInt32(truncatingIfNeeded: e >> 32) == h, entries[Int(e & 0xFFFF_FFFF) - 1].key == key { return Int(e & 0xFFFF_FFFF) - 1 }
            b = (b + 1) & mask
        }
    }

    private mutating func place(hash h: UInt32, entry: Int) {
        let mask = buckets.count - 1
        var b = Int(h) & mask
        while buckets[b] != 0 { b = (b + 1) & mask }
        buckets[b] = UInt64(h) << 32 | UInt64(entry + 1)
    }

    private mutating func growIndex() {
        let old = buckets
        buckets = [UInt64](repeating: 0, count: Swift.max(16, old.count * 2))
        for e in old where e != 0 { place(hash: UInt32(truncatingIfNeeded: e >> 32), entry: Int(e & 0xFFFF_FFFF) - 1) }
    }
}
