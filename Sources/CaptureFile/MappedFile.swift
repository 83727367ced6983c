// A read-only memory mapping of a whole file (mmap(2), madvise(2) MADV_SEQUENTIAL): the zero-copy
// source for uncompressed captures (DESIGN.md rule 1). Records are views into this mapping.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class MappedFile {
    public let bytes: UnsafeRawBufferPointer

    /// Maps `fd` (size `size` > 0) read-only. Returns nil when mmap fails (e.g. a FIFO).
    public init?(fd: Int32, size: Int) {
        guard size > 0 else { return nil }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { return nil }
        _ = madvise(p, size, MADV_SEQUENTIAL)
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// Pages kept resident behind the reading position: records handed to other threads (the
    /// pipeline's workers lag the reader by a few batches) are read from memory, not faulted back.
    public static let residentLag = 64 << 20

    /// Drops the pages before `offset` from the process's resident set (madvise MADV_DONTNEED), so
    /// that resident memory does not grow with the capture's size (issue 6). A private mapping
    /// that is never written holds only page-cache pages: touched again, they are read back from
    /// the file, so views into the released range stay valid.
    public func releasePages(before offset: Int) {
        guard let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = min(offset, bytes.count) / page * page
        if end > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base), end, MADV_DONTNEED) }
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
