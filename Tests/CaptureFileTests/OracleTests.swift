// The public corpus against two oracles: libpcap (pcap_next_ex, nanosecond precision) for every
// record, and capinfos for packet counts and first/last times. Skipped when ../shared is absent.
import CaptureFile
import CPcap
import Foundation
import Testing
import TorscanTestSupport

enum Corpus {
    /// ../shared/corpus/public, or $TORSCAN_PUBLIC_CORPUS (for worktrees that sit elsewhere).
    static var publicRoot: URL? {
        if let u = TestPaths.publicCorpus { return u }
        if let e = ProcessInfo.processInfo.environment["TORSCAN_PUBLIC_CORPUS"], FileManager.default.fileExists(atPath: e) {
            return URL(fileURLWithPath: e)
        }
        return nil
    }
    static func files() -> [String]? {
        guard let root = publicRoot else {
            print("skipped: no public corpus at ../shared/corpus/public (set TORSCAN_PUBLIC_CORPUS to run)")
            return nil
        }
        return TestPaths.files(under: root).map(\.path)
    }
}

struct LibpcapRecord: Equatable { var ns: Int64; var caplen: Int; var origlen: Int }

/// Every record libpcap returns, and whether it ended with an error (-1) rather than EOF.
/// One deliberate difference: libpcap 1.10 reads a pcap record's ts_sec and ts_usec as signed
/// 32-bit; the pcap spec (draft-ietf-opsawg-pcap §5) and wiretap read them unsigned, and so do we
/// (time_2106_max.pcap is in 2106, not 1969). pcap timestamps are compared unsigned.
func libpcapRecords(_ path: String) -> (records: [LibpcapRecord], error: Bool)? {
    var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
    guard let p = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else { return nil }
    defer { pcap_close(p) }
    let isPcap = pcap_major_version(p) == 2 && FileManager.default.contents(atPath: path)?.prefix(4) != Data([0x0a, 0x0d, 0x0d, 0x0a])
    var out: [LibpcapRecord] = []
    var hdr: UnsafeMutablePointer<pcap_pkthdr>?
    var data: UnsafePointer<UInt8>?
    while true {
        let rc = pcap_next_ex(p, &hdr, &data)
        guard rc == 1, let h = hdr?.pointee else { return (out, rc == -1) }
        let sec = isPcap ? Int64(UInt32(truncatingIfNeeded: h.ts.tv_sec)) : Int64(h.ts.tv_sec)
        let frac = isPcap ? Int64(UInt32(truncatingIfNeeded: h.ts.tv_usec)) : Int64(h.ts.tv_usec)
        let (ns, o1) = sec.multipliedReportingOverflow(by: 1_000_000_000)
        let (t, o2) = ns.addingReportingOverflow(frac)
        out.append(LibpcapRecord(ns: o1 || o2 ? Int64.max : t, caplen: Int(h.caplen), origlen: Int(h.len)))
    }
}

@Suite struct OracleTests {
    @Test func libpcapAgreesOnEveryRecord() throws {
        guard let files = Corpus.files() else { return }
        var compared = 0, records = 0
        for path in files {
            guard let oracle = libpcapRecords(path) else { continue }
            let mine = try readAll(path: path)
            let got = mine.records.map { LibpcapRecord(ns: $0.ns, caplen: $0.caplen, origlen: $0.origlen) }
            if oracle.error {
                // libpcap gave up at damage we read past: what it did read must match.
                #expect(Array(got.prefix(oracle.records.count)) == oracle.records, "\(path)")
                #expect(got.count >= oracle.records.count, "\(path)")
            } else {
                #expect(got == oracle.records, "\(path)")
            }
            compared += 1; records += oracle.records.count
        }
        print("libpcap oracle: \(compared) files, \(records) records compared")
        #expect(compared > 150)
    }

    /// Where capinfos (wiretap) and we disagree on purpose, and what we report instead.
    static let capinfosExceptions: [String: CaptureAnomaly] = [
        // Interface 1's timestamps are past year 2262: beyond Int64 ns, clamped and counted.
        "formats/pcapng-example.pcapng": .timestampOverflow,
        "formats/pcapng-example.pcapng.zst": .timestampOverflow,
        // Sub-second fields >= 10^9: we keep sec*10^9+frac as libpcap does; wiretap normalises differently.
        "formats/timestamp_invalid_nano.pcap": .timestampFractionOutOfRange,
        // A sub-second field of 1882137472 ns: wiretap prints only its first 9 digits.
        "formats/ndpi_fuzz-2021-10-13.pcap": .timestampFractionOutOfRange,
        // 20 bytes of a Section Header Block: wiretap guesses "MIME" and finds a "packet".
        "formats/derived_truncated-shb.pcapng": .truncatedFileHeader,
    ]

    @Test func capinfosAgreesOnCountsAndTimes() throws {
        guard let files = Corpus.files(), let root = Corpus.publicRoot?.path else { return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/capinfos") else {
            print("skipped: capinfos not installed"); return
        }
        let captures = try CaptureInputs.expand([root])   // directory walk: captures only, sorted
        #expect(captures.count > 150 && captures.count < files.count)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/capinfos")
        p.arguments = ["-M", "-a", "-e", "-c", "-S", "-T", "-r"] + captures
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var compared = 0
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, let count = Int(f[1]) else { continue }
            let path = f[0]
            let rel = String(path.dropFirst(root.count + 1))
            guard let s = try? CaptureSummary.read(path: path, hashing: false) else {
                Issue.record("\(path): capinfos reads it, we cannot open it"); continue
            }
            compared += 1
            if let anomaly = Self.capinfosExceptions[rel] {
                #expect(s.result.anomalies[anomaly] > 0, "\(rel)")
                continue
            }
            let known = s.result.packetsWithoutTimestamp == 0
            #expect(s.result.packets == count, "\(rel)")
            #expect((known ? s.result.firstTimestamp?.nanoseconds : nil) == Self.ns(f[2]), "\(rel) first")
            #expect((known ? s.result.lastTimestamp?.nanoseconds : nil) == Self.ns(f[3]), "\(rel) last")
        }
        print("capinfos oracle: \(compared) files compared")
        #expect(compared > 150)
    }

    /// capinfos -S time ("1455469967.246718" or "n/a") in ns.
    static func ns(_ s: String) -> Int64? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard let sec = Int64(parts[0]) else { return nil }
        let frac = parts.count > 1 ? String((parts[1] + "000000000").prefix(9)) : "0"
        return sec * 1_000_000_000 + (Int64(frac) ?? 0)
    }
}
