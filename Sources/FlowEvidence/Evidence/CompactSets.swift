// Small sets for evidence accumulators, which live until the end of the run: one per (address,
// infohash, day), so their number grows with the capture (issue 6: peak RSS must not). Most hold a
// few flows, peers and pieces, and a few signals; Swift's Set spends about 90 bytes of storage on one
// element, a sorted array about 40.

/// A set kept as a sorted array while it has at most `smallLimit` elements, as a Set beyond (so that
/// inserting stays O(1) in rows with thousands of flows or pieces). Iteration order is not defined
/// (like Set's): callers count, test membership, or use order-independent results.
struct CompactSet<Element: Hashable & Comparable>: Sequence {
    /// Beyond this many elements a sorted array's insertion moves too much; 32 elements of 24 bytes
    /// (an IPAddress) are still half a Set's storage.
    static var smallLimit: Int { 32 }

    /// Sorted, distinct; empty once `large` is used.
    private var small: [Element] = []
    private var large: Set<Element> = []

    init() {}

    var count: Int { small.count + large.count }
    var isEmpty: Bool { small.isEmpty && large.isEmpty }

    func contains(_ e: Element) -> Bool {
        guard large.isEmpty else { return large.contains(e) }
        let i = insertionIndex(e)
        return i < small.count && small[i] == e
    }

    mutating func insert(_ e: Element) {
        guard large.isEmpty else { large.insert(e); return }
        if let last = small.last, last < e {   // in order (piece indexes, flow ids): no search
            small.append(e)
        } else {
            let i = insertionIndex(e)
            if i < small.count, small[i] == e { return }
            small.insert(e, at: i)
        }
        if small.count > Self.smallLimit {
            large = Set(small)
            small = []
        }
    }

    mutating func formUnion(_ other: CompactSet) {
        for e in other { insert(e) }
    }

    /// The first index whose element is not below `e`.
    private func insertionIndex(_ e: Element) -> Int {
        var lo = 0, hi = small.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if small[mid] < e { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    struct Iterator: IteratorProtocol {
        fileprivate var small: IndexingIterator<[Element]>
        fileprivate var large: Set<Element>.Iterator
        mutating func next() -> Element? { small.next() ?? large.next() }
    }

    func makeIterator() -> Iterator { Iterator(small: small.makeIterator(), large: large.makeIterator()) }

    /// The elements, sorted.
    func sorted() -> [Element] { large.isEmpty ? small : large.sorted() }
}

/// The `Signal`s of a row as bits: two bytes in the accumulator instead of a Set's storage.
struct SignalSet: Equatable {
    private var bits: UInt16 = 0

    init() {}

    mutating func insert(_ s: Signal) { bits |= Self.bit(s) }
    mutating func formUnion(_ o: SignalSet) { bits |= o.bits }
    func contains(_ s: Signal) -> Bool { bits & Self.bit(s) != 0 }

    /// As the row's `signals`.
    var set: Set<Signal> { Set(Signal.allCases.filter(contains)) }

    /// One bit per case (Signal has 11; SignalSetTests checks that each has its own bit).
    static func bit(_ s: Signal) -> UInt16 {
        switch s {
        case .handshake: 1 << 0
        case .piece: 1 << 1
        case .utp: 1 << 2
        case .extended: 1 << 3
        case .metadata: 1 << 4
        case .pex: 1 << 5
        case .dhtAnnounce: 1 << 6
        case .dhtGetPeers: 1 << 7
        case .trackerHTTP: 1 << 8
        case .trackerUDP: 1 << 9
        case .lsd: 1 << 10
        }
    }
}

/// Votes per client name (EvidenceAccumulator.client): a short array while few names were seen (most
/// rows see one or two: a dictionary's storage for one entry is twice the array's), a dictionary
/// beyond `smallLimit` names (so that adding stays O(1) whatever a capture sends).
struct VoteCounts {
    static var smallLimit: Int { 8 }

    private var small: [(name: String, votes: Int)] = []
    private var large: [String: Int] = [:]

    init() {}

    var isEmpty: Bool { small.isEmpty && large.isEmpty }

    mutating func add(_ name: String, votes n: Int = 1) {
        guard large.isEmpty else { large[name, default: 0] += n; return }
        if let i = small.firstIndex(where: { $0.name == name }) {
            small[i].votes += n
            return
        }
        small.append((name, n))
        if small.count > Self.smallLimit {
            for (k, v) in small { large[k, default: 0] += v }
            small = []
        }
    }

    mutating func add(_ other: VoteCounts) {
        for (k, v) in other.small { add(k, votes: v) }
        for (k, v) in other.large { add(k, votes: v) }
    }

    /// The name with the most votes (ties: the smallest name); nil when none.
    var winner: String? {
        func better(_ a: (String, Int), _ b: (String, Int)) -> Bool { a.1 != b.1 ? a.1 > b.1 : a.0 < b.0 }
        var best: (String, Int)?
        for e in small where best.map({ better(e, $0) }) ?? true { best = e }
        for e in large where best.map({ better(e, $0) }) ?? true { best = e }
        return best?.0
    }
}
