// Streaming byte source for what is not an uncompressed regular file: standard input, pipes, and
// gzip (RFC 1952, via zlib inflate with automatic header detection, windowBits 15+32) or zstd
// (RFC 8878, via ZSTD_decompressStream) files. Compression is recognised from the first bytes, never
// the name.
// Concatenated gzip members and zstd frames are read in sequence, as gzip(1) and zstd(1) do.
import SystemZlib
import CZstd
import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class StreamSource {
    static let rawChunk = 256 * 1024

    let fd: Int32
    let closesFD: Bool
    private(set) var compression: Compression = .none
    private let raw: UnsafeMutableRawBufferPointer
    private var rawStart = 0, rawEnd = 0, rawEOF = false
    private var zstream: UnsafeMutablePointer<z_stream>?
    private var zstd: OpaquePointer?
    /// The last zstd call finished a frame (so raw EOF here is a clean end).
    private var zstdFrameDone = true
    /// SHA-256 over the raw (on-disk) bytes, when asked for: the file's chain-of-custody hash.
    var hasher: SHA256?
    /// Set when reading or decompressing failed; the stream then ends.
    private(set) var failure: (CaptureAnomaly, String)?
    /// Raw bytes read so far (for error offsets in the compressed file).
    private(set) var rawOffset = 0

    init(fd: Int32, closesFD: Bool, hashing: Bool) {
        self.fd = fd
        self.closesFD = closesFD
        raw = .allocate(byteCount: Self.rawChunk, alignment: 16)
        if hashing { hasher = SHA256() }
        fillRaw()
        compression = FormatSniffer.compression(of: UnsafeRawBufferPointer(rebasing: raw[rawStart..<rawEnd]))
        switch compression {
        case .gzip:
            let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            z.initialize(to: z_stream())
            if inflateInit2_(z, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) != Z_OK {
                failure = (.decompressionError, "zlib inflateInit2 failed")
            }
            zstream = z
        case .zstd:
            zstd = ZSTD_createDCtx()
            if zstd == nil { failure = (.decompressionError, "ZSTD_createDCtx failed") }
        case .none: break
        }
    }

    deinit {
        if let z = zstream { inflateEnd(z); z.deinitialize(count: 1); z.deallocate() }
        if let d = zstd { ZSTD_freeDCtx(d) }
        raw.deallocate()
        if closesFD { close(fd) }
    }

    /// True when the raw input was empty.
    var isEmpty: Bool { rawEOF && rawEnd == 0 && rawOffset == 0 }

    private func fillRaw() {
        guard !rawEOF else { return }
        if rawStart == rawEnd { rawStart = 0; rawEnd = 0 }
        guard rawEnd < raw.count else { return }
        while true {
            let n = Glibc.read(fd, raw.baseAddress! + rawEnd, raw.count - rawEnd)
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                failure = (.readError, String(cString: strerror(errno)))
                rawEOF = true
            } else if n == 0 {
                rawEOF = true
            } else {
                hasher?.update(bufferPointer: UnsafeRawBufferPointer(start: raw.baseAddress! + rawEnd, count: n))
                rawEnd += n
                rawOffset += n
            }
            return
        }
    }

    /// Reads the raw input to its end so that the hash covers the whole file.
    func drainForHash() {
        while !rawEOF { rawStart = rawEnd; fillRaw() }
    }

    /// Fills up to `count` bytes of decompressed data; 0 means the end (or a failure, see `failure`).
    func read(into dst: UnsafeMutableRawPointer, count: Int) -> Int {
        guard failure == nil, count > 0 else { return 0 }
        switch compression {
        case .none:
            if rawStart == rawEnd { fillRaw() }
            let n = min(count, rawEnd - rawStart)
            if n > 0 { dst.copyMemory(from: raw.baseAddress! + rawStart, byteCount: n); rawStart += n }
            return n
        case .gzip: return inflateInto(dst, count)
        case .zstd: return zstdInto(dst, count)
        }
    }

    private func inflateInto(_ dst: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let z = zstream else { return 0 }
        var produced = 0
        while produced == 0 {
            if rawStart == rawEnd { fillRaw() }
            if rawStart == rawEnd && rawEOF {
                if z.pointee.total_in > 0 || z.pointee.total_out > 0 {
                    failure = (.decompressionError, "gzip stream ends early, at compressed byte \(rawOffset)")
                }
                return 0
            }
            z.pointee.next_in = (raw.baseAddress! + rawStart).assumingMemoryBound(to: Bytef.self)
            z.pointee.avail_in = uInt(rawEnd - rawStart)
            z.pointee.next_out = dst.assumingMemoryBound(to: Bytef.self)
            z.pointee.avail_out = uInt(min(count, Int(UInt32.max)))
            let rc = inflate(z, Z_NO_FLUSH)
            rawStart = rawEnd - Int(z.pointee.avail_in)
            produced = min(count, Int(UInt32.max)) - Int(z.pointee.avail_out)
            switch rc {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END:
                // Another gzip member may follow (RFC 1952 §2.2); trailing zero padding is ignored.
                inflateReset(z)
                if produced == 0 {
                    if rawStart == rawEnd { fillRaw() }
                    if rawStart == rawEnd && rawEOF { return 0 }
                }
            default:
                let msg = z.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                failure = (.decompressionError, "gzip: \(msg), near compressed byte \(rawOffset - (rawEnd - rawStart))")
                return produced
            }
        }
        return produced
    }

    private func zstdInto(_ dst: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let d = zstd else { return 0 }
        var out = ZSTD_outBuffer(dst: dst, size: count, pos: 0)
        while out.pos == 0 {
            if rawStart == rawEnd { fillRaw() }
            if rawStart == rawEnd && rawEOF {
                if !zstdFrameDone { failure = (.decompressionError, "zstd stream ends inside a frame") }
                return 0
            }
            var input = ZSTD_inBuffer(src: raw.baseAddress! + rawStart, size: rawEnd - rawStart, pos: 0)
            let rc = ZSTD_decompressStream(d, &out, &input)
            rawStart += input.pos
            if ZSTD_isError(rc) != 0 {
                failure = (.decompressionError, "zstd: " + String(cString: ZSTD_getErrorName(rc)))
                return out.pos
            }
            zstdFrameDone = rc == 0
        }
        return out.pos
    }
}
