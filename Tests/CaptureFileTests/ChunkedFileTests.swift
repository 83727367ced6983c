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
        let path = tempFile(Self.capture(records: 3_000, bigRecords: bigRecords, seed: 0))
        defer { unlink(path) }
        let expected = try Self.read(path, chunk: 1 << 20).records
        let reader = try CaptureReader(path: path)
        reader.readChunkSize = 8192
        #expect(reader.supportsLaggingReaders)
        let lagging = LaggingHolder(expected: [expected])
        reader.laggingReaders = lagging.readers
        let result = reader.forEachRecord { r in
            lagging.hold(r, capture: 0, runOffset: 0)
            return true
        }
        #expect(result.packets == 3_000)
        // The reader does not wait for lagging readers at the end of the file: the last records
        // stay valid after it, as long as the LaggingReaders value lives.
        #expect(!lagging.held.isEmpty)
        lagging.catchUp(before: Int.max)
        #expect(lagging.checked == 3_000)
        #expect(lagging.mismatches == 0)
        #expect(lagging.waits > 1, "waits in the middle of the file")
    }

    /// Rotated captures: the files of a run read in turn with one LaggingReaders go on through its
    /// buffers, with run positions (runOffset + file offset) that keep growing. A lagging reader
    /// still holding records of the first file when the second begins finds them intact, and the
    /// reader waits for it before refilling their buffers.
    @Test(arguments: [false, true])
    func filesOfARunShareTheLaggingReadersBuffers(bigRecords: Bool) throws {
        let files = (0..<3).map { k in tempFile(Self.capture(records: 1_200, bigRecords: bigRecords, seed: UInt8(k))) }
        defer { for f in files { unlink(f) } }
        let expected = try files.map { try Self.read($0, chunk: 1 << 20).records }
        let lagging = LaggingHolder(expected: expected)
        var offsets: [Int] = []
        for (k, path) in files.enumerated() {
            let reader = try CaptureReader(path: path)
            reader.readChunkSize = 8192
            reader.laggingReaders = lagging.readers
            let runOffset = lagging.readers.runOffset
            offsets.append(runOffset)
            let waitsBefore = lagging.waits
            let result = reader.forEachRecord { r in
                lagging.hold(r, capture: k, runOffset: runOffset)
                return true
            }
            #expect(result.packets == 1_200)
            #expect(lagging.waits > waitsBefore)
            // Records of this file are still held when the next one begins.
            #expect(lagging.held.contains { $0.capture == k })
        }
        // Each file's run positions start where the file before ended.
        let sizes = try files.map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
        #expect(offsets == [0, sizes[0], sizes[0] + sizes[1]])
        #expect(lagging.readers.runOffset == sizes.reduce(0, +))
        // Some records of a file were read while the next file was being read.
        #expect(lagging.crossedFiles > 0)
        lagging.catchUp(before: Int.max)
        #expect(lagging.checked == 3_600)
        #expect(lagging.mismatches == 0)
    }

    /// `records` records of 60-99 bytes (every 100th 20 KB with `bigRecords`), content from `seed`.
    static func capture(records: Int, bigRecords: Bool, seed: UInt8) -> [UInt8] {
        var bytes = Pcap.header()
        for i in 0..<records {
            let size = bigRecords && i % 100 == 7 ? 20_000 : 60 + i % 40
            bytes += Pcap.record(sec: 1_600_000_000 + UInt32(i), frac: 0, data: payload(size, seed: UInt8(i & 0xff) &+ seed &* 37))
        }
        return bytes
    }
}

/// A lagging reader like the pipeline's workers: holds record views by run position and reads them
/// only later, up to 1,000 records behind (about 96 KB: more than the eight 8 KB buffers hold), and
/// when the reader asks it to catch up.
final class LaggingHolder {
    let expected: [[Rec]]
    var held: [(capture: Int, frame: Int, position: Int, data: UnsafeRawBufferPointer)] = []
    var checked = 0, waits = 0, mismatches = 0
    /// Records read while a later file was being read.
    var crossedFiles = 0
    private var reading = 0
    private(set) var readers: LaggingReaders!

    /// `readAhead`: the reader posts its next chunk's read there (ChunkReadAhead).
    init(expected: [[Rec]], readAhead: ChunkReadAhead? = nil) {
        self.expected = expected
        readers = LaggingReaders(oldestNeeded: { [unowned self] in held.first?.position },
                                 waitUntilDone: { [unowned self] position in waits += 1; catchUp(before: position) },
                                 readAhead: readAhead)
    }

    func hold(_ r: CaptureRecord, capture: Int, runOffset: Int) {
        reading = capture
        held.append((capture, r.frameNumber, runOffset + r.fileOffset, r.data))
        if held.count > 1_000 { catchUp(before: held[held.count - 1_000].position) }
    }

    func catchUp(before position: Int) {
        while let h = held.first, h.position < position {
            if Array(h.data) != expected[h.capture][h.frame - 1].data { mismatches += 1 }
            if h.capture < reading { crossedFiles += 1 }
            held.removeFirst()
            checked += 1
        }
    }
}
