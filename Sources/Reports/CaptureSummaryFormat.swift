// Rendering of `torscan info` (capinfos-like): text for people, a JSON array for programs. Key
// order is fixed and output is deterministic (DESIGN.md rule 7).
import WireBytes
import CaptureFile

public enum CaptureSummaryFormat {
    /// One file's outcome: a summary, or why it could not be opened.
    public typealias Entry = (path: String, summary: Result<CaptureSummary, CaptureOpenError>)

    /// Earliest and latest packet time, or none when some packet has no timestamp (pcapng Simple
    /// Packet Blocks): capinfos then reports the times as unknown, and so do we.
    public static func timeSpan(_ r: CaptureReadResult) -> (first: Timestamp?, last: Timestamp?) {
        r.packetsWithoutTimestamp > 0 ? (nil, nil) : (r.firstTimestamp, r.lastTimestamp)
    }

    public static func linkTypeList(_ s: CaptureSummary) -> [String] { s.linkTypes.map(\.description) }

    public static func text(_ entries: [Entry]) -> String {
        var o = ""
        for (i, e) in entries.enumerated() {
            if i > 0 { o += "\n" }
            o += "File name:            \(e.path)\n"
            switch e.summary {
            case .failure(let err):
                o += "Error:                \(err.reason.rawValue)\(err.detail.isEmpty ? "" : " (\(err.detail))")\n"
            case .success(let s):
                let r = s.result
                o += "File format:          \(s.format.rawValue) (\(s.byteOrder.rawValue)-endian)\n"
                o += "Compression:          \(s.compression.rawValue)\n"
                o += "Timestamp resolution: \(s.timestampResolutions.map(\.description).joined(separator: ", "))\n"
                for (n, iface) in s.interfaces.enumerated() {
                    o += "Interface \(n):          \(iface.linkType) (\(iface.linkType.rawValue)), snaplen \(iface.snapLength)\n"
                }
                o += "Packets:              \(r.packets)\n"
                o += "Bytes (captured):     \(r.bytes)\n"
                o += "First packet:         \(timeSpan(r).first?.rfc3339() ?? "n/a")\n"
                o += "Last packet:          \(timeSpan(r).last?.rfc3339() ?? "n/a")\n"
                if r.packetsWithoutTimestamp > 0 { o += "Without timestamp:    \(r.packetsWithoutTimestamp)\n" }
                o += "Cut by snaplen:       \(r.truncatedBySnaplen)\n"
                let an = r.anomalies.nonZero
                o += "Anomalies:            \(an.isEmpty ? "none" : an.map { "\($0.0.rawValue)=\($0.1)" }.joined(separator: ", "))\n"
                for d in r.damage { o += "Damage:               \(d)\n" }
                if let h = s.sha256 { o += "SHA-256:              \(h)\n" }
            }
        }
        return o
    }

    public static func json(_ entries: [Entry]) -> String {
        var items: [String] = []
        for e in entries {
            var f: [(String, String)] = [("path", quote(e.path))]
            switch e.summary {
            case .failure(let err):
                f.append(("error", quote(err.description)))
                f.append(("reason", quote(err.reason.rawValue)))
            case .success(let s):
                let r = s.result
                f += [
                    ("format", quote(s.format.rawValue)),
                    ("byte_order", quote(s.byteOrder.rawValue)),
                    ("ts_resolution", quote(s.timestampResolutions.map(\.description).joined(separator: ","))),
                    ("compression", quote(s.compression.rawValue)),
                    ("link_types", "[" + linkTypeList(s).map(quote).joined(separator: ",") + "]"),
                    ("packets", String(r.packets)),
                    ("bytes", String(r.bytes)),
                    ("first_seen", timeSpan(r).first.map { quote($0.rfc3339()) } ?? "null"),
                    ("last_seen", timeSpan(r).last.map { quote($0.rfc3339()) } ?? "null"),
                    ("packets_without_timestamp", String(r.packetsWithoutTimestamp)),
                    ("snaplen", String(s.interfaces.first?.snapLength ?? 0)),
                    ("truncated_by_snaplen", String(r.truncatedBySnaplen)),
                    ("anomalies", "{" + r.anomalies.nonZero.map { "\(quote($0.0.rawValue)):\($0.1)" }.joined(separator: ",") + "}"),
                    ("damage", "[" + r.damage.map { quote($0.description) }.joined(separator: ",") + "]"),
                    ("sha256", s.sha256.map(quote) ?? "null"),
                ]
            }
            items.append("{" + f.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}")
        }
        return "[\n" + items.joined(separator: ",\n") + "\n]\n"
    }

    /// A JSON string literal (RFC 8259 §7), escaped as every JSON report of torscan escapes.
    public static func quote(_ s: String) -> String {
        var o = ""
        JSONValue.escape(s, into: &o)
        return o
    }
}
