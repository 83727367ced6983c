// ChunkReadAhead (issue 6): with lagging readers, the read of a regular file's next chunk is posted
// as soon as a buffer is full, and performed by another thread (`serve`, the pipeline's idle worker)
// or by the reader when it gets there. Records, damage, hashes and the lagging readers' guarantees
// must be those of reading every chunk in turn, whoever performs the reads.
import Foundation
import Synchronization
import Testing
@testable import CaptureFile

@Suite struct ChunkReadAheadTests {
    /// Who performs the posted reads.
    enum Server: CaseIterable, CustomStringConvertible {
        /// The reader, always (no other thread serves).
        case reader
        /// `serve` called from the record callback, as a worker would between batches: every read
        /// posted while records remain is performed there, deterministically.
        case callback
        /// A thread that serves whatever is posted, as fast as it can: real concurrency, with
        /// whatever interleaving the scheduler gives (under a loaded test run it may serve none).
        case eagerThread
        var description: String { self == .reader ? "reader" : self == .callback ? "callback" : "eager thread" }
    }

    /// A thread calling `serve` in a loop until stopped: the idle worker at its most eager.
    final class ServingThread: @unchecked Sendable {
        let ahead: ChunkReadAhead
        private let stopped = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)
        init(_ ahead: ChunkReadAhead) {
            self.ahead = ahead
            let t = Thread { [self] in
                while !stopped.load(ordering: .relaxed) { ahead.serve() }
                finished.signal()
            }
            t.start()
        }
        func stop() { stopped.store(true, ordering: .relaxed); finished.wait() }
    }

    /// Reads `paths` in turn through one LaggingReaders with read-ahead, served by `server`, with
    /// buffers of `chunk` bytes; every record checked by a lagging reader against `expected`.
    static func readRun(_ paths: [String], expected: [[Rec]], chunk: Int, server: Server, sha: Bool = false,
                        stopAfter: Int? = nil) throws -> (lagging: LaggingHolder, results: [CaptureReadResult], readers: [CaptureReader], ahead: ChunkReadAhead) {
        let ahead = ChunkReadAhead()
        let lagging = LaggingHolder(expected: expected, readAhead: ahead)
        let serving = server == .eagerThread ? ServingThread(ahead) : nil
        defer { serving?.stop() }
        var results: [CaptureReadResult] = []
        var readers: [CaptureReader] = []
        for (k, path) in paths.enumerated() {
            let reader = try CaptureReader(path: path)
            reader.readChunkSize = chunk
            reader.computesSHA256 = sha
            reader.laggingReaders = lagging.readers
            let runOffset = lagging.readers.runOffset
            var n = 0
            results.append(reader.forEachRecord { r in
                lagging.hold(r, capture: k, runOffset: runOffset)
                if server == .callback { ahead.serve() }
                n += 1
                return n != stopAfter
            })
            readers.append(reader)
        }
        lagging.catchUp(before: Int.max)
        return (lagging, results, readers, ahead)
    }

    /// Records of 60-99 bytes, every 100th 20 KB with `bigRecords` (more than an 8 KB buffer: its
    /// buffer grows, and the read ahead is set aside).
    @Test(arguments: Server.allCases, [false, true])
    func recordsAreThoseOfReadingInTurn(server: Server, bigRecords: Bool) throws {
        let path = tempFile(ChunkedFileTests.capture(records: 3_000, bigRecords: bigRecords, seed: 3))
        defer { unlink(path) }
        let expected = try ChunkedFileTests.read(path, chunk: 1 << 20).records
        let run = try Self.readRun([path], expected: [expected], chunk: 8192, server: server)
        #expect(run.results[0].packets == 3_000)
        #expect(run.results[0].damage.isEmpty)
        #expect(run.lagging.checked == 3_000)
        #expect(run.lagging.mismatches == 0)
        let served = run.ahead.served
        // Most 20 KB records end a buffer, and a buffer that must grow reads the slow way.
        #expect(served.byOthers + served.byReader > (bigRecords ? 5 : 20), "reads went through the read-ahead: \(served)")
        if server == .reader { #expect(served.byOthers == 0) }
        if server == .callback { #expect(served.byOthers > 0 && served.byReader == 0, "\(served)") }
    }

    /// Rotated captures through one ring, with reads ahead crossing into the next file's slots.
    @Test(arguments: Server.allCases)
    func filesOfARunReadAheadInTurn(server: Server) throws {
        let files = (0..<3).map { k in tempFile(ChunkedFileTests.capture(records: 1_500, bigRecords: k == 1, seed: UInt8(k))) }
        defer { for f in files { unlink(f) } }
        let expected = try files.map { try ChunkedFileTests.read($0, chunk: 1 << 20).records }
        let run = try Self.readRun(files, expected: expected, chunk: 8192, server: server)
        #expect(run.results.map(\.packets) == [1_500, 1_500, 1_500])
        #expect(run.lagging.checked == 4_500)
        #expect(run.lagging.mismatches == 0)
        #expect(run.lagging.crossedFiles > 0)
    }

    /// A partial record longer than the lead (64 KiB) is carried the slow way: with 256 KiB buffers,
    /// records of 70-100 KB between small ones.
    @Test(arguments: Server.allCases)
    func partialRecordsLongerThanTheLead(server: Server) throws {
        var bytes = Pcap.header()
        for i in 0..<120 {
            let size = i % 3 == 1 ? 70_000 + i * 250 : 500 + i
            bytes += Pcap.record(sec: 1_600_000_000 + UInt32(i), frac: 0, data: payload(size, seed: UInt8(i & 0xff)))
        }
        #expect(ReadBuffers.readAheadLead < 70_000)
        let path = tempFile(bytes)
        defer { unlink(path) }
        let expected = try ChunkedFileTests.read(path, chunk: 4 << 20).records
        let run = try Self.readRun([path], expected: [expected], chunk: 256 << 10, server: server)
        #expect(run.results[0].packets == 120)
        #expect(run.lagging.mismatches == 0)
        #expect(run.lagging.checked == 120)
    }

    /// The SHA-256 read inline covers the chunks read ahead, and a damaged end reads as without.
    @Test(arguments: Server.allCases)
    func hashAndDamageAreThoseOfReadingInTurn(server: Server) throws {
        let whole = ChunkedFileTests.capture(records: 2_500, bigRecords: false, seed: 9)
        let path = tempFile(Array(whole.dropLast(7)))
        defer { unlink(path) }
        let plain = try ChunkedFileTests.read(path, chunk: 8192, sha: true)
        let run = try Self.readRun([path], expected: [plain.records], chunk: 8192, server: server, sha: true)
        #expect(run.readers[0].sha256 == (try shellSHA256(path)))
        #expect(run.results[0].packets == 2_499)
        #expect(run.results[0].damage.map(\.description) == plain.result.damage.map(\.description))
        #expect(run.lagging.mismatches == 0)
    }

    /// A parser that stops early leaves a read in flight; it is settled before the next file reads
    /// into the same ring, whose records then check out.
    @Test(arguments: Server.allCases)
    func stoppingEarlySettlesTheReadInFlight(server: Server) throws {
        let files = (0..<2).map { k in tempFile(ChunkedFileTests.capture(records: 1_000, bigRecords: false, seed: UInt8(k + 5))) }
        defer { for f in files { unlink(f) } }
        let expected = try files.map { try ChunkedFileTests.read($0, chunk: 1 << 20).records }
        let run = try Self.readRun(files, expected: expected, chunk: 8192, server: server, stopAfter: 400)
        #expect(run.results.map(\.packets) == [400, 400])
        #expect(run.lagging.checked == 800)
        #expect(run.lagging.mismatches == 0)
    }
}
