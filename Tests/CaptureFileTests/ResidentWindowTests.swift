// ResidentWindow (MappedFile.swift): which pages of a mapped capture are released behind the reader
// (issue 6: resident memory flat whatever the capture's size), and that pages another thread still
// reads (CaptureReader.stillNeeded) are kept.
import Testing
@testable import CaptureFile

@Suite struct ResidentWindowTests {
    static let mb = 1 << 20

    /// Reads a 100 MB file record by record (1,500 bytes each); returns the released ranges.
    static func read(lag: Int, stillNeeded: (() -> Int?)? = nil, upTo size: Int = 100 * mb,
                     each: (Int) -> Void = { _ in }) -> [(from: Int, before: Int)] {
        var calls: [(from: Int, before: Int)] = []
        var w = ResidentWindow(lag: lag, stillNeeded: stillNeeded) { calls.append(($0, $1)) }
        var offset = 0
        while offset < size {
            w.reading(at: offset)
            each(offset)
            offset += 1500
        }
        return calls
    }

    @Test func releasesBehindTheReaderInSteps() {
        let calls = Self.read(lag: 4 * Self.mb)
        #expect(!calls.isEmpty)
        // Contiguous, from the start, each ending at least one lag behind where the reader was.
        #expect(calls.first?.from == 0)
        for (a, b) in zip(calls, calls.dropFirst()) { #expect(a.before == b.from) }
        #expect(calls.allSatisfy { $0.before > $0.from })
        // About one release per lag of reading: a few dozen calls for 100 MB, not one per record.
        #expect(calls.count >= 20 && calls.count <= 26, "\(calls.count)")
        #expect((calls.last?.before ?? 0) >= 100 * Self.mb - 3 * 4 * Self.mb)
    }

    @Test func keepsWhatAnotherThreadStillReads() {
        // A worker lagging 20 MB behind the reader, more than the window's lag: every release stops
        // where the worker was when it was made.
        var readerAt = 0, worker = 0, released = 0, releases = 0
        var w = ResidentWindow(lag: 4 * Self.mb, stillNeeded: { worker }) { from, before in
            #expect(from == released && before <= worker, "released [\(from), \(before)) with the worker at \(worker)")
            released = before
            releases += 1
        }
        while readerAt < 100 * Self.mb {
            w.reading(at: readerAt)
            readerAt += 1500
            worker = max(0, readerAt - 20 * Self.mb)
        }
        #expect(releases >= 15)
        #expect(released >= 70 * Self.mb && released <= 80 * Self.mb, "released up to \(released)")
    }

    @Test func nothingNeededMeansTheLagAlone() {
        let free = Self.read(lag: 4 * Self.mb, stillNeeded: { nil })
        let plain = Self.read(lag: 4 * Self.mb)
        #expect(free.map(\.before) == plain.map(\.before))
    }
}
