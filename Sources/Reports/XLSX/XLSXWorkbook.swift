// A minimal SpreadsheetML workbook writer (ECMA-376 Part 1, 5th ed.): one ZIP package (Part 2, OPC) with
// [Content_Types].xml, _rels/.rels, xl/workbook.xml, xl/_rels/workbook.xml.rels, xl/styles.xml and one
// xl/worksheets/sheetN.xml per sheet. Strings are inline (§18.3.1.53 `is`), so no shared-strings part.
// Output is deterministic: fixed part order, fixed ZIP timestamps, no document properties with dates.
import Foundation
import ZIPFoundation
import WireBytes

public enum XLSXError: Error, CustomStringConvertible {
    case badSheetName(String)
    case tooManyRows(sheet: String, rows: Int)
    case tooManyColumns(sheet: String, columns: Int)
    case zip(String)
    case write(AtomicFileError)

    public var description: String {
        switch self {
        case .badSheetName(let n): "invalid worksheet name \"\(n)\""
        case .tooManyRows(let s, let n): "worksheet \(s): \(n) rows exceed Excel's \(XLSXWorkbook.maxRows)"
        case .tooManyColumns(let s, let n): "worksheet \(s): \(n) columns exceed Excel's \(XLSXWorkbook.maxColumns)"
        case .zip(let m): "cannot build the workbook archive: \(m)"
        case .write(let e): e.description
        }
    }
}

public struct XLSXWorkbook: Sendable {
    /// Excel's worksheet size (Excel specifications and limits): 1,048,576 rows by 16,384 columns (XFD).
    public static let maxRows = 1_048_576
    public static let maxColumns = 16_384
    /// Excel keeps at most 32,767 characters in a cell; longer text is cut there rather than rejected.
    public static let maxCellCharacters = 32_767
    /// Sheet names: 1 to 31 characters, none of []:*?/\ (Excel; ECMA-376 §18.2.19 leaves it to the app).
    public static let maxSheetNameLength = 31

    public enum Cell: Sendable, Equatable {
        case empty
        case text(String)
        case integer(Int64)
        case number(Double)
        /// A date and time, written as an Excel serial date with a date-time format.
        case dateTime(Timestamp)
        /// A UTC day (days since 1970-01-01), written as a serial date with a date format.
        case date(day: Int64)
    }

    public struct Sheet: Sendable {
        public var name: String
        public var header: [String]
        public var rows: [[Cell]]
        /// Freeze the header row (pane ySplit=1) and put an autofilter over header and data.
        public var frozenHeaderWithFilter: Bool
        /// Column widths in characters (Excel's unit), by column; missing ones keep Excel's default.
        public var columnWidths: [Double]

        public init(name: String, header: [String], rows: [[Cell]], frozenHeaderWithFilter: Bool = true, columnWidths: [Double] = []) {
            self.name = name; self.header = header; self.rows = rows
            self.frozenHeaderWithFilter = frozenHeaderWithFilter; self.columnWidths = columnWidths
        }
    }

    public var sheets: [Sheet]
    public init(sheets: [Sheet]) { self.sheets = sheets }

    /// Style indexes into cellXfs of styles.xml.
    enum Style: Int { case normal = 0, dateTime = 1, date = 2, header = 3 }

    /// ZIP entries get this fixed time (2000-01-01T00:00:00Z) so identical workbooks are identical bytes.
    static let entryDate = Date(timeIntervalSince1970: 946_684_800)

