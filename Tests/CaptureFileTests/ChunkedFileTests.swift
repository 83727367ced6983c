// ChunkedFile (CaptureReader's reading of regular files, issue 6): records that cross buffer
// boundaries, records larger than a buffer, damage at the end, the inline SHA-256, and records kept
// valid for lagging readers until they are done with them (the pipeline's workers).
import Foundation
import Testing
@testable import CaptureFile

@Suite struct ChunkedFileTests {
    /// Reads `path` with buffers of `chunk` bytes; the records as plain values.
    static func read(_ path: String, chunk: Int, sha: Bool = false) throws -> ReadOutcome {
        try readAll(path: path) { reader in
            reader.readChunkSize = chunk
            reader.computesSHA256 = sha
        }
    }

    /// The same records whatever the buffer size, as the streamed (gzip) reading gives them.
    @Test(arguments: [false, true])
    func recordsCrossingBuffersAreWhole(pcapng: Bool) throws {
        let plain = pcapng ? Pcapng.file(n: 3_000, bigEndian: true) : Pcap.file(n: 3_000)
        let path = tempFile(plain)
        defer { unlink(path) }
        let streamed = try readBytes(gzip(plain))
        #expect(streamed.records.count == 3_000)
        for chunk in [4096, 4099, 65_536, ChunkedFile.defaultChunkSize] {
            let out = try Self.read(path, chunk: chunk)
            #expect(out.records == streamed.records, "buffers of \(chunk) bytes")
            #expect(out.result.damage.isEmpty)
        }
    }

    @Test func recordLargerThanABufferGrowsIt() throws {
        let big = payload(100_000, seed: 7)
        let f = Pcapng.shb() + Pcapng.idb() + Pcapng.epb(ts: 1, data: payload(10)) + Pcapng.epb(ts: 2, data: big) + Pcapng.epb(ts: 3, data: payload(11))
        let path = tempFile(f)
        defer { unlink(path) }
        let out = try Self.read(path, chunk: 4096)
        #expect(out.records.map(\.caplen) == [10, big.count, 11])
        #expect(out.records[1].data == big)
    }

    @Test func truncatedLastRecordIsDamageAsWithOneBuffer() throws {
        let whole = Pcap.file(n: 500)
        let path = tempFile(Array(whole.dropLast(7)))
        defer { unlink(path) }
        let small = try Self.read(path, chunk: 4096)
        let large = try Self.read(path, chunk: ChunkedFile.defaultChunkSize)
        #expect(small.records.count == 499)
        #expect(small.records == large.records)
        #expect(small.result.damage.map(\.description) == large.result.damage.map(\.description))
        #expect(small.result.damage.count == 1)
    }

    @Test func sha256IsTheFilesWhateverTheBufferSize() throws {
        let path = tempFile(Pcap.file(n: 2_000))
        defer { unlink(path) }
        let expected = try shellSHA256(path)
        for chunk in [4096, ChunkedFile.defaultChunkSize] {
            #expect(try Self.read(path, chunk: chunk, sha: true).reader.sha256 == expected)
        }
    }

    /// A lagging reader holds record views and reads them only later, as the pipeline's workers
    /// do: every byte must still be the record's when it reads it, and the reader must have asked
    /// it to catch up before refilling a buffer that held records it had not read.
    /// With `bigRecords`, every 100th record is 20 KB (more than a buffer): its buffer grows while
    /// other buffers still hold records the lagging reader has not read.
    @Test(arguments: [false, true])
    func recordsStayValidUntilLaggingReadersAreDone(bigRecords: Bool) throws {
        var bytes = Pcap.header()
        for i in 0..<3_000 {
            let size = bigRecords && i % 100 == 7 ? 20_000 : 60 + i % 40
            bytes += Pcap.record(sec: 1_600_000_000 + UInt32(i), frac: 0, data: payload(size, seed: UInt8(i & 0xff)))
        }
        let path = tempFile(bytes)
        defer { unlink(path) }
        let expected = try Self.read(path, chunk: 1 << 20).records
        let reader = try CaptureReader(path: path)
        reader.readChunkSize = 8192
        #expect(reader.supportsLaggingReaders)
        var held: [(frame: Int, offset: Int, data: UnsafeRawBufferPointer)] = []
        var checked = 0, waits = 0, mismatches = 0
        func catchUp(before offset: Int) {
            while let h = held.first, h.offset < offset {
                if Array(h.data) != expected[h.frame - 1].data { mismatches += 1 }
                held.removeFirst()
                checked += 1
            }
        }
        reader.laggingReaders = LaggingReaders(oldestNeeded: { held.first?.offset },
                                               waitUntilDone: { offset in waits += 1; catchUp(before: offset) })
        let result = reader.forEachRecord { r in
            held.append((r.frameNumber, r.fileOffset, r.data))
            // Lag by up to 1,000 records (about 96 KB, more than the eight 8 KB buffers hold): the
            // reader must wait for this lagging reader in the middle of the file.
            if held.count > 1_000 { catchUp(before: held[held.count - 1_000].offset) }
            return true
        }
        #expect(result.packets == 3_000)
        #expect(held.isEmpty, "the reader waits for lagging readers at the end of the file")
        #expect(checked == 3_000)
        #expect(mismatches == 0)
        #expect(waits > 1, "waits in the middle of the file, not only at its end")
    }
}
