// `torscan verify` (issue 8): every row of a report made from the captures holds; an edited row fails,
// exactly the edited rows fail, and the exit status is 4. Also the RFC 4180 reader it relies on.
import Foundation
import Testing
@testable import TorscanCore
import TorscanTestSupport

@Suite(.serialized) struct VerifyTests {
    static let scenarios = ["SampleCaptures/tcp-http-tracker/capture.pcap", "SampleCaptures/multi-torrent/capture.pcap",
                            "SampleCaptures/dht-magnet/capture.pcap", "SampleCaptures/utp/capture.pcap",
                            "SampleCaptures/udp-tracker/capture.pcap", "SampleCaptures/ipv6/capture.pcap"]

    static func report(_ args: [String], in dir: URL, name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let r = try Torscan.run(args + ["--out", path, "--quiet"])
        #expect(r.status == 0, "\(args): \(r.stderr)")
        return path
    }

    static func okLines(_ out: String) -> [String] { out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("OK row ") } }
    static func failLines(_ out: String) -> [String] { out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("FAIL row ") } }

    @Test func everyRowOfEachScenarioHolds() throws {
        let dir = try Python.temporaryDirectory("torscan-verify")
        defer { try? FileManager.default.removeItem(at: dir) }
        for capture in Self.scenarios {
            let path = try Self.report([capture, "--csv"], in: dir, name: "r.csv")
            let rows = try CSVTable(parsing: String(contentsOfFile: path, encoding: .utf8)).records.count
            #expect(rows > 0, "\(capture) gives rows")
            let v = try Torscan.run(["verify", path, capture])
            #expect(v.status == 0, "\(capture): \(v.stdout)\(v.stderr)")
            #expect(Self.okLines(v.stdout).count == rows && Self.failLines(v.stdout).isEmpty, "\(capture)")
            #expect(v.stdout.contains("verify: \(rows) rows, \(rows) hold, 0 fail; not checked: client, torrent_name"))
        }
    }

    @Test func wholeDirectoryPerDayJSONAndNDJSONReportsHold() throws {
        let dir = try Python.temporaryDirectory("torscan-verify")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (args, name) in [(["--per-day", "--csv"], "d.csv"), (["--json"], "r.json"), (["--ndjson"], "r.ndjson"), (["--per-day", "--ndjson"], "d.ndjson")] {
            let path = try Self.report(["SampleCaptures/"] + args, in: dir, name: name)
            let v = try Torscan.run(["verify", path, "SampleCaptures/"])
            #expect(v.status == 0, "\(args): \(Self.failLines(v.stdout).prefix(5)) \(v.stderr)")
            #expect(Self.okLines(v.stdout).count > 10, "\(args)")
            if args.contains("--per-day") {  // the key names the day: "OK row N ip infohash [via proxy] YYYY-MM-DD"
                #expect(Self.okLines(v.stdout).allSatisfy { l in
                    let words = l.split(separator: " ")
                    return (words.count == 6 || (words.count == 8 && words[5] == "via")) && words.last!.count == 10
                })
            }
        }
    }

    /// Four edits, four failing rows, each naming what was edited; every other row still holds.
    @Test func editedRowsFailAndOnlyThose() throws {
        let dir = try Python.temporaryDirectory("torscan-verify")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.report(["SampleCaptures/", "--csv"], in: dir, name: "r.csv")
        let table = try CSVTable(parsing: String(contentsOfFile: path, encoding: .utf8))
        #expect(table.records.count >= 8)
        let col = { (name: String) in table.header.firstIndex(of: name)! }
        var records = table.records
        records[0][col("bytes_up")] = String(Int(records[0][col("bytes_up")])! + 1)
        records[2][col("confidence")] = records[2][col("confidence")] == "verified" ? "announce" : "verified"
        let movedIP = records[4][col("ip")]
        records[4][col("ip")] = "192.0.2.77"
        records[6][col("first_frame")] = String(Int(records[6][col("first_frame")])! + 1)
        // Written back with LF line ends and every field quoted, as a spreadsheet might: still RFC 4180.
        let text = ([table.header] + records).map { $0.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let edited = dir.appendingPathComponent("edited.csv").path
        try text.write(toFile: edited, atomically: true, encoding: .utf8)

        let v = try Torscan.run(["verify", edited, "SampleCaptures/"])
        #expect(v.status == 4)
        let fails = Self.failLines(v.stdout)
        #expect(fails.count == 4, "\(fails)")
        #expect(fails.contains { $0.hasPrefix("FAIL row 1 ") && $0.contains(": column bytes_up report=") })
        #expect(fails.contains { $0.hasPrefix("FAIL row 3 ") && $0.contains(": column confidence report=") })
        #expect(fails.contains { $0.hasPrefix("FAIL row 5: not derivable from the captures") && $0.contains("192.0.2.77") })
        #expect(fails.contains { $0.hasPrefix("FAIL row 7 ") && $0.contains(": column first_frame report=") })
        #expect(Self.okLines(v.stdout).count == records.count - 4)
        #expect(v.stdout.contains("\(records.count - 4) hold, 4 fail"))
        #expect(!movedIP.isEmpty && v.stdout.contains("the captures give 1 row(s) the report does not list"))
    }

    /// The capture column holds the path as given; the same file given another way (absolute vs
    /// relative) still holds. A report made with --ip holds too: the captures' other rows are only counted.
    @Test func captureColumnComparesFilesNotSpellings() throws {
        let dir = try Python.temporaryDirectory("torscan-verify")
        defer { try? FileManager.default.removeItem(at: dir) }
        let relative = "SampleCaptures/tcp-http-tracker/capture.pcap"
        let absolute = TestPaths.packageRoot.appendingPathComponent(relative).path
        let path = try Self.report([absolute, "--csv", "--ip", "10.77.0.2"], in: dir, name: "r.csv")
        let v = try Torscan.run(["verify", path, relative])
        #expect(v.status == 0, "\(v.stdout)")
        #expect(Self.okLines(v.stdout) == ["OK row 1 10.77.0.2 ec75cc6e5031b8d3604d21136a2d47600c4cc2f9"])
        #expect(v.stdout.contains("the captures give 1 row(s) the report does not list"))
        let other = try Torscan.run(["verify", path, "SampleCaptures/multi-torrent/capture.pcap"])
        #expect(other.status == 4 && Self.failLines(other.stdout).count == 1)
    }

    @Test func aReportThatIsNoReportIsAUsageError() throws {
        let dir = try Python.temporaryDirectory("torscan-verify")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.csv").path
        try "a,b\r\n1,2\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Torscan.run(["verify", path, "SampleCaptures/tcp-http-tracker/capture.pcap"]).status == 64)
        #expect(try Torscan.run(["verify", dir.appendingPathComponent("missing.csv").path, "SampleCaptures/"]).status == 66)
    }

    @Test func csvReaderFollowsRFC4180() throws {
        let t = try CSVTable(parsing: "a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n2,\"line\r\nbreak\",\r\n\n3,,'=1+1\n")
        #expect(t.header == ["a", "b", "c"])
        #expect(t.records == [["1", "x,y", "say \"hi\""], ["2", "line\r\nbreak", ""], ["3", "", "'=1+1"]])
        #expect(throws: CSVTable.ParseError.unterminatedQuote(record: 2)) { try CSVTable(parsing: "a\r\n\"open\r\n") }
        #expect(throws: CSVTable.ParseError.textAfterQuote(record: 2)) { try CSVTable(parsing: "a\r\n\"q\"x\r\n") }
        #expect(throws: CSVTable.ParseError.empty) { try CSVTable(parsing: "\r\n") }
        #expect(try CSVTable(parsing: "a,b").records.isEmpty)
        #expect(try CSVTable(parsing: "h\n\"\"\n").records == [[""]])
    }
}

