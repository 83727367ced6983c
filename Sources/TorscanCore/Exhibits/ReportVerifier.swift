// `torscan verify report FILES...` (issue 8): re-derives every row of an evidence report from the
// captures and says, row by row, whether it holds. The captures are analysed again (per day when the
// report has a `day` column or JSON `day` keys), the fresh rows are rendered exactly as `torscan --csv`
// renders them, and each report row is compared with the fresh row of the same (ip, infohash[, via][, day]).
// Reads CSV (RFC 4180, with or without `day`), the `--json` run object and `--ndjson`.
// Text off the wire (client, torrent_name) is not checked: it depends on options (--torrent) and
// spreadsheets rewrite it; the summary says so.
import Foundation
import WireBytes
import PacketDecode
import FlowEvidence
import Reports

public struct RowVerdict: Sendable, Equatable {
    public struct Mismatch: Sendable, Equatable { public var column: String, report: String, captures: String }
    /// 1-based data row of the report (the header is not counted).
    public var row: Int
    public var ip: String, infoHash: String, day: String?
    /// The row's `via` when the report has that column and it is not empty.
    public var via: String? = nil
    /// Nil when the captures give no row with this key.
    public var mismatches: [Mismatch]?
    public var holds: Bool { mismatches?.isEmpty == true }

    public var line: String {
        let key = "\(ip) \(infoHash)" + (via.map { " via \($0)" } ?? "") + (day.map { " \($0)" } ?? "")
        guard let mismatches else { return "FAIL row \(row): not derivable from the captures (no row for \(key))" }
        if mismatches.isEmpty { return "OK row \(row) \(key)" }
        return "FAIL row \(row) \(key): " + mismatches.map { "column \($0.column) report=\($0.report) captures=\($0.captures)" }.joined(separator: "; ")
    }
}

public struct ReportVerification: Sendable {
    public var verdicts: [RowVerdict]
    public var perDay: Bool
    /// Checked columns the report does not have.
    public var absentColumns: [String]
    /// Rows the captures give that the report does not list (a filtered report is not wrong).
    public var unreportedRows: Int
    public var run: AnalysisRun
    public var allHold: Bool { verdicts.allSatisfy(\.holds) }

    public var summary: String {
        let ok = verdicts.filter(\.holds).count
        var s = "verify: \(verdicts.count) rows, \(ok) hold, \(verdicts.count - ok) fail"
        s += "; not checked: " + (ReportVerifier.uncheckedColumns + absentColumns).joined(separator: ", ")
        if unreportedRows > 0 { s += "; the captures give \(unreportedRows) row(s) the report does not list" }
        return s
    }
}

public enum ReportVerifierError: Error, CustomStringConvertible {
    case unreadable(String)
    public var description: String { switch self { case .unreadable(let r): r } }
}

public enum ReportVerifier {
    /// Compared for every row (the key columns ip, infohash and day select the row).
    public static let checkedColumns = [
        "first_seen", "last_seen", "active_days", "confidence", "signals", "flows", "peers", "bytes_up", "bytes_down",
        "pieces_up", "pieces_down", "pieces_verified", "capture", "first_frame",
    ]
    public static let uncheckedColumns = ["client", "torrent_name"]
    /// Proxy columns (ProxyAttribution.swift): compared when the report has them, not required (reports
    /// written before they existed lack them). `via` is part of the key when present.
    public static let proxyColumns = ["target", "attributed_to"]

    public static func verify(report text: String, paths: [String], options: AnalysisOptions = AnalysisOptions()) throws -> ReportVerification {
        let (rows, perDay, columns) = try parse(text)
        var opts = options
        opts.perDay = perDay
        let run = try Pipeline.analyze(paths: paths, options: opts)
        let fresh = try CSVTable(parsing: EvidenceReport.csv(run.evidence, captures: run.capturePaths, perDay: perDay,
                                                             fractionDigits: run.fractionDigits)).dictionaries
        var byKey: [String: [String: String]] = [:]
        let withVia = columns.contains("via")
        for r in fresh { byKey[key(r, perDay: perDay, via: withVia)] = r }
        var matched = Set<String>()
        var verdicts: [RowVerdict] = []
        for (n, r) in rows.enumerated() {
            let k = key(r, perDay: perDay, via: withVia)
            var v = RowVerdict(row: n + 1, ip: r["ip"] ?? "", infoHash: r["infohash"] ?? "", day: perDay ? (r["day"] ?? "") : nil)
            if let via = r["via"], !via.isEmpty { v.via = via }
            if let f = byKey[k] {
                matched.insert(k)
                v.mismatches = (checkedColumns + proxyColumns).filter { columns.contains($0) }.compactMap { c in
                    let (a, b) = (r[c] ?? "", f[c] ?? "")
                    return same(c, a, b) ? nil : RowVerdict.Mismatch(column: c, report: a, captures: b)
                }
            }
            verdicts.append(v)
        }
        return ReportVerification(verdicts: verdicts, perDay: perDay,
                                  absentColumns: checkedColumns.filter { !columns.contains($0) },
                                  unreportedRows: byKey.count - matched.count, run: run)
    }

