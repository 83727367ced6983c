// Reading CSV back (RFC 4180): fields separated by commas, records by CRLF (a bare LF is accepted
// too), fields in double quotes may hold commas, quotes (doubled) and line breaks. Used by
// `torscan verify` to read a report that torscan (or a spreadsheet) wrote.

public struct CSVTable: Sendable {
    public var header: [String]
    /// Data records, header excluded; each as many fields as it had (not padded).
    public var records: [[String]]

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case empty
        /// A quoted field that never closes; `record` is 1-based, counting the header.
        case unterminatedQuote(record: Int)
        /// A character other than a separator right after a closing quote.
        case textAfterQuote(record: Int)
        public var description: String {
            switch self {
            case .empty: "the report is empty"
            case .unterminatedQuote(let r): "record \(r): a quoted field is not closed"
            case .textAfterQuote(let r): "record \(r): text after a closing quote"
            }
        }
    }

    /// Parses `text`. A trailing line break does not make an empty last record; blank lines are skipped.
    public init(parsing text: String) throws(ParseError) {
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var inQuotes = false, afterQuote = false, fieldStarted = false
        let bytes = Array(text.utf8)
        var i = 0
        func endField() { record.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true); afterQuote = false; fieldStarted = false }
        func endRecord() {
            let blank = record.isEmpty && !fieldStarted
            endField()
            if !blank { records.append(record) }
            record.removeAll()
        }
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") { field.append(c); i += 2; continue }
                    inQuotes = false; afterQuote = true
                } else {
                    field.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: ","): endField()
            case 13 where i + 1 < bytes.count && bytes[i + 1] == 10: endRecord(); i += 1
            case 10, 13: endRecord()
            case UInt8(ascii: "\"") where !fieldStarted: inQuotes = true; fieldStarted = true
            default:
                if afterQuote { throw .textAfterQuote(record: records.count + 1) }
                field.append(c); fieldStarted = true
            }
            i += 1
        }
        if inQuotes { throw .unterminatedQuote(record: records.count + 1) }
        if fieldStarted || !record.isEmpty || afterQuote { endRecord() }
        guard let first = records.first else { throw .empty }
        header = first
        self.records = Array(records.dropFirst())
    }

    /// Each record as column name -> value (missing trailing fields are absent).
    public var dictionaries: [[String: String]] {
        records.map { r in
            var d: [String: String] = [:]
            for (k, v) in zip(header, r) where d[k] == nil { d[k] = v }
            return d
        }
    }
}
