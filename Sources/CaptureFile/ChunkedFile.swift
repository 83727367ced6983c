// Uncompressed regular files: read(2) in 512 KiB chunks into a few reused buffers that records are
// views into (issue 6). Bytes are copied once per chunk by the kernel, never per record.
//
// Why not mmap(2), which this reader used before: on the 2 GB benchmark capture, one thread ran
// 15-20% faster this way (interleaved runs, docs/performance-log.md). A mapped file's pages are
// first touched by the parser: a page fault per 64 KB, a TLB miss and a cache miss from DRAM per
// record header (80% of the pcap parser's time was that one load). The kernel's copy streams the
// page cache through its own large-page mapping into buffers that stay in cache and TLB. With two
// threads, buffers of 256 KiB to 512 KiB (and hand-off batches of 512 to 1,024 packets) ran 10%
// faster than 2 MiB buffers and 4,096-packet batches: what the worker reads is still in cache.
//
// The buffers and the read loop are ReadBuffers.swift's (shared with streams): with threads that
// read records after the reader (`LaggingReaders`), a buffer is refilled only once they are done.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file read at offsets (pread: no shared file position).
final class ChunkedFile {
    static let defaultChunkSize = 512 << 10
    /// Bytes per buffer (smaller in tests, so that records cross buffer boundaries often).
    var chunkSize = ChunkedFile.defaultChunkSize

    let fd: Int32

    init(fd: Int32) {
        self.fd = fd
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)   // larger kernel read-ahead
        #endif
    }

    deinit { close(fd) }

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
}
