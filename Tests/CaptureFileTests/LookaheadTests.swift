// CaptureRecord.lookahead (issue 6: the pipeline prefetches the flow lookups of the packets a few
// records on): when a record names one, it is the captured bytes of the record
// `CaptureRecord.lookaheadDistance` records later, in pcap and pcapng (EPB, SPB, obsolete PB, blocks
// that are not packets in between), in either byte order and whatever the buffer size; and damaged
// files never make it read outside its buffer.
import Foundation
import Testing
@testable import CaptureFile
import TorscanTestSupport

@Suite struct LookaheadTests {
    /// Every record's bytes and its lookahead's bytes (nil when it names none), in file order, and
    /// where each lay: a lookahead lies in the buffer its record is later delivered from, so both
    /// are at the same address (the buffer is refilled only after all its whole records).
    static func read(_ path: String, chunk: Int) throws -> (data: [[UInt8]], ahead: [[UInt8]?], dataAt: [Int], aheadAt: [Int]) {
        let reader = try CaptureReader(path: path)
        reader.readChunkSize = chunk
        var data: [[UInt8]] = [], ahead: [[UInt8]?] = [], dataAt: [Int] = [], aheadAt: [Int] = []
        _ = reader.forEachRecord { r in
            data.append([UInt8](r.data))
            ahead.append(r.lookahead.baseAddress == nil ? nil : [UInt8](r.lookahead))
            dataAt.append(Int(bitPattern: r.data.baseAddress))
            aheadAt.append(Int(bitPattern: r.lookahead.baseAddress))
            return true
        }
        return (data, ahead, dataAt, aheadAt)
    }

    /// The lookahead of every record that names one is record i + distance; returns how many named one.
    static func check(_ path: String, chunk: Int, _ what: String) throws -> (named: Int, records: Int) {
        let (data, ahead, dataAt, aheadAt) = try read(path, chunk: chunk)
        let k = CaptureRecord.lookaheadDistance
        var named = 0
        for (i, a) in ahead.enumerated() {
            guard let a else { continue }
            named += 1
            guard i + k < data.count else { Issue.record("\(what): record \(i) names a lookahead past the last record"); continue }
            #expect(a == data[i + k] && aheadAt[i] == dataAt[i + k], "\(what), chunk \(chunk): record \(i)'s lookahead is not record \(i + k)")
        }
        return (named, data.count)
    }

