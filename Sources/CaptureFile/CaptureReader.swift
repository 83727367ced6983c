// Opens one capture (a path, or "-" for standard input) and reads its records in order.
// Uncompressed regular files are read in large chunks into reused buffers (ChunkedFile.swift says
// why not mmap); compressed files and pipes are streamed through a bounded buffer that carries a
// partial record over to the next read (DESIGN.md pipeline, stage 1).
import WireBytes
import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class CaptureReader {
    public let path: String
    public private(set) var format: CaptureFormat?
    public private(set) var compression: Compression = .none
    /// pcap: the file's byte order; pcapng: the first section's, or `.mixed`.
    public private(set) var byteOrder: ByteOrder = .little
    /// pcap: from the magic. pcapng: interface 0's (see `interfaces` for each); known after reading.
    public private(set) var timestampResolution: TimestampResolution = .microseconds
    /// pcap: the header's snap length. pcapng: interface 0's; known after reading.
    public private(set) var snapLength: Int = 0
    /// Every interface (pcap: one); for pcapng complete after `forEachRecord`.
    public private(set) var interfaces: [CaptureInterface] = []
    public var linkTypes: [LinkType] { interfaces.map(\.linkType) }
    /// True for an uncompressed regular file: its records can stay valid after `forEachRecord`'s
    /// body returns, for other threads that read them later (`laggingReaders`).
    public var supportsLaggingReaders: Bool { file != nil }
    /// Compute the SHA-256 of the file while reading (needed for streams, which cannot be re-read).
    public var computesSHA256 = false
    /// Other threads that read this file's records after the reader (the pipeline's workers, a few
    /// batches behind): records stay valid until they are done with them (the reader does not wait
    /// for them at the file's end; the buffers belong to the LaggingReaders, and the next file read
    /// with it goes on in them). Regular files only.
    public var laggingReaders: LaggingReaders?
    /// Lowercase hex SHA-256 of the file's bytes as stored (compressed if compressed), once known.
    public private(set) var sha256: String?

    private var file: ChunkedFile?
    /// The size of a regular file's read buffers (ChunkedFile.defaultChunkSize; tests make it small),
    /// at least 4 KiB. Set before reading.
    public var readChunkSize: Int {
        get { file?.chunkSize ?? 0 }
        set { file?.chunkSize = max(newValue, 4096) }
    }
    private var stream: StreamSource?
    /// Decompressed bytes read ahead while sniffing, handed to the first read.
    private var head: UnsafeMutableRawBufferPointer?
    private var headCount = 0
    private var consumed = false

    public init(path: String) throws(CaptureOpenError) {
        self.path = path
        if path == "-" {
            try openStream(fd: STDIN_FILENO, closesFD: false)
            return
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            let reason: CaptureOpenError.Reason = (errno == ENOENT || errno == ENOTDIR) ? .missing : .unreadable
            throw CaptureOpenError(path: path, reason: reason, detail: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw CaptureOpenError(path: path, reason: .directory) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CaptureOpenError(path: path, reason: .unreadable, detail: String(cString: strerror(errno))) }
        let isRegular = (st.st_mode & S_IFMT) == S_IFREG
        if isRegular && st.st_size == 0 { close(fd); throw CaptureOpenError(path: path, reason: .empty) }
        var magic: UInt32 = 0
        let n = isRegular ? pread(fd, &magic, 4, 0) : 0
        let compressed = withUnsafeBytes(of: &magic) { FormatSniffer.compression(of: UnsafeRawBufferPointer(rebasing: $0[0..<max(0, n)])) } != .none
        if isRegular && !compressed {
            let f = ChunkedFile(fd: fd)   // closes fd when released
            file = f
            let head = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
            defer { head.deallocate() }
            let n = f.read(into: head.baseAddress!, count: head.count, at: 0) ?? 0
            try sniff(UnsafeRawBufferPointer(rebasing: head[0..<n]))
        } else {
            try openStream(fd: fd, closesFD: true)
        }
    }

    deinit { head?.deallocate() }

    private func openStream(fd: Int32, closesFD: Bool) throws(CaptureOpenError) {
        let s = StreamSource(fd: fd, closesFD: closesFD, hashing: path == "-")
        if s.isEmpty { throw CaptureOpenError(path: path, reason: .empty) }
        stream = s
        compression = s.compression
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: CaptureLimits.initialStreamBuffer, alignment: 16)
        head = buf
        // Enough decompressed bytes to tell the format and read a pcap header.
        while headCount < PcapParser.fileHeaderLength {
            let n = s.read(into: buf.baseAddress! + headCount, count: buf.count - headCount)
            if n == 0 { break }
            headCount += n
        }
        if headCount == 0 {
            let why = s.failure.map { "\($0.0.rawValue): \($0.1)" } ?? "no data after decompression"
            throw CaptureOpenError(path: path, reason: s.failure == nil ? .empty : .notACapture, detail: why)
        }
        try sniff(UnsafeRawBufferPointer(rebasing: buf[0..<headCount]))
    }

    private func sniff(_ b: UnsafeRawBufferPointer) throws(CaptureOpenError) {
        guard let f = FormatSniffer.format(of: b) else {
            let hex = b.slice(0, 4).hexString
            throw CaptureOpenError(path: path, reason: .notACapture, detail: "first bytes \(hex) are no pcap or pcapng magic")
        }
        format = f
        if f == .pcap {
            var p = PcapParser()
            if p.readFileHeader(b) {
                byteOrder = p.bigEndian ? .big : .little
                timestampResolution = p.resolution
                snapLength = p.snapLength
                interfaces = [CaptureInterface(linkType: p.linkType, snapLength: p.snapLength, resolution: p.resolution,
                                               timestampOffsetSeconds: 0, section: 0)]
            }
        } else {
            byteOrder = b.u32le(at: 8) == 0x4D3C_2B1A ? .big : .little
        }
    }

    /// Reads every record in order; `body` returns false to stop early. Never throws: damage
    /// becomes anomalies and damage messages. `record.data` is valid only inside `body`.
    public func forEachRecord(_ body: (CaptureRecord) -> Bool) -> CaptureReadResult {
        var state = ReadState(path: path)
        switch format {
        case .pcap:
            var p = PcapParser()
            drive(&p, &state, body)
            if !p.headerDone { interfaces = [] }
        case .pcapng:
            var p = PcapngParser()
            drive(&p, &state, body)
            interfaces = p.interfaces
            if p.sawSection { byteOrder = p.mixedByteOrder ? .mixed : (p.firstBigEndian ? .big : .little) }
            if let first = p.interfaces.first { timestampResolution = first.resolution; snapLength = first.snapLength }
        case nil: break
        }
        return state.result
    }

    private func drive<P: RecordParser>(_ parser: inout P, _ state: inout ReadState, _ body: (CaptureRecord) -> Bool) {
        if let f = file {
            driveChunked(f, &parser, &state, body)
            return
        }
        guard let s = stream, let first = head, !consumed else {
            state.damage(.readError, at: 0, "standard input or a compressed stream can be read only once")
            return
        }
        consumed = true
        head = nil   // the read buffers own it now
        // Compressed input: inflate on a second thread while this one parses (ReadAhead).
        let ahead = s.compression == .none ? nil : ReadAhead(s)
        defer { ahead?.stop() }
        let reached = parser.parse(ReadBuffers(size: first.count, first: first), filled: headCount, lagging: nil,
                                   state: &state, body: body) { p, count, _ in
            ahead?.read(into: p, count: count) ?? s.read(into: p, count: count)
        }
        ahead?.stop()   // the producer is done with `s` before its failure and hash are read
        if let (anomaly, detail) = s.failure { state.damage(anomaly, at: reached, detail) }
        if computesSHA256 && !state.result.stoppedEarly { sha256 = hashStreamFile(s) }
    }

    /// Reads a regular file chunk by chunk (ChunkedFile.swift), hashing what it reads when asked to.
    private func driveChunked<P: RecordParser>(_ f: ChunkedFile, _ parser: inout P, _ state: inout ReadState,
                                               _ body: (CaptureRecord) -> Bool) {
        var hasher = computesSHA256 && sha256 == nil ? SHA256() : nil
        let buffers = laggingReaders.map { $0.pool.buffers(size: f.chunkSize) } ?? ReadBuffers(size: f.chunkSize)
        // With lagging readers, an idle one may read the next chunk (ChunkReadAhead.swift).
        let ahead = laggingReaders?.readAhead
        ahead?.attach(f)
        defer { ahead?.detach() }   // waits for a read still in flight (the parser stopped early)
        _ = parser.parse(buffers, filled: 0, lagging: laggingReaders, readAhead: ahead, state: &state, body: body) { p, count, at in
            let read = ahead?.take(into: p, count: count, at: at) ?? f.read(into: p, count: count, at: at) ?? -1
            guard read >= 0 else { hasher = nil; return nil }
            hasher?.update(bufferPointer: UnsafeRawBufferPointer(start: p, count: read))
            return read
        }
        if let h = hasher, !state.result.stoppedEarly { sha256 = Self.hex(h.finalize()) }
    }

    /// Streams: hash a regular file again from its start; standard input was hashed as it was read.
    private func hashStreamFile(_ s: StreamSource) -> String? {
        if path == "-" {
            s.drainForHash()
            return s.hasher.map { Self.hex($0.finalize()) }
        }
        var h = SHA256()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var off: off_t = 0
        while true {
            let n = pread(s.fd, chunk.baseAddress!, chunk.count, off)
            if n <= 0 { return n == 0 ? Self.hex(h.finalize()) : nil }
            h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            off += off_t(n)
        }
    }

    static func hex(_ d: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(64)
        for b in d { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
