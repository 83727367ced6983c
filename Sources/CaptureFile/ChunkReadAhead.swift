// The next chunk of a regular file, read before the parser needs it by a thread that has nothing
// else to do (issue 6). With `--threads 2` the reader parses and decodes every packet and is the
// run's bottleneck, and the kernel's copy of each chunk into its buffer (pread) was a quarter of its
// time, while the worker waited for batches a fifth of its own (perf). So the reader posts the read
// of the chunk after the one it parses (ReadBuffers.parse); a worker that finishes a batch or waits
// for one performs it (`serve`); if none has claimed it when the reader reaches that chunk, the
// reader performs it itself, as it did before. One read is in flight at a time.
//
// Order: the reader writes a request, then publishes it (release); the thread that claims it
// (compare-and-exchange, acquire) reads the request, reads the file and publishes the result
// (release), which the reader then reads (acquire) with the bytes the kernel wrote.
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class ChunkReadAhead: @unchecked Sendable {
    private static let idle = 0, posted = 1, claimed = 2, done = 3
    private let state = Atomic<Int>(0)
    // The request: written by the reader while no read is in flight.
    private var file: ChunkedFile?
    private var destination: UnsafeMutableRawPointer?
    private var count = 0
    private var offset = 0
    // The result: written by the thread that performed the read, before `done`.
    private var result = 0
    private var readErrno: Int32 = 0
    /// The reader's own view: a request is in flight (posted, claimed or done, not yet taken).
    private var inFlight = false
    /// Reads performed by another thread, and by the reader itself (tests, and the note's numbers).
    private let servedByOthers = Atomic<Int>(0)
    public private(set) var servedByReader = 0
    public var served: (byOthers: Int, byReader: Int) { (servedByOthers.load(ordering: .relaxed), servedByReader) }

    public init() {}

    // MARK: Any thread but the reader

    /// Performs the posted read if no thread has claimed it yet; returns whether this call did.
    @discardableResult
    public func serve() -> Bool {
        guard state.load(ordering: .relaxed) == Self.posted,
              state.compareExchange(expected: Self.posted, desired: Self.claimed, ordering: .acquiring).exchanged
        else { return false }
        perform()
        servedByOthers.add(1, ordering: .relaxed)
        return true
    }

    // MARK: The reader

    /// The file read ahead from, until `detach`.
    func attach(_ f: ChunkedFile) {
        precondition(!inFlight)
        file = f
    }

    /// Waits for the read in flight, if any, and forgets it; then no file is attached.
    func detach() {
        settle()
        file = nil
    }

    /// Posts a read of `count` bytes at file offset `at` into `p`. Nothing may be in flight.
    func post(into p: UnsafeMutableRawPointer, count: Int, at: Int) {
        precondition(!inFlight && file != nil)
        destination = p
        self.count = count
        offset = at
        inFlight = true
        state.store(Self.posted, ordering: .releasing)
    }

    /// The bytes read (-1 after an error, errno set) if the read in flight is exactly this one;
    /// nil when none is (a read in flight for other bytes is waited for and forgotten).
    func take(into p: UnsafeMutableRawPointer, count: Int, at: Int) -> Int? {
        guard inFlight else { return nil }
        let matches = p == destination && count == self.count && at == offset
        let n = finish()
        guard matches else { return nil }
        if n < 0 { errno = readErrno }
        return n
    }

    /// Waits for the read in flight, if any, and forgets it (its buffer may be written again).
    func settle() {
        if inFlight { _ = finish() }
    }

    /// Claims the read if no other thread has (and performs it), else waits until it is done.
    private func finish() -> Int {
        if state.compareExchange(expected: Self.posted, desired: Self.claimed, ordering: .acquiring).exchanged {
            perform()
            servedByReader += 1
        } else {
            // Another thread is copying one chunk (tens of microseconds): spin, then let it have the
            // CPU if it shares this one (more threads than cores).
            var spins = 0
            while state.load(ordering: .acquiring) != Self.done {
                spins += 1
                if spins > 4096 { sched_yield() }
            }
        }
        inFlight = false
        state.store(Self.idle, ordering: .relaxed)
        return result
    }

    private func perform() {
        if let n = file!.read(into: destination!, count: count, at: offset) {
            result = n
        } else {
            result = -1
            readErrno = errno
        }
        state.store(Self.done, ordering: .releasing)
    }
}
