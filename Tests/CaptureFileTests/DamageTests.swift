// Damaged input: truncated records, corrupt lengths, garbage in the middle, wrong magic, empty
// files, directories, missing and unreadable files. Never a crash, never a hang; the damage names
// file, byte offset and frame.
import CaptureFile
import Foundation
import Testing

@Suite struct DamageTests {
    @Test func truncatedLastPcapRecord() throws {
        let whole = Pcap.file(n: 5)
        let cut = Array(whole.dropLast(10))
        let path = tempFile(cut)
        let out = try readAll(path: path)
        #expect(out.records.count == 4)
        #expect(out.result.anomalies[.truncatedRecord] == 1)
        let d = try #require(out.result.damage.first)
        #expect(d.frameNumber == 5)
        #expect(d.offset == out.records[3].offset + 16 + out.records[3].caplen)
        #expect(d.description.hasPrefix("\(path): byte offset \(d.offset), frame 5: truncated_record"))
    }

    /// Every prefix of a good file reads without a crash and never yields a wrong record.
    @Test(arguments: [false, true])
    func truncationSweep(pcapng: Bool) throws {
        let whole = pcapng ? Pcapng.file(n: 4) : Pcap.file(n: 4)
        let full = try readBytes(whole).records
        // Prefixes ending between records (or after the file header) are whole files; others are damaged.
        let boundaries = Set((pcapng ? [28, 48] : [24]) + full.map(\.offset) + [whole.count])
        for n in 1...whole.count {
            if n < 4 {   // not even a whole magic number
                #expect(openError(tempFile(Array(whole.prefix(n))))?.reason == .notACapture)
                continue
            }
            let out = try readBytes(Array(whole.prefix(n)))
            #expect(Array(full.prefix(out.records.count)) == out.records, "prefix \(n)")
            #expect(out.records.count == max(0, full.filter { $0.offset < n }.count - (boundaries.contains(n) ? 0 : 1)), "prefix \(n)")
            #expect(out.result.isDamaged != boundaries.contains(n), "prefix \(n)")
        }
    }

    @Test func pcapGarbageInTheMiddleIsSkipped() throws {
        let good = Pcap.file(n: 6)
        let recs = try readBytes(good).records
        let fourth = recs[3].offset
        var bad = Array(good[..<fourth])
        bad += [0xFF, 0xFF, 0xFF, 0x7F] + Array(repeating: 0xEE, count: 45)   // a header with a huge caplen, then junk
        bad += good[fourth...]
        let out = try readBytes(bad)
        #expect(out.records.count == 6)
        #expect(out.records.map(\.data) == recs.map(\.data))
        #expect(out.result.anomalies[.badRecordLength] == 1)
        #expect(out.result.anomalies[.resynchronised] == 1)
        #expect(out.result.anomalies[.garbageBytes] == 49)
        #expect(out.result.damage.first?.frameNumber == 4)
        #expect(out.result.damage.first?.offset == fourth)
    }

    @Test func pcapngCorruptBlockLengthResynchronises() throws {
        var f = Pcapng.shb() + Pcapng.idb()
        let e1 = Pcapng.epb(ts: 1_000_000, data: payload(20))
        var e2 = Pcapng.epb(ts: 2_000_000, data: payload(24))
        let e3 = Pcapng.epb(ts: 3_000_000, data: payload(28))
        e2[4] = 0x03  // total length 3: below the minimum
        f += e1
        let e2Offset = f.count
        f += e2 + e3
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [20, 28])
        #expect(out.result.anomalies[.badBlockLength] == 1)
        #expect(out.result.anomalies[.resynchronised] == 1)
        #expect(out.result.anomalies[.garbageBytes] == e2.count)
        #expect(out.result.damage.first?.offset == e2Offset)
        #expect(out.result.damage.first?.frameNumber == 2)
    }

    @Test func pcapngGarbageBetweenBlocks() throws {
        var f = Pcapng.file(n: 2)
        f += Array(repeating: 0x41, count: 37) + [6, 0, 0, 0, 0xFF, 0, 0, 0]   // junk, and a fake EPB header
        f += Pcapng.epb(ts: 9_000_000, data: payload(12))
        let out = try readBytes(f)
        #expect(out.records.count == 3)
        #expect(out.records.last?.ns == 9_000_000_000)
        #expect(out.result.anomalies[.resynchronised] == 1)
        #expect(out.result.anomalies[.garbageBytes] == 45)
    }

    @Test func pcapngTrailingLengthMismatch() throws {
        var f = Pcapng.file(n: 1)
        var e = Pcapng.epb(ts: 5, data: payload(8))
        e[e.count - 4] = 0x99
        f += e + Pcapng.epb(ts: 6, data: payload(9))
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [60, 9])
        #expect(out.result.anomalies[.badBlockLength] == 1)
    }

    @Test func pcapngCaplenBeyondBlockIsSkipped() throws {
        let f = Pcapng.file(n: 1) + Pcapng.epb(ts: 5, data: payload(8), caplen: 500) + Pcapng.epb(ts: 6, data: payload(9))
        let out = try readBytes(f)
        #expect(out.records.map(\.caplen) == [60, 9])
        #expect(out.result.anomalies[.badBlockLength] == 1)
    }

    @Test func truncatedHeaders() throws {
        let p = try readBytes(Array(Pcap.header().prefix(12)))
        #expect(p.result.anomalies[.truncatedFileHeader] == 1)
        let ng = try readBytes(Array(Pcapng.shb().prefix(20)))
        #expect(ng.result.anomalies[.truncatedFileHeader] == 1)
        #expect(ng.result.packets == 0)
    }

    @Test func wrongMagicEmptyDirectoryMissing() throws {
        let junk = tempFile(Array("not a capture at all".utf8))
        #expect(openError(junk)?.reason == .notACapture)
        #expect(openError(junk)?.description.contains(junk) == true)
        #expect(openError(tempFile([]))?.reason == .empty)
        #expect(openError(NSTemporaryDirectory())?.reason == .directory)
        #expect(openError("/nonexistent/torscan/x.pcap")?.reason == .missing)
    }

    @Test func unreadableFile() throws {
        let path = tempFile(Pcap.file(n: 1))
        chmod(path, 0)
        if geteuid() == 0 {
            // root reads mode-000 files; an unreadable path is then a file under a non-directory.
            #expect(openError(path + "/x")?.reason == .missing)
            print("DamageTests.unreadableFile: running as root, mode 000 is readable; checked ENOTDIR instead")
        } else {
            #expect(openError(path)?.reason == .unreadable)
        }
    }

    @Test func bitFlipSweepNeverCrashes() throws {
        // Every single-byte corruption of small files: reading finishes, records stay in the file.
        for base in [Pcap.file(n: 3), Pcapng.file(n: 3), Pcapng.file(n: 2, bigEndian: true)] {
            for i in 0..<base.count {
                var b = base
                b[i] ^= 0xFF
                let path = tempFile(b)
                defer { unlink(path) }
                guard let reader = try? CaptureReader(path: path) else { continue }
                var n = 0
                let r = reader.forEachRecord { rec in
                    n += 1
                    return rec.fileOffset >= 0 && rec.fileOffset + rec.capturedLength <= b.count
                }
                #expect(!r.stoppedEarly, "flip at \(i)")
                #expect(n <= 3, "flip at \(i)")
            }
        }
    }
}
