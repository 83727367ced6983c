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

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
