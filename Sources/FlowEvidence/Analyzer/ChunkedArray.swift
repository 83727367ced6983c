// An append-only array stored in fixed-size chunks, for records kept from every ended flow until the
// end of the run (ProxyAttribution.legs, FlowFinalizer.legRows). A doubling array holds up to twice
// its elements' bytes, and while it grows it holds its old and new buffers at once: in a long run
// that transient is where the peak memory is (issue 6, "peak RSS does not grow with the capture's
// size"). Chunks are never copied or moved once full; the slack is at most one chunk.

struct ChunkedArray<Element>: RandomAccessCollection, MutableCollection {
    /// Elements per chunk: 2^10 (at 80 bytes an element, an 80 KB chunk).
    static var chunkShift: Int { 10 }
    static var chunkSize: Int { 1 << chunkShift }

    private var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < count, "ChunkedArray index out of range")
            return chunks[i >> Self.chunkShift][i & (Self.chunkSize - 1)]
        }
        set {
            precondition(i >= 0 && i < count, "ChunkedArray index out of range")
            chunks[i >> Self.chunkShift][i & (Self.chunkSize - 1)] = newValue
        }
    }

    mutating func append(_ e: Element) {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(e)
        count += 1
    }

    mutating func append<S: Sequence>(contentsOf s: S) where S.Element == Element {
        for e in s { append(e) }
    }

    static func += <S: Sequence>(a: inout ChunkedArray, s: S) where S.Element == Element { a.append(contentsOf: s) }
}
