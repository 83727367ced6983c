// Building blocks of SpreadsheetML text (ECMA-376 Part 1, 5th ed., §18): XML-escaped strings, A1 cell
// references, and Excel serial dates.
import WireBytes

enum SpreadsheetXML {
    /// XML 1.0 character data with &, <, >, " escaped. Characters XML 1.0 forbids (C0 controls other than
    /// tab/LF/CR, U+FFFE, U+FFFF) are written as ST_Xstring escapes `_xHHHH_` (§22.9.2.19), and a literal
    /// `_xHHHH_` in the text is protected by escaping its underscore (`_x005F_`), so readers restore the text.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let scalars = Array(s.unicodeScalars)
        for (i, c) in scalars.enumerated() {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "_" where looksLikeEscape(scalars, at: i): out += "_x005F_"
            default:
                let v = c.value
                if (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0xFFFE || v == 0xFFFF {
                    out += "_x" + hex4(v) + "_"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// `_xHHHH_` starting at `i`.
    private static func looksLikeEscape(_ s: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + 6 < s.count, s[i + 1] == "x", s[i + 6] == "_" else { return false }
        return s[(i + 2)..<(i + 6)].allSatisfy { $0.properties.isASCIIHexDigit }
    }

    private static func hex4(_ v: UInt32) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        var s = ""
        for shift in stride(from: 12, through: 0, by: -4) { s.unicodeScalars.append(digits[Int((v >> UInt32(shift)) & 0xF)]) }
        return s
    }

    /// Column letters of a 0-based column index: 0 -> A, 25 -> Z, 26 -> AA.
    static func columnName(_ index: Int) -> String {
        var n = index + 1
        var s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }

    /// A1 reference of a 0-based (row, column).
    static func ref(row: Int, column: Int) -> String { columnName(column) + String(row + 1) }

    /// Days between Excel's 1900 date system day 0 (1899-12-30, which absorbs Excel's fictitious
    /// 1900-02-29) and 1970-01-01.
    static let unixEpochSerial: Int64 = 25_569

    /// Excel serial date of a UTC timestamp: whole days since 1899-12-30 plus the fraction of the day,
    /// rounded to the microsecond (a double holds microseconds of dates up to about year 2100).
    static func serial(_ t: Timestamp) -> Double {
        let micros = (t.nanoseconds - t.dayNumber * 86_400_000_000_000 + 500) / 1_000
        return Double(t.dayNumber + unixEpochSerial) + Double(micros) / 86_400_000_000
    }

    /// Serial of a UTC day (days since 1970-01-01).
    static func serial(day: Int64) -> Double { Double(day + unixEpochSerial) }
}
