import Foundation

// RFC 4180 fields, with text that came off the wire defused so that no spreadsheet evaluates it
// as a formula (OWASP "CSV injection": a leading =, +, -, @, tab or CR).

public enum CSVField {
    /// One field: quoted when it holds a comma, quote, CR or LF; quotes doubled.
    public static func quote(_ s: String) -> String {
        var needs = false
        for u in s.utf8 where u == 44 || u == 34 || u == 10 || u == 13 { needs = true; break }
        guard needs else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text from the wire: prefixed with an apostrophe when its first character would start a formula.
    public static func defuse(_ s: String) -> String {
        guard let first = s.utf8.first else { return s }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13: return "'" + s
        default: return s
        }
    }

    /// A row, fields joined by commas, terminated by CRLF as RFC 4180 says.
    public static func row(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\r\n"
    }
}
