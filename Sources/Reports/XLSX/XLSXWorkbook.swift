// A minimal SpreadsheetML workbook writer (ECMA-376 Part 1, 5th ed.): one ZIP package (Part 2, OPC) with
// [Content_Types].xml, _rels/.rels, xl/workbook.xml, xl/_rels/workbook.xml.rels, xl/styles.xml and one
// xl/worksheets/sheetN.xml per sheet. Strings are inline (§18.3.1.53 `is`), so no shared-strings part.
// Output is deterministic: fixed part order, fixed ZIP timestamps, no document properties with dates.
// Worksheets are rendered row by row while the archive is written (twice: once to learn the part's
// size, which the ZIP header needs first), so memory does not grow with the number of rows.
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
        /// The column headers; they also set the column count (cells past it are not written).
        public var header: [String]
        public var rowCount: Int
        /// The cells of data row `i` (0-based), asked for while the sheet is written.
        public var cells: @Sendable (Int) -> [Cell]
        /// Freeze the header row (pane ySplit=1) and put an autofilter over header and data.
        public var frozenHeaderWithFilter: Bool
        /// Column widths in characters (Excel's unit), by column; missing ones keep Excel's default.
        public var columnWidths: [Double]

        public init(name: String, header: [String], rowCount: Int, frozenHeaderWithFilter: Bool = true,
                    columnWidths: [Double] = [], cells: @escaping @Sendable (Int) -> [Cell]) {
            self.name = name; self.header = header; self.rowCount = rowCount; self.cells = cells
            self.frozenHeaderWithFilter = frozenHeaderWithFilter; self.columnWidths = columnWidths
        }

        public init(name: String, header: [String], rows: [[Cell]], frozenHeaderWithFilter: Bool = true, columnWidths: [Double] = []) {
            self.init(name: name, header: header, rowCount: rows.count, frozenHeaderWithFilter: frozenHeaderWithFilter,
                      columnWidths: columnWidths, cells: { rows[$0] })
        }
    }

    public var sheets: [Sheet]
    public init(sheets: [Sheet]) { self.sheets = sheets }

    /// Style indexes into cellXfs of styles.xml.
    enum Style: Int { case normal = 0, dateTime = 1, date = 2, header = 3 }

    /// Bytes of worksheet XML handed to the compressor at a time.
    static let streamChunkSize = 256 * 1024

    /// ZIP entries get this fixed time (2000-01-01T00:00:00Z) so identical workbooks are identical bytes.
    static let entryDate = Date(timeIntervalSince1970: 946_684_800)

    /// The workbook as the bytes of an .xlsx file (in memory: for small workbooks and tests).
    public func data() throws(XLSXError) -> Data {
        try validate()
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            try fill(archive)
            guard let out = archive.data else { throw XLSXError.zip("in-memory archive has no data") }
            return out
        } catch let e as XLSXError {
            throw e
        } catch {
            throw .zip(String(describing: error))
        }
    }

    /// Writes the workbook atomically (temporary file beside `path`, fsync, rename), streaming the sheets.
    public func write(to path: String) throws(XLSXError) {
        try validate()
        do {
            try AtomicFile.write(to: path) { temp in
                let archive = try Archive(url: URL(fileURLWithPath: temp), accessMode: .create)
                try fill(archive)
            }
        } catch {
            throw .write(error)
        }
    }

    func fill(_ archive: Archive) throws {
        let fixed: [(String, String)] = [
            ("[Content_Types].xml", contentTypes()),
            ("_rels/.rels", packageRels()),
            ("xl/workbook.xml", workbookXML()),
            ("xl/_rels/workbook.xml.rels", workbookRels()),
            ("xl/styles.xml", XLSXWorkbook.stylesXML),
        ]
        for (path, text) in fixed {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count),
                                 modificationDate: XLSXWorkbook.entryDate, compressionMethod: .deflate) { position, size in
                bytes.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        for (i, sheet) in sheets.enumerated() {
            let size = WorksheetStream.size(of: sheet)
            let stream = WorksheetStream(sheet)
            try archive.addEntry(with: "xl/worksheets/sheet\(i + 1).xml", type: .file, uncompressedSize: Int64(size),
                                 modificationDate: XLSXWorkbook.entryDate, compressionMethod: .deflate,
                                 bufferSize: XLSXWorkbook.streamChunkSize) { _, count in
                stream.read(count)
            }
        }
    }

    func validate() throws(XLSXError) {
        for s in sheets {
            guard (1...XLSXWorkbook.maxSheetNameLength).contains(s.name.count),
                  !s.name.contains(where: { "[]:*?/\\".contains($0) }) else { throw .badSheetName(s.name) }
            guard s.rowCount + 1 <= XLSXWorkbook.maxRows else { throw .tooManyRows(sheet: s.name, rows: s.rowCount + 1) }
            guard s.header.count <= XLSXWorkbook.maxColumns else { throw .tooManyColumns(sheet: s.name, columns: s.header.count) }
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
    static func dataRange(_ sheet: Sheet) -> String {
        "A1:" + SpreadsheetXML.ref(row: sheet.rowCount, column: max(1, sheet.header.count) - 1)
    }
    func dataRange(_ sheet: Sheet) -> String { XLSXWorkbook.dataRange(sheet) }

    static func absolute(_ range: String) -> String {
        range.split(separator: ":").map { part in
            let letters = part.prefix { $0.isLetter }
            return "$" + letters + "$" + part.dropFirst(letters.count)
        }.joined(separator: ":")
    }

    /// The whole worksheet part as text (tests; writing streams it).
    func worksheetXML(_ sheet: Sheet) -> String {
        let s = WorksheetStream(sheet)
        var out: [UInt8] = []
        while true {
            let d = s.read(1 << 16)
            if d.isEmpty { break }
            out += d
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A worksheet part (§18.3.1.99: dimension, sheetViews, cols, sheetData, autoFilter in this order),
/// rendered a row at a time as the ZIP writer asks for bytes.
final class WorksheetStream {
    let sheet: XLSXWorkbook.Sheet
    /// -1: the part's head and header row; 0..<rowCount: data rows; rowCount: the tail; then done.
    private var next = -1
    private var pending: [UInt8] = []
    private var start = 0

    init(_ sheet: XLSXWorkbook.Sheet) { self.sheet = sheet }

    /// The part's size in bytes: every row rendered once and counted.
    static func size(of sheet: XLSXWorkbook.Sheet) -> Int {
        let s = WorksheetStream(sheet)
        var total = 0
        while s.renderNext() {
            total += s.pending.count
            s.pending.removeAll(keepingCapacity: true)
        }
        return total
    }

    /// The next `count` bytes (fewer only at the end).
    func read(_ count: Int) -> Data {
        while pending.count - start < count, renderNext() {}
        let n = min(count, pending.count - start)
        let out = Data(pending[start..<(start + n)])
        start += n
        if start > 1 << 16, start * 2 > pending.count {
            pending.removeFirst(start)
            start = 0
        }
        return out
    }

    /// Appends the next piece to `pending`; false when the part is complete.
    private func renderNext() -> Bool {
        defer { next += 1 }
        if next == -1 {
            appendHead()
        } else if next < sheet.rowCount {
            appendRow(next + 1, sheet.cells(next), style: nil)
        } else if next == sheet.rowCount {
            pending += "</sheetData>".utf8
            if sheet.frozenHeaderWithFilter { pending += "<autoFilter ref=\"\(XLSXWorkbook.dataRange(sheet))\"/>".utf8 }
            pending += "</worksheet>".utf8
        } else {
            return false
        }
        return true
    }

    private func appendHead() {
        var s = XLSXWorkbook.xmlHeader + "<worksheet xmlns=\"\(XLSXWorkbook.mainNS)\" xmlns:r=\"\(XLSXWorkbook.relNS)\">"
        s += "<dimension ref=\"\(XLSXWorkbook.dataRange(sheet))\"/>"
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
        pending += s.utf8
        appendRow(0, sheet.header.map { .text($0) }, style: .header)
    }

    private func appendRow(_ index: Int, _ cells: [XLSXWorkbook.Cell], style: XLSXWorkbook.Style?) {
        let rowNumber = String(index + 1)
        pending += "<row r=\"".utf8
        pending += rowNumber.utf8
        pending += "\">".utf8
        for (column, cell) in cells.prefix(sheet.header.count).enumerated() {
            if case .empty = cell { continue }
            if case .number(let v) = cell, !v.isFinite { continue }  // NaN and infinities have no cell value
            pending += "<c r=\"".utf8
            pending += SpreadsheetXML.columnName(column).utf8
            pending += rowNumber.utf8
            pending += "\"".utf8
            switch cell {
            case .dateTime: pending += " s=\"\(XLSXWorkbook.Style.dateTime.rawValue)\"".utf8
            case .date: pending += " s=\"\(XLSXWorkbook.Style.date.rawValue)\"".utf8
            default: if let style { pending += " s=\"\(style.rawValue)\"".utf8 }
            }
            switch cell {
            case .empty: break
            case .text(let text):
                let cut = text.utf8.count > XLSXWorkbook.maxCellCharacters && text.count > XLSXWorkbook.maxCellCharacters
                    ? String(text.prefix(XLSXWorkbook.maxCellCharacters)) : text
                // Excel trims edge whitespace unless told to keep it (xml:space, XML 1.0 §2.10).
                let edges = [cut.utf8.first, cut.utf8.last].compactMap { $0 }
                let keep = edges.contains { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
                pending += (keep ? " t=\"inlineStr\"><is><t xml:space=\"preserve\">" : " t=\"inlineStr\"><is><t>").utf8
                SpreadsheetXML.appendEscaped(cut, to: &pending)
                pending += "</t></is></c>".utf8
            case .integer(let v): appendValue(String(v))
            case .number(let v): appendValue(String(v))
            case .dateTime(let t): appendValue(String(SpreadsheetXML.serial(t)))
            case .date(let day): appendValue(String(SpreadsheetXML.serial(day: day)))
            }
        }
        pending += "</row>".utf8
    }

    private func appendValue(_ v: String) {
        pending += "><v>".utf8
        pending += v.utf8
        pending += "</v></c>".utf8
    }
}