    /// (ip, infohash[, via][, day]) with the address in its canonical spelling and the hash in lowercase.
    static func key(_ r: [String: String], perDay: Bool, via: Bool = false) -> String {
        let ipText = r["ip"] ?? ""
        let ip = IPAddress(ipText)?.description ?? ipText
        return ip + " " + (r["infohash"] ?? "").lowercased() + (via ? " via " + (r["via"] ?? "") : "") + (perDay ? " " + (r["day"] ?? "") : "")
    }

    static func same(_ column: String, _ a: String, _ b: String) -> Bool {
        if a == b { return true }
        switch column {
        case "first_seen", "last_seen":
            // The same instant written with 6 or 9 fractional digits holds.
            guard let x = Timestamp(rfc3339: a), let y = Timestamp(rfc3339: b) else { return false }
            return x == y
        case "signals":
            return Set(a.split(separator: ";")) == Set(b.split(separator: ";"))
        case "capture":
            let (x, y) = (undefuse(a), undefuse(b))
            return x == y || canonicalPath(x) == canonicalPath(y)
        default:
            return a.trimmingCharacters(in: .whitespaces) == b.trimmingCharacters(in: .whitespaces)
        }
    }

    /// Undoes CSVField.defuse: the apostrophe torscan put before text starting like a formula.
    static func undefuse(_ s: String) -> String {
        guard s.hasPrefix("'"), let second = s.unicodeScalars.dropFirst().first, "=+-@\t\r".unicodeScalars.contains(second) else { return s }
        return String(s.dropFirst())
    }

    static func canonicalPath(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }

    /// The report's rows as column -> text (as `--csv` would write them), whether it has a day column,
    /// and which columns it has.
    static func parse(_ text: String) throws -> (rows: [[String: String]], perDay: Bool, columns: Set<String>) {
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\u{FEFF}" }
        if trimmed.first == "{" || trimmed.first == "[" { return try parseJSON(String(trimmed)) }
        let table: CSVTable
        do { table = try CSVTable(parsing: String(trimmed)) } catch { throw ReportVerifierError.unreadable("\(error)") }
        guard table.header.contains("ip"), table.header.contains("infohash") else {
            throw ReportVerifierError.unreadable("not an evidence report: the header has no ip and infohash columns")
        }
        return (table.dictionaries, table.header.contains("day"), Set(table.header))
    }

    /// `--json` (an object with `rows`, or an array of rows) or `--ndjson` (one row object per line).
    static func parseJSON(_ text: String) throws -> (rows: [[String: String]], perDay: Bool, columns: Set<String>) {
        var objects: [[String: Any]] = []
        if let whole = try? JSONSerialization.jsonObject(with: Data(text.utf8)) {
            if let o = whole as? [String: Any], let rows = o["rows"] as? [[String: Any]] { objects = rows }
            else if let rows = whole as? [[String: Any]] { objects = rows }
            else if let o = whole as? [String: Any], o["ip"] != nil { objects = [o] }
            else { throw ReportVerifierError.unreadable("not an evidence report: no rows") }
        } else {
            for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
                guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                    throw ReportVerifierError.unreadable("line \(n + 1) is not a JSON object")
                }
                objects.append(o)
            }
        }
        let rows = objects.map { o -> [String: String] in
            var d: [String: String] = [:]
            for (k, v) in o { if let s = csvText(k, v) { d[k] = s } }
            return d
        }
        let columns = Set(objects.flatMap(\.keys))
        return (rows, columns.contains("day"), columns)
    }

    /// A JSON row value written the way the CSV writes it (active_days: the count; signals: `;`-joined).
    static func csvText(_ key: String, _ v: Any) -> String? {
        switch v {
        case let s as String: return s
        case let a as [Any] where key == "active_days": return String(a.count)
        case let a as [Any]: return a.compactMap { $0 as? String }.joined(separator: ";")
        case let i as Int: return String(i)
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }
}
