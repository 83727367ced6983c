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

    /// Drops the pages before `offset` from the process's resident set (madvise MADV_DONTNEED), so
    /// that resident memory does not grow with the capture's size (issue 6). A private mapping
    /// that is never written holds only page-cache pages: touched again, they are read back from
    /// the file, so views into the released range stay valid.
    /// `from`: where an earlier call stopped (its pages are released already).
    public func releasePages(from start: Int = 0, before offset: Int) {
        guard let base = bytes.baseAddress else { return }
        let first = max(0, start) / Self.pageSize * Self.pageSize
        let end = min(offset, bytes.count) / Self.pageSize * Self.pageSize
        if end > first { _ = madvise(UnsafeMutableRawPointer(mutating: base + first), end - first, MADV_DONTNEED) }
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// Releases the pages well behind a sequential reading position (`releasePages`), so that resident
/// memory stays flat whatever the capture's size: about twice `lag` bytes of the capture behind the
/// reading position are resident, plus what other threads still read (`stillNeeded`).
struct ResidentWindow {
    /// Pages kept resident behind the reading position, released in steps of this size.
    let lag: Int
    /// The lowest offset other threads still read (CaptureReader.stillNeeded).
    let stillNeeded: (() -> Int?)?
    /// Releases [from, before) (MappedFile.releasePages; a recorder in tests).
    let release: (_ from: Int, _ before: Int) -> Void
    private(set) var released = 0
    private var nextRelease: Int

    init(lag: Int, stillNeeded: (() -> Int?)? = nil, release: @escaping (_ from: Int, _ before: Int) -> Void) {
        self.lag = max(lag, MappedFile.pageSize); self.stillNeeded = stillNeeded; self.release = release
        nextRelease = 2 * self.lag
    }

    init(_ file: MappedFile, lag: Int, stillNeeded: (() -> Int?)? = nil) {
        self.init(lag: lag, stillNeeded: stillNeeded) { file.releasePages(from: $0, before: $1) }
    }

    @inline(__always) mutating func reading(at offset: Int) {
        if offset >= nextRelease { release(before: offset) }
    }

    private mutating func release(before offset: Int) {
        nextRelease = offset + lag
        let end = min(offset - lag, stillNeeded?() ?? Int.max)
        guard end > released else { return }
        release(released, end)
        released = end
    }
}