/// The comparison rules of `verify`, column by column.
@Suite struct VerifyComparisonTests {
    @Test func sameInstantWithSixOrNineDigitsHolds() {
        #expect(ReportVerifier.same("first_seen", "2026-12-06T23:33:29.553525Z", "2026-12-06T23:33:29.553525000Z"))
        #expect(!ReportVerifier.same("first_seen", "2026-12-06T23:33:29.553525Z", "2026-12-06T23:33:29.553526Z"))
        #expect(!ReportVerifier.same("last_seen", "yesterday", "2026-12-06T23:33:29Z"))
    }

    @Test func signalsAreASetNumbersAreExact() {
        #expect(ReportVerifier.same("signals", "piece;handshake", "handshake;piece"))
        #expect(!ReportVerifier.same("signals", "handshake", "handshake;piece"))
        #expect(ReportVerifier.same("bytes_up", " 262144", "262144"))
        #expect(!ReportVerifier.same("bytes_up", "262145", "262144"))
        #expect(!ReportVerifier.same("confidence", "verified", "transfer"))
    }

    @Test func defusedPathsAreComparedUndefused() {
        #expect(ReportVerifier.undefuse("'=cmd.pcap") == "=cmd.pcap")
        #expect(ReportVerifier.undefuse("'plain") == "'plain")
        #expect(ReportVerifier.same("capture", "'-x.pcap", "-x.pcap"))
        #expect(ReportVerifier.same("capture", "./a/../a/b.pcap", "a/b.pcap"))
        #expect(!ReportVerifier.same("capture", "a/b.pcap", "a/c.pcap"))
    }

    @Test func keysUseCanonicalAddressesAndLowercaseHashes() {
        let a = ReportVerifier.key(["ip": "FD00:77:0:0:0:0:0:3", "infohash": "EC75CC6E5031B8D3604D21136A2D47600C4CC2F9"], perDay: false)
        let b = ReportVerifier.key(["ip": "fd00:77::3", "infohash": "ec75cc6e5031b8d3604d21136a2d47600c4cc2f9"], perDay: false)
        #expect(a == b)
        #expect(ReportVerifier.key(["ip": "10.0.0.1", "infohash": "aa", "day": "2026-12-06"], perDay: true).hasSuffix(" 2026-12-06"))
    }
}
