// Uncompressed regular files: read(2) in 512 KiB chunks into a few reused buffers that records are
// views into (issue 6). Bytes are copied once per chunk by the kernel, never per record.
//
// Why not mmap(2), which this reader used before: on the 2 GB benchmark capture, one thread ran
// 15-20% faster this way (interleaved runs, README "Performance"). A mapped file's pages are
// first touched by the parser: a page fault per 64 KB, a TLB miss and a cache miss from DRAM per
// record header (80% of the pcap parser's time was that one load). The kernel's copy streams the
// page cache through its own large-page mapping into buffers that stay in cache and TLB. With two
// threads, buffers of 256 KiB to 512 KiB (and hand-off batches of 512 to 1,024 packets) ran 10%
// faster than 2 MiB buffers and 4,096-packet batches: what the worker reads is still in cache.
//
// Other threads may read records after the reader has moved on (the pipeline's workers): a chunk
// is refilled only when none of them needs records in it any more (`LaggingReaders`). A file read
// by one thread uses one buffer: the partial record at its end moves to its front.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What other threads still read, so that a chunk's records stay valid for them.
public struct LaggingReaders {
    /// The lowest file offset of a record not processed yet, nil when none is pending.
    public var oldestNeeded: () -> Int?
    /// Blocks until no record before `offset` is pending (the caller first hands out what it holds).
    public var waitUntilDone: (_ offset: Int) -> Void
    public init(oldestNeeded: @escaping () -> Int?, waitUntilDone: @escaping (_ offset: Int) -> Void) {
        self.oldestNeeded = oldestNeeded; self.waitUntilDone = waitUntilDone
    }
}

final class ChunkedFile {
    static let defaultChunkSize = 512 << 10
    /// Bytes per buffer (smaller in tests, so that records cross buffer boundaries often).
    var chunkSize = ChunkedFile.defaultChunkSize
    /// Buffers when other threads read behind the reader: they lag by a few hand-off batches
    /// (4 of 1,024 records, about 1.5 MB on the benchmark's mix); more buffers mean fewer waits.
    static let chunksWithLaggingReaders = 8

    static let alignment = 4096

    let fd: Int32
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    /// For each buffer, the end of the file range whose records were delivered from it.
    private var delivered: [Int] = []

    init(fd: Int32) {
        self.fd = fd
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)   // larger kernel read-ahead
        #endif
    }

    deinit {
        releaseBuffers()
        close(fd)
    }

    /// Reads at `offset` until `count` bytes or the end of the file; nil after a read error (errno).
    func read(into p: UnsafeMutableRawPointer, count: Int, at offset: Int) -> Int? {
        var done = 0
        while done < count {
            let n = pread(fd, p + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Buffer `i` (allocated on first use), at least `size` bytes, keeping its first `keep` bytes.
    func buffer(_ i: Int, size: Int, keeping keep: Int = 0) -> UnsafeMutableRawBufferPointer {
        while buffers.count <= i {
            buffers.append(.allocate(byteCount: chunkSize, alignment: Self.alignment))
            delivered.append(0)
        }
        if buffers[i].count < size {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: Self.alignment)
            if keep > 0 { bigger.baseAddress!.copyMemory(from: buffers[i].baseAddress!, byteCount: keep) }
            buffers[i].deallocate()
            buffers[i] = bigger
        }
        return buffers[i]
    }

    func deliveredEnd(_ i: Int) -> Int { i < delivered.count ? delivered[i] : 0 }
    func setDeliveredEnd(_ i: Int, _ end: Int) { delivered[i] = end }

    func releaseBuffers() {
        for b in buffers { b.deallocate() }
        buffers = []
        delivered = []
    }
}
