// Building blocks of SpreadsheetML text (ECMA-376 Part 1, 5th ed., §18): XML-escaped strings, A1 cell
// references, and Excel serial dates. Text is appended as UTF-8 bytes: a worksheet can hold a million rows.
import WireBytes

enum SpreadsheetXML {
    /// Appends XML 1.0 character data with &, <, >, " escaped. Characters XML 1.0 forbids (C0 controls
    /// other than tab/LF/CR, U+FFFE, U+FFFF) are written as ST_Xstring escapes `_xHHHH_` (§22.9.2.19), and a
    /// literal `_xHHHH_` in the text is protected by escaping its underscore (`_x005F_`), so readers restore it.
    static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { u in
            var i = 0
            while i < u.count {
                let c = u[i]
                switch c {
                case UInt8(ascii: "&"): out += "&amp;".utf8
                case UInt8(ascii: "<"): out += "&lt;".utf8
                case UInt8(ascii: ">"): out += "&gt;".utf8
                case UInt8(ascii: "\""): out += "&quot;".utf8
                case UInt8(ascii: "_") where looksLikeEscape(u, at: i): out += "_x005F_".utf8
                case 0x09, 0x0A, 0x0D: out.append(c)
                case 0..<0x20: appendCodeEscape(UInt32(c), to: &out)
                case 0xEF where i + 2 < u.count && u[i + 1] == 0xBF && (u[i + 2] == 0xBE || u[i + 2] == 0xBF):
                    appendCodeEscape(u[i + 2] == 0xBE ? 0xFFFE : 0xFFFF, to: &out)
                    i += 2
                default: out.append(c)
                }
                i += 1
            }
        }
    }

    static func escape(_ s: String) -> String {
        var out: [UInt8] = []
        appendEscaped(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `_xHHHH_` starting at `i`.
    private static func looksLikeEscape(_ u: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i + 6 < u.count, u[i + 1] == UInt8(ascii: "x"), u[i + 6] == UInt8(ascii: "_") else { return false }
        return (i + 2..<i + 6).allSatisfy { isHex(u[$0]) }
    }

    private static func isHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...70).contains(c) || (97...102).contains(c) }

    private static func appendCodeEscape(_ v: UInt32, to out: inout [UInt8]) {
        let digits = Array("0123456789ABCDEF".utf8)
        out += "_x".utf8
        for shift in stride(from: 12, through: 0, by: -4) { out.append(digits[Int((v >> UInt32(shift)) & 0xF)]) }
        out.append(UInt8(ascii: "_"))
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
