// The flow table's records, by slot, in chunks of 256 allocated as slots are first used, never moved.
//
// Why chunks, not one array doubled as it fills: a doubled array holds up to twice the records the
// busiest moment needed, and a run with threads has 8 tables per thread (16 when this was
// measured), each doubling on its own (issue 6: the benchmark's record capacity was 2x its 66,675
// peak live flows, 14.7 MB, and grew with the capture as tables crossed powers of two); growing
// also copied every record. A chunk is 28 KB
// (7 pages), mapped from the kernel rather than taken from malloc, so that the table gives its memory
// back when it is released instead of leaving holes in malloc's heap (with malloc, a million live
// flows peaked 13 MB higher in RSS though 17 MB lower in heap). Finding a record costs one more load,
// from a small table of chunk pointers that stays in cache.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct FlowRecords<Context> {
    static var chunkShift: Int { 8 }
    static var chunkSize: Int { 1 << chunkShift }
    private var chunks: UnsafeMutablePointer<UnsafeMutablePointer<Flow<Context>>>
    private var chunkCapacity: Int
    /// Chunks allocated: slots below `chunkCount * chunkSize` have memory.
    private(set) var chunkCount = 0

    init() {
        chunkCapacity = 4
        chunks = .allocate(capacity: chunkCapacity)
    }

    /// The record memory of slot `s` (initialised or not: the table knows which slots are occupied).
    @inline(__always) func pointer(_ s: Int) -> UnsafeMutablePointer<Flow<Context>> {
        chunks[s &>> Self.chunkShift] + (s & (Self.chunkSize - 1))
    }

    /// The record in slot `s`, read and changed in place (no copy of the record).
    @inline(__always) subscript(s: Int) -> Flow<Context> {
        unsafeAddress { UnsafePointer(pointer(s)) }
        nonmutating unsafeMutableAddress { pointer(s) }
    }

    /// Makes sure slot `s` has memory (slots are handed out in order, so at most one chunk is added).
    mutating func reserve(slot s: Int) {
        while s >= chunkCount << Self.chunkShift {
            if chunkCount == chunkCapacity {
                let bigger = UnsafeMutablePointer<UnsafeMutablePointer<Flow<Context>>>.allocate(capacity: chunkCapacity * 2)
                bigger.moveInitialize(from: chunks, count: chunkCount)
                chunks.deallocate()
                chunks = bigger
                chunkCapacity *= 2
            }
            (chunks + chunkCount).initialize(to: Self.mapChunk())
            chunkCount += 1
        }
    }

    /// Frees the memory; every record must have been deinitialised (or moved out) first.
    func deallocate() {
        for c in 0..<chunkCount { munmap(UnsafeMutableRawPointer(chunks[c]), Self.chunkBytes) }
        chunks.deallocate()
    }

    private static var chunkBytes: Int { MemoryLayout<Flow<Context>>.stride * chunkSize }

    private static func mapChunk() -> UnsafeMutablePointer<Flow<Context>> {
        precondition(MemoryLayout<Flow<Context>>.alignment <= 4096)
        guard let p = mmap(nil, chunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            fatalError("FlowRecords: out of memory for \(chunkBytes) bytes of flow records")
        }
        return p.bindMemory(to: Flow<Context>.self, capacity: chunkSize)
    }
}