    /// The workbook as the bytes of an .xlsx file.
    public func data() throws(XLSXError) -> Data {
        try validate()
        var parts: [(String, String)] = [
            ("[Content_Types].xml", contentTypes()),
            ("_rels/.rels", packageRels()),
            ("xl/workbook.xml", workbookXML()),
            ("xl/_rels/workbook.xml.rels", workbookRels()),
            ("xl/styles.xml", XLSXWorkbook.stylesXML),
        ]
        for (i, sheet) in sheets.enumerated() { parts.append(("xl/worksheets/sheet\(i + 1).xml", worksheetXML(sheet))) }
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for (path, text) in parts {
                let bytes = Data(text.utf8)
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count),
                                     modificationDate: XLSXWorkbook.entryDate, compressionMethod: .deflate) { position, size in
                    bytes.subdata(in: Int(position)..<(Int(position) + size))
                }
            }
            guard let out = archive.data else { throw XLSXError.zip("in-memory archive has no data") }
            return out
        } catch let e as XLSXError {
            throw e
        } catch {
            throw .zip(String(describing: error))
        }
    }

    /// Writes the workbook atomically (temporary file, fsync, rename).
    public func write(to path: String) throws(XLSXError) {
        let bytes = try data()
        do { try AtomicFile.write(bytes, to: path) } catch { throw .write(error) }
    }

    func validate() throws(XLSXError) {
        for s in sheets {
            guard (1...XLSXWorkbook.maxSheetNameLength).contains(s.name.count),
                  !s.name.contains(where: { "[]:*?/\\".contains($0) }) else { throw .badSheetName(s.name) }
            guard s.rows.count + 1 <= XLSXWorkbook.maxRows else { throw .tooManyRows(sheet: s.name, rows: s.rows.count + 1) }
            let columns = max(s.header.count, s.rows.map(\.count).max() ?? 0)
            guard columns <= XLSXWorkbook.maxColumns else { throw .tooManyColumns(sheet: s.name, columns: columns) }
        }
    }

    // MARK: Package parts

    static let xmlHeader = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    static let mainNS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    static let relNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    func contentTypes() -> String {
        var s = XLSXWorkbook.xmlHeader + "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
        s += "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
        s += "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
        s += "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
        s += "<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
        for i in sheets.indices {
            s += "<Override PartName=\"/xl/worksheets/sheet\(i + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }
        return s + "</Types>"
    }

    func packageRels() -> String {
        XLSXWorkbook.xmlHeader + "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
            + "<Relationship Id=\"rId1\" Type=\"\(XLSXWorkbook.relNS)/officeDocument\" Target=\"xl/workbook.xml\"/>"
            + "</Relationships>"
    }

    func workbookXML() -> String {
        var s = XLSXWorkbook.xmlHeader + "<workbook xmlns=\"\(XLSXWorkbook.mainNS)\" xmlns:r=\"\(XLSXWorkbook.relNS)\"><sheets>"
        for (i, sheet) in sheets.enumerated() {
            s += "<sheet name=\"\(SpreadsheetXML.escape(sheet.name))\" sheetId=\"\(i + 1)\" r:id=\"rId\(i + 1)\"/>"
        }
        s += "</sheets>"
        // Excel records each autofilter's range as the hidden name _xlnm._FilterDatabase (§18.2.5).
        let filtered = sheets.enumerated().filter { $0.element.frozenHeaderWithFilter }
        if !filtered.isEmpty {
            s += "<definedNames>"
            for (i, sheet) in filtered {
                let quoted = "'" + sheet.name.replacingOccurrences(of: "'", with: "''") + "'"
                let range = XLSXWorkbook.absolute(dataRange(sheet))
                s += "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"\(i)\" hidden=\"1\">\(SpreadsheetXML.escape(quoted + "!" + range))</definedName>"
            }
            s += "</definedNames>"
        }
        return s + "</workbook>"
    }

    func workbookRels() -> String {
        var s = XLSXWorkbook.xmlHeader + "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        for i in sheets.indices {
            s += "<Relationship Id=\"rId\(i + 1)\" Type=\"\(XLSXWorkbook.relNS)/worksheet\" Target=\"worksheets/sheet\(i + 1).xml\"/>"
        }
        s += "<Relationship Id=\"rId\(sheets.count + 1)\" Type=\"\(XLSXWorkbook.relNS)/styles\" Target=\"styles.xml\"/>"
        return s + "</Relationships>"
    }

    /// Number formats 164 (date-time with milliseconds, the finest Excel displays) and 165 (date);
    /// 164 is the first id free for custom formats (§18.8.30). Bold font for the header row.
    static let stylesXML = xmlHeader + "<styleSheet xmlns=\"\(mainNS)\">"
        + "<numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd hh:mm:ss.000\"/><numFmt numFmtId=\"165\" formatCode=\"yyyy-mm-dd\"/></numFmts>"
        + "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font><font><b/><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts>"
        + "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>"
        + "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"
        + "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>"
        + "<cellXfs count=\"4\">"
        + "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
        + "<xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
        + "<xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
        + "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>"
        + "</cellXfs>"
        + "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>"
        + "</styleSheet>"

    /// Header plus data: A1 to the last column of the last row.
    func dataRange(_ sheet: Sheet) -> String {
        let columns = max(1, sheet.header.count, sheet.rows.map(\.count).max() ?? 0)
        return "A1:" + SpreadsheetXML.ref(row: sheet.rows.count, column: columns - 1)
    }

    static func absolute(_ range: String) -> String {
        range.split(separator: ":").map { part in
            let letters = part.prefix { $0.isLetter }
            return "$" + letters + "$" + part.dropFirst(letters.count)
        }.joined(separator: ":")
    }

    // MARK: Worksheet (§18.3.1.99: sheetViews, cols, sheetData, autoFilter in this order)

    func worksheetXML(_ sheet: Sheet) -> String {
        var s = XLSXWorkbook.xmlHeader + "<worksheet xmlns=\"\(XLSXWorkbook.mainNS)\" xmlns:r=\"\(XLSXWorkbook.relNS)\">"
        s += "<dimension ref=\"\(dataRange(sheet))\"/>"
        if sheet.frozenHeaderWithFilter {
            s += "<sheetViews><sheetView workbookViewId=\"0\">"
            s += "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
            s += "<selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/>"
            s += "</sheetView></sheetViews>"
        }
        if !sheet.columnWidths.isEmpty {
            s += "<cols>"
            for (i, w) in sheet.columnWidths.enumerated() {
                s += "<col min=\"\(i + 1)\" max=\"\(i + 1)\" width=\"\(w)\" customWidth=\"1\"/>"
            }
            s += "</cols>"
        }
        s += "<sheetData>"
        s += row(0, sheet.header.map { .text($0) }, style: .header)
        for (i, cells) in sheet.rows.enumerated() { s += row(i + 1, cells, style: nil) }
        s += "</sheetData>"
        if sheet.frozenHeaderWithFilter { s += "<autoFilter ref=\"\(dataRange(sheet))\"/>" }
        return s + "</worksheet>"
    }

    func row(_ index: Int, _ cells: [Cell], style: Style?) -> String {
        var s = "<row r=\"\(index + 1)\">"
        for (column, cell) in cells.enumerated() {
            let r = SpreadsheetXML.ref(row: index, column: column)
            let st = style.map { " s=\"\($0.rawValue)\"" } ?? ""
            switch cell {
            case .empty: continue
            case .text(let text):
                let cut = text.count > XLSXWorkbook.maxCellCharacters ? String(text.prefix(XLSXWorkbook.maxCellCharacters)) : text
                s += "<c r=\"\(r)\"\(st) t=\"inlineStr\"><is><t xml:space=\"preserve\">\(SpreadsheetXML.escape(cut))</t></is></c>"
            case .integer(let v): s += "<c r=\"\(r)\"\(st)><v>\(v)</v></c>"
            case .number(let v):
                guard v.isFinite else { continue }
                s += "<c r=\"\(r)\"\(st)><v>\(v)</v></c>"
            case .dateTime(let t): s += "<c r=\"\(r)\" s=\"\(Style.dateTime.rawValue)\"><v>\(SpreadsheetXML.serial(t))</v></c>"
            case .date(let day): s += "<c r=\"\(r)\" s=\"\(Style.date.rawValue)\"><v>\(SpreadsheetXML.serial(day: day))</v></c>"
            }
        }
        return s + "</row>"
    }
}
