// The XLSX writer, checked piece by piece and then by reading a workbook back with a real reader
// (openpyxl, installed by Scripts/setup; the read-back test says it is skipped when python3 lacks it).
import Foundation
import Testing
@testable import Reports
import FlowEvidence
import PacketDecode
import BitTorrentClassifier
import WireBytes
import TorscanTestSupport

@Suite struct XLSXWorkbookTests {
    @Test func columnNames() {
        let cases = [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (701, "ZZ"), (702, "AAA"), (16_383, "XFD")]
        for (i, name) in cases { #expect(SpreadsheetXML.columnName(i) == name) }
        #expect(SpreadsheetXML.ref(row: 0, column: 0) == "A1")
        #expect(SpreadsheetXML.ref(row: 9, column: 17) == "R10")
    }

    @Test func serialDates() {
        #expect(SpreadsheetXML.serial(Timestamp(seconds: 0, nanos: 0)) == 25_569)
        // 2021-11-03 is serial 44503 (Excel: =DATE(2021,11,3)); 14:22:01.123456 is 51721.123456 s into it.
        let t = Timestamp(rfc3339: "2021-11-03T14:22:01.123456789Z")!
        let v = SpreadsheetXML.serial(t)
        #expect(Int(v) == 44_503)
        #expect(((v - 44_503) * 86_400_000_000).rounded() == 51_721_123_457)  // rounded to the microsecond
        #expect(SpreadsheetXML.serial(day: Timestamp(rfc3339: "2021-11-03")!.dayNumber) == 44_503)
        // Just before midnight rounds up to the next day's serial, never past it.
        let late = Timestamp(rfc3339: "2021-11-03T23:59:59.9999996Z")!
        #expect(SpreadsheetXML.serial(late) == 44_504)
    }

    @Test func escapesXMLAndForbiddenCharacters() {
        #expect(SpreadsheetXML.escape("a<b>&\"c\"") == "a&lt;b&gt;&amp;&quot;c&quot;")
        #expect(SpreadsheetXML.escape("x\u{1}y\u{1F}") == "x_x0001_y_x001F_")
        #expect(SpreadsheetXML.escape("tab\tnl\n") == "tab\tnl\n")
        #expect(SpreadsheetXML.escape("_x0041_") == "_x005F_x0041_")
        #expect(SpreadsheetXML.escape("_x00_ _xZZZZ_ _") == "_x00_ _xZZZZ_ _")
        #expect(SpreadsheetXML.escape("naïve ✓") == "naïve ✓")
    }

    @Test func rejectsWhatExcelCannotOpen() {
        func fails(_ sheet: XLSXWorkbook.Sheet) -> Bool {
            do { _ = try XLSXWorkbook(sheets: [sheet]).data(); return false } catch { return true }
        }
        #expect(fails(.init(name: "", header: ["a"], rows: [])))
        #expect(fails(.init(name: "a/b", header: ["a"], rows: [])))
        #expect(fails(.init(name: String(repeating: "x", count: 32), header: ["a"], rows: [])))
        #expect(!fails(.init(name: String(repeating: "x", count: 31), header: ["a"], rows: [])))
        #expect(fails(.init(name: "wide", header: Array(repeating: "c", count: XLSXWorkbook.maxColumns + 1), rows: [])))
    }

    @Test func sameInputSameBytes() throws {
        let a = try EvidenceWorkbook.workbook(rows: Self.rows, captures: Self.captures, perDay: true, manifest: Self.manifest).data()
        let b = try EvidenceWorkbook.workbook(rows: Self.rows, captures: Self.captures, perDay: true, manifest: Self.manifest).data()
        #expect(a == b)
        #expect(a.starts(with: [0x50, 0x4B, 0x03, 0x04]))  // a ZIP local file header
        // Streamed to a file, twice: the same bytes again.
        let dir = try Python.temporaryDirectory("torscan-xlsx-det")
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["1.xlsx", "2.xlsx"] {
            let path = dir.appendingPathComponent(name).path
            try EvidenceWorkbook.write(rows: Self.rows, captures: Self.captures, perDay: true, manifest: Self.manifest, to: path)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == a)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["1.xlsx", "2.xlsx"])  // no temporary left
    }

    @Test func worksheetLayout() {
        let wb = EvidenceWorkbook.workbook(rows: Self.rows, captures: Self.captures, perDay: false, manifest: Self.manifest)
        let xml = wb.worksheetXML(wb.sheets[0])
        #expect(xml.contains("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"))
        #expect(xml.contains("<autoFilter ref=\"A1:U3\"/>"))
        #expect(xml.contains("<dimension ref=\"A1:U3\"/>"))
        #expect(wb.workbookXML().contains("<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">'evidence'!$A$1:$U$3</definedName>"))
        #expect(xml.contains("<c r=\"P3\" t=\"inlineStr\"><is><t xml:space=\"preserve\"> spaced name\t</t></is></c>"))
        #expect(xml.contains("<c r=\"A2\" t=\"inlineStr\"><is><t>10.0.0.2</t></is></c>"))
        #expect(xml.contains("<c r=\"C2\" s=\"1\"><v>"))
        #expect(!xml.contains("<c r=\"O3\""))  // no client: no cell
        let manifest = wb.worksheetXML(wb.sheets[1])
        #expect(!manifest.contains("<pane") && !manifest.contains("<autoFilter"))
    }

    // MARK: Read back with openpyxl