    /// `check` with buffers of 4 KB to 512 KiB: `records` records; with one buffer for the whole file,
    /// all but the last `lookaheadDistance` name their lookahead; with small ones, most do.
    static func checkEveryChunkSize(_ path: String, records expected: Int, _ what: String) throws {
        for chunk in [4096, 4099, 65_536, ChunkedFile.defaultChunkSize] {
            let (named, records) = try check(path, chunk: chunk, what)
            #expect(records == expected)
            if chunk == ChunkedFile.defaultChunkSize { #expect(named == records - CaptureRecord.lookaheadDistance) }
            #expect(named > records / 2, "chunk \(chunk): \(named) of \(records)")
        }
    }

    @Test(arguments: [false, true])
    func pcapRecordsNameTheRecordEightOn(bigEndian: Bool) throws {
        let path = tempFile(Pcap.file(n: 3_000, bigEndian: bigEndian))
        defer { unlink(path) }
        try Self.checkEveryChunkSize(path, records: 3_000, "pcap")
    }

    @Test(arguments: [false, true])
    func pcapngPacketBlocksNameTheOneEightOnSkippingOtherBlocks(bigEndian: Bool) throws {
        // EPBs, SPBs and obsolete PBs, with name resolution and statistics blocks between them.
        var f = Pcapng.shb(bigEndian: bigEndian) + Pcapng.idb(bigEndian: bigEndian)
        for i in 0..<2_000 {
            let data = payload(40 + i % 90, seed: UInt8(truncatingIfNeeded: i))
            switch i % 5 {
            case 3: f += Pcapng.spb(bigEndian: bigEndian, orig: data.count, data: data)
            case 4: f += Pcapng.pb(bigEndian: bigEndian, ts: UInt64(i), data: data)
            default: f += Pcapng.epb(bigEndian: bigEndian, ts: UInt64(i), data: data)
            }
            if i % 7 == 0 { f += Pcapng.block(4, bigEndian: bigEndian, body: [0, 0, 0, 0]) }   // NRB
            if i % 11 == 0 { f += Pcapng.block(5, bigEndian: bigEndian, body: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }   // ISB
        }
        let path = tempFile(f)
        defer { unlink(path) }
        try Self.checkEveryChunkSize(path, records: 2_000, "pcapng")
    }

    /// A second section header ends the lookahead before it (its byte order may differ), and it
    /// resumes after it.
    @Test func aSectionHeaderEndsTheLookahead() throws {
        var f = Pcapng.shb() + Pcapng.idb()
        for i in 0..<20 { f += Pcapng.epb(ts: UInt64(i), data: payload(60, seed: UInt8(i))) }
        f += Pcapng.shb(bigEndian: true) + Pcapng.idb(bigEndian: true)
        for i in 20..<40 { f += Pcapng.epb(bigEndian: true, ts: UInt64(i), data: payload(60, seed: UInt8(i))) }
        let path = tempFile(f)
        defer { unlink(path) }
        let (data, ahead, _, _) = try Self.read(path, chunk: ChunkedFile.defaultChunkSize)
        let k = CaptureRecord.lookaheadDistance
        #expect(data.count == 40)
        for i in 0..<40 {
            let sameSection = (i < 20) == (i + k < 20) && i + k < 40
            #expect((ahead[i] != nil) == sameSection, "record \(i)")
            if let a = ahead[i] { #expect(a == data[i + k]) }
        }
    }

    /// Real captures (SampleCaptures' pcap and pcapng files).
    @Test func sampleCapturesLookaheadIsTheRecordEightOn() throws {
        let files = TestPaths.files(under: TestPaths.sampleCaptures).filter { $0.pathExtension == "pcap" || $0.pathExtension == "pcapng" }
        #expect(files.count > 10)
        var named = 0, records = 0
        for file in files {
            for chunk in [4096, ChunkedFile.defaultChunkSize] {
                let (n, r) = try Self.check(file.path, chunk: chunk, file.lastPathComponent)
                if chunk == ChunkedFile.defaultChunkSize { named += n; records += r }
            }
        }
        #expect(named > records * 9 / 10, "\(named) of \(records)")
    }

    /// Damaged files: bytes overwritten with garbage and lengths made huge at many places. Reading
    /// must not fault: every lookahead is copied whole (`read`), so one with a wild length or past its
    /// buffer's memory faults here. (What a lookahead names after damage is not checked: it is a hint.)
    @Test(arguments: [false, true])
    func damagedFilesReadWithoutFaults(pcapng: Bool) throws {
        let clean = pcapng ? Pcapng.file(n: 400) : Pcap.file(n: 400)
        var rng = SplitMix(state: pcapng ? 11 : 7)
        for trial in 0..<60 {
            var f = clean
            for _ in 0..<(1 + trial % 4) {
                let at = 24 + Int(rng.next() % UInt64(f.count - 28))
                switch rng.next() % 3 {
                case 0: for j in 0..<4 { f[at + j] = 0xFF }                      // a huge length, maybe
                case 1: for j in 0..<4 { f[at + j] = UInt8(truncatingIfNeeded: rng.next()) }
                default: f.removeSubrange(at..<min(f.count, at + Int(rng.next() % 50)))   // cut bytes out
                }
            }
            let path = tempFile(f)
            defer { unlink(path) }
            for chunk in [4096, 4099] { _ = try Self.read(path, chunk: chunk) }
        }
    }
}
