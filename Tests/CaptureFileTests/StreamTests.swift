// gzip and zstd streams through the bounded buffer: records straddling chunk boundaries, a record
// larger than the initial buffer, concatenated members/frames, corrupt and truncated streams.
import CaptureFile
import SystemZlib
import CZstd
import Foundation
import Testing

func gzip(_ input: [UInt8], level: Int32 = 1) -> [UInt8] {
    var z = z_stream()
    // windowBits 15 + 16: a gzip wrapper (zlib.h, deflateInit2).
    precondition(deflateInit2_(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    var out = [UInt8](repeating: 0, count: Int(deflateBound(&z, uLong(input.count))) + 64)
    var src = input
    let produced: Int = src.withUnsafeMutableBufferPointer { inb in
        out.withUnsafeMutableBufferPointer { outb in
            z.next_in = inb.baseAddress; z.avail_in = uInt(inb.count)
            z.next_out = outb.baseAddress; z.avail_out = uInt(outb.count)
            precondition(deflate(&z, Z_FINISH) == Z_STREAM_END)
            return outb.count - Int(z.avail_out)
        }
    }
    deflateEnd(&z)
    return Array(out.prefix(produced))
}

func zstd(_ input: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
    let n = input.withUnsafeBytes { i in out.withUnsafeMutableBytes { o in ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, 1) } }
    precondition(ZSTD_isError(n) == 0)
    return Array(out.prefix(n))
}

@Suite struct StreamTests {
    /// Many records (about 3 MB): the 1 MiB stream buffer ends inside records many times.
    static let many = Pcap.file(n: 30_000)
    static let manyNg = Pcapng.file(n: 25_000, bigEndian: true)

    @Test(arguments: [false, true])
    func compressedEqualsRegularFile(pcapng: Bool) throws {
        let plain = pcapng ? Self.manyNg : Self.many
        let regular = try readBytes(plain)
        #expect(regular.reader.supportsLaggingReaders)
        for (compressed, kind) in [(gzip(plain), Compression.gzip), (zstd(plain), .zstd)] {
            let out = try readBytes(compressed, suffix: ".pcap")   // the name does not matter
            #expect(out.reader.compression == kind)
            #expect(!out.reader.supportsLaggingReaders)
            #expect(out.records == regular.records)
            #expect(out.result.damage.isEmpty)
        }
    }

    @Test func recordLargerThanTheInitialBufferGrowsIt() throws {
        let big = payload(3 * 1024 * 1024 + 5, seed: 3)
        let f = Pcapng.shb() + Pcapng.idb() + Pcapng.epb(ts: 1, data: payload(10)) + Pcapng.epb(ts: 2, data: big) + Pcapng.epb(ts: 3, data: payload(11))
        let out = try readBytes(gzip(f))
        #expect(out.records.map(\.caplen) == [10, big.count, 11])
        #expect(out.records[1].data == big)
    }

    @Test func concatenatedGzipMembersAndZstdFrames() throws {
        let f = Pcap.file(n: 100)
        let half = f.count / 2
        let g = try readBytes(gzip(Array(f[..<half])) + gzip(Array(f[half...])))
        #expect(g.records.count == 100 && g.result.damage.isEmpty)
        let z = try readBytes(zstd(Array(f[..<half])) + zstd(Array(f[half...])))
        #expect(z.records.count == 100 && z.result.damage.isEmpty)
    }

    @Test func truncatedAndCorruptStreams() throws {
        let f = Pcap.file(n: 20_000)   // many zstd blocks (128 KiB each), so a cut one still yields records
        for compressed in [gzip(f), zstd(f)] {
            let cut = try readBytes(Array(compressed.prefix(compressed.count / 2)))
            #expect(cut.records.count > 0 && cut.records.count < 20_000)
            #expect(cut.result.anomalies[.decompressionError] + cut.result.anomalies[.truncatedRecord] >= 1)
            var flipped = compressed
            for i in stride(from: compressed.count * 2 / 3, to: compressed.count * 2 / 3 + 64, by: 1) { flipped[i] ^= 0x5A }
            let bad = try readBytes(flipped)
                        #expect(bad.result.isDamaged)
        }
    }

    @Test func corruptFromTheStartIsNotACapture() throws {
        var z = zstd(Pcap.file(n: 20_000))
        for i in 20..<80 { z[i] ^= 0x5A }
        let err = openError(tempFile(z))
        #expect(err?.reason == .notACapture)
        #expect(err?.detail.contains("decompression_error") == true)
    }

    @Test func compressedJunkIsNotACapture() throws {
        let path = tempFile(gzip(Array("hello, this is no capture".utf8)))
        #expect(openError(path)?.reason == .notACapture)
    }

    @Test func sha256OfCompressedFileCoversStoredBytes() throws {
        let compressed = gzip(Pcap.file(n: 10))
        let path = tempFile(compressed)
        let s = try CaptureSummary.read(path: path)
        let expected = try shellSHA256(path)
        #expect(s.sha256 == expected)
        #expect(s.result.packets == 10)
    }
}

/// sha256sum(1), an independent implementation.
func shellSHA256(_ path: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}