    @Test func openpyxlReadsTheWorkbook() throws {
        guard Python.interpreter(with: "openpyxl") != nil else {
            print("skipped: python3 has no openpyxl (Scripts/setup installs it)")
            return
        }
        let dir = try Python.temporaryDirectory("torscan-xlsx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("evidence.xlsx").path
        try EvidenceWorkbook.write(rows: Self.rows, captures: Self.captures, perDay: true, manifest: Self.manifest, to: path)

        let out = try Self.python(Self.readBack, path)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(json["sheets"] as? [String] == ["evidence", "manifest"])
        #expect(json["freeze"] as? String == "A2")
        #expect(json["filter"] as? String == "A1:V3")
        let rows = try #require(json["evidence"] as? [[[String]]])
        try #require(rows.count == 3)
        #expect(rows[0].map { $0[1] } == EvidenceReport.csvColumns + ["day"])
        #expect(rows[0].allSatisfy { $0[0] == "str" })

        let r1 = rows[1]
        #expect(r1[0] == ["str", "10.0.0.2"])
        #expect(r1[1] == ["str", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"])
        #expect(r1[2] == ["datetime", "2021-11-03T14:22:01.123000"])  // openpyxl rounds to milliseconds
        #expect(r1[3] == ["datetime", "2021-11-04T00:00:00.999000"])
        #expect(r1[4] == ["int", "2"])
        #expect(r1[5] == ["str", "verified"])
        #expect(r1[6] == ["str", "handshake;piece"])
        #expect(r1[9] == ["int", "123456789012"])
        #expect(r1[13] == ["int", "7"])
        #expect(r1[14] == ["str", "'=cmd|' /C calc'!A0"])          // defused, stays text
        #expect(r1[15] == ["str", "a <b> & \"c\" \u{1} _x0041_"])    // escaped and restored exactly
        #expect(r1[16] == ["str", "/cases/2021/cap.pcapng"])
        #expect(r1[17] == ["int", "1234"])
        #expect(r1[18] == ["NoneType", "None"] && r1[19] == ["NoneType", "None"] && r1[20] == ["NoneType", "None"])  // direct: no proxy
        #expect(r1[21] == ["datetime", "2021-11-03T00:00:00"])
        let r2 = rows[2]
        #expect(r2[0] == ["str", "2001:db8::1"])
        #expect(r2[14] == ["NoneType", "None"])  // no client: an empty cell
        #expect(r2[15] == ["str", " spaced name\t"])

        // The stored serials keep microseconds even though openpyxl shows milliseconds.
        let micros = try #require(json["first_seen_micros"] as? Int)
        #expect(micros == Int(Timestamp(rfc3339: "2021-11-03T14:22:01.123456Z")!.nanoseconds / 1_000))

        let manifest = try #require(json["manifest"] as? [[String]])
        #expect(manifest.first == ["key", "value"])
        #expect(manifest.dropFirst().map { $0[0] } == Self.manifest.map(\.0))
        #expect(manifest.last == ["options", "torscan cap.pcapng --per-day --xlsx out.xlsx"])
    }

    /// Prints, as JSON: sheet names, freeze pane, autofilter, every evidence cell as [type, value] (text
    /// decoded as Excel decodes it), the
    /// manifest rows, and the first data row's raw first_seen serial converted to microseconds since 1970.
    static let readBack = #"""
    import sys, json, zipfile, re, openpyxl
    from openpyxl.utils.escape import unescape
    path = sys.argv[1]
    wb = openpyxl.load_workbook(path)
    ws = wb["evidence"]
    # openpyxl hands cell text over without decoding ST_Xstring escapes (_xHHHH_); Excel decodes them.
    def cell(v):
        if isinstance(v, str): return ["str", unescape(v)]
        return [type(v).__name__, v.isoformat() if hasattr(v, "isoformat") else str(v)]
    out = {
        "sheets": wb.sheetnames,
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "evidence": [[cell(v) for v in row] for row in ws.iter_rows(values_only=True)],
        "manifest": [[str(v) for v in row] for row in wb["manifest"].iter_rows(values_only=True)],
    }
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    serial = float(re.search(r'<c r="C2" s="1"><v>([^<]+)</v>', xml).group(1))
    out["first_seen_micros"] = round((serial - 25569) * 86400e6)
    print(json.dumps(out))
    """#

    static func python(_ script: String, _ args: String...) throws -> String {
        guard let py = Python.interpreter(with: "openpyxl") else { throw Python.Failure(description: "no python3 with openpyxl") }
        return try Python.run(py, script, args)
    }

    // MARK: Fixtures

    static let captures = ["/cases/2021/cap.pcapng"]
    static let manifest: [(String, String)] = [("torscan_version", "0.1.0"), ("options", "torscan cap.pcapng --per-day --xlsx out.xlsx")]

    static let rows: [EvidenceRow] = {
        let day = Timestamp(rfc3339: "2021-11-03")!.dayNumber
        let a = EvidenceRow(
            ip: IPAddress("10.0.0.2")!, infoHash: InfoHash(hex: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")!, day: day,
            firstSeen: Timestamp(rfc3339: "2021-11-03T14:22:01.123456Z")!, lastSeen: Timestamp(rfc3339: "2021-11-04T00:00:00.999Z")!,
            activeDays: [day, day + 1], confidence: .verified, signals: [.piece, .handshake], flows: 3, peers: 2,
            bytesUp: 123_456_789_012, bytesDown: 5, piecesUp: 9, piecesDown: 0, piecesVerified: 7,
            client: "=cmd|' /C calc'!A0", torrentName: "a <b> & \"c\" \u{1} _x0041_",
            firstFrame: FrameRef(captureIndex: 0, frame: 1234), supportingFrames: [])
        var b = a
        b.ip = IPAddress("2001:db8::1")!
        b.client = nil
        b.torrentName = " spaced name\t"
        return [a, b]
    }()
}
