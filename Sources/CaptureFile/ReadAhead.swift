// Decompression on its own thread, ahead of the parser (issue 6: a gzip capture is read within 1.2x
// of `zcat` only when inflating overlaps with the analysis instead of alternating with it). The
// producer fills a small ring of chunks from the StreamSource; the consumer copies bytes out of
// them (memcpy is an order of magnitude faster than inflate). Semaphores order every hand-over, and
// `stop` joins the producer, after which the StreamSource (failure, hash) is the caller's again.
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ReadAhead: @unchecked Sendable {
    static let chunkSize = 1 << 20
    static let chunkCount = 4

    private let source: StreamSource
    private let chunks: UnsafeMutableRawPointer
    /// Bytes in each chunk; 0 marks the end of the stream.
    private let lengths: UnsafeMutablePointer<Int>
    private let filled = DispatchSemaphore(value: 0)
    private let empty = DispatchSemaphore(value: ReadAhead.chunkCount)
    private let producerDone = DispatchSemaphore(value: 0)
    /// Set by `stop` before it wakes the producer: no more chunks are wanted.
    private var cancelled = false
    // Consumer side.
    private var current = 0, offset = 0, holding = false, ended = false, joined = false

    init(_ source: StreamSource) {
        self.source = source
        chunks = .allocate(byteCount: Self.chunkSize * Self.chunkCount, alignment: 16)
        lengths = .allocate(capacity: Self.chunkCount)
        lengths.initialize(repeating: 0, count: Self.chunkCount)
        let thread = Thread { [self] in produce() }
        thread.start()
    }

    deinit {
        stop()
        chunks.deallocate()
        lengths.deallocate()
    }

    private func produce() {
        var i = 0
        while true {
            empty.wait()
            if cancelled { break }
            let base = chunks + i * Self.chunkSize
            var n = 0
            while n < Self.chunkSize {
                let got = source.read(into: base + n, count: Self.chunkSize - n)
                if got == 0 { break }
                n += got
            }
            lengths[i] = n
            filled.signal()
            if n == 0 { break }
            i = (i + 1) % Self.chunkCount
        }
        producerDone.signal()
    }

    /// Up to `count` decompressed bytes; 0 at the end of the stream (or after a failure).
    func read(into dst: UnsafeMutableRawPointer, count: Int) -> Int {
        guard !ended, count > 0 else { return 0 }
        if !holding { filled.wait(); holding = true }
        let length = lengths[current]
        if length == 0 { ended = true; return 0 }
        let n = min(count, length - offset)
        dst.copyMemory(from: chunks + current * Self.chunkSize + offset, byteCount: n)
        offset += n
        if offset == length {
            offset = 0
            holding = false
            current = (current + 1) % Self.chunkCount
            empty.signal()
        }
        return n
    }

    /// Stops the producer (if the consumer stopped early) and waits for it.
    func stop() {
        guard !joined else { return }
        joined = true
        cancelled = true
        for _ in 0..<Self.chunkCount { empty.signal() }
        producerDone.wait()
    }
}

/// A thread without Foundation: one pthread running `body`.
private final class Thread: @unchecked Sendable {
    private let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
    func start() {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var id = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&id, &attributes, { raw in
            let t = Unmanaged<Thread>.fromOpaque(raw!).takeRetainedValue()
            t.body()
            return nil
        }, box)
        pthread_attr_destroy(&attributes)
    }
}
