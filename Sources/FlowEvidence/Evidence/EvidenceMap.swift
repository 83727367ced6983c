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
    /// The flow table's hash index (FlowIndex: a 32-bit tag and an index in 8 bytes a bucket, at most
    /// half full), from the key's hash to its entry's index.
    private var index = FlowIndex(expected: 0)
    /// The keys' hash: Hasher's (seeded per process); tests give a colliding one.
    private let hash: (EvidenceKey) -> UInt32

    init(hash: @escaping (EvidenceKey) -> UInt32 = EvidenceMap.defaultHash) { self.hash = hash }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The accumulator of `key`. Setting stores one (a new key, or a new accumulator for a known
    /// key); setting nil is not supported (entries are not removed one by one).
    subscript(key: EvidenceKey) -> EvidenceAccumulator? {
        get { find(key, hash: hash(key)).map { entries[$0].value } }
        set {
            guard let newValue else { preconditionFailure("EvidenceMap: entries are removed all at once (removeAll)") }
            let h = hash(key)
            if let i = find(key, hash: h) { entries[i].value = newValue; return }
            index.insert(tag: h, slot: entries.count)
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

    private func find(_ key: EvidenceKey, hash h: UInt32) -> Int? {
        index.find(tag: h) { entries[$0].key == key }
    }
}
