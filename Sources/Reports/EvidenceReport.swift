// The evidence report in its three machine formats (DESIGN.md output contract).
// CSV: the contract columns in order, then `via`, `target`, `attributed_to` (proxies), then `day` for --per-day. JSON: one run object with the rows.
// NDJSON: one row object per line. Text that came off the wire is defused against formulas.
import Foundation
import WireBytes
import FlowEvidence

public enum EvidenceReport {
    public static let csvColumns = [
        "ip", "infohash", "first_seen", "last_seen", "active_days", "confidence", "signals", "flows", "peers",
        "bytes_up", "bytes_down", "pieces_up", "pieces_down", "pieces_verified", "client", "torrent_name",
        "capture", "first_frame",
        // After the contract columns (DESIGN.md: "more may follow"); ProxyAttribution.swift.
        "via", "target", "attributed_to",
    ]

    /// Fractional digits in timestamps: 9 where any input has nanosecond resolution, else 6.
    public static func csv(_ rows: [EvidenceRow], captures: [String], perDay: Bool, fractionDigits: Int = 6) -> String {
        var out = CSVField.row(perDay ? csvColumns + ["day"] : csvColumns)
        for r in rows {
            var fields = [
                r.ip.description,
                r.infoHash.hex,
                r.firstSeen.rfc3339(fractionDigits: fractionDigits),
                r.lastSeen.rfc3339(fractionDigits: fractionDigits),
                String(r.activeDays.count),
                r.confidence.description,
                signals(r),
                String(r.flows), String(r.peers),
                String(r.bytesUp), String(r.bytesDown),
                String(r.piecesUp), String(r.piecesDown), String(r.piecesVerified),
                CSVField.defuse(r.client ?? ""),
                CSVField.defuse(r.torrentName ?? ""),
                CSVField.defuse(capturePath(r.firstFrame, captures)),
                String(r.firstFrame.frame),
                r.via?.description ?? "",
                CSVField.defuse(targets(r)),
                attributedTo(r),
            ]
            if perDay { fields.append(r.day.map { Timestamp(seconds: $0 * 86_400, nanos: 0).utcDay } ?? "") }
            out += CSVField.row(fields)
        }
        return out
    }

    public static func json(_ r: EvidenceRow, captures: [String], fractionDigits: Int = 6) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("ip", .string(r.ip.description)),
            ("infohash", .string(r.infoHash.hex)),
        ]
        if let day = r.day { pairs.append(("day", .string(Timestamp(seconds: day * 86_400, nanos: 0).utcDay))) }
        pairs += [
            ("first_seen", .string(r.firstSeen.rfc3339(fractionDigits: fractionDigits))),
            ("last_seen", .string(r.lastSeen.rfc3339(fractionDigits: fractionDigits))),
            ("active_days", .array(r.activeDays.map { .string(Timestamp(seconds: $0 * 86_400, nanos: 0).utcDay) })),
            ("confidence", .string(r.confidence.description)),
            ("signals", .array(r.signals.sorted().map { .string($0.rawValue) })),
            ("flows", .int(r.flows)), ("peers", .int(r.peers)),
            ("bytes_up", .int(r.bytesUp)), ("bytes_down", .int(r.bytesDown)),
            ("pieces_up", .int(r.piecesUp)), ("pieces_down", .int(r.piecesDown)),
            ("pieces_verified", .int(r.piecesVerified)),
            ("client", .optional(r.client)),
            ("torrent_name", .optional(r.torrentName)),
            ("capture", .string(capturePath(r.firstFrame, captures))),
            ("first_frame", .int(r.firstFrame.frame)),
            ("via", .optional(r.via?.description)),
            ("target", .array(r.targets.map { .string($0) })),
            ("attributed_to", .array(r.attributedTo.map { .string($0.description) })),
            ("supporting_frames", .array(r.supportingFrames.map { f in
                .object([("capture", .string(capturePath(f, captures))), ("frame", .int(f.frame))])
            })),
        ]
        return .object(pairs)
    }

    public static func ndjson(_ rows: [EvidenceRow], captures: [String], fractionDigits: Int = 6) -> String {
        rows.map { json($0, captures: captures, fractionDigits: fractionDigits).serialized() + "\n" }.joined()
    }

    static func signals(_ r: EvidenceRow) -> String { r.signals.sorted().map(\.rawValue).joined(separator: ";") }
    /// `;`-joined, as in `signals` (targets are sorted and distinct in the row).
    static func targets(_ r: EvidenceRow) -> String { r.targets.joined(separator: ";") }
    static func attributedTo(_ r: EvidenceRow) -> String { r.attributedTo.map(\.description).joined(separator: ";") }

    static func capturePath(_ f: FrameRef, _ captures: [String]) -> String {
        captures.indices.contains(f.captureIndex) ? captures[f.captureIndex] : ""
    }
}

/// `torscan flows`: one row per flow (DESIGN.md flow contract), then `client`.
public enum FlowReport {
    public static let csvColumns = [
        "proto", "src_ip", "src_port", "dst_ip", "dst_port", "first_seen", "last_seen", "packets", "bytes",
        "label", "infohashes", "tunnel", "first_frame", "capture", "client", "tunnel_target", "attributed_to", "linked_frame",
        "encrypted_by",
    ]

    public static func csv(_ rows: [FlowRow], captures: [String], fractionDigits: Int = 6) -> String {
        var out = CSVField.row(csvColumns)
        for r in rows {
            out += CSVField.row([
                r.proto.rawValue, r.srcIP.description, String(r.srcPort), r.dstIP.description, String(r.dstPort),
                r.firstSeen.rfc3339(fractionDigits: fractionDigits), r.lastSeen.rfc3339(fractionDigits: fractionDigits),
                String(r.packets), String(r.bytes), r.label,
                r.infoHashes.map(\.hex).joined(separator: ";"), r.tunnel ?? "", String(r.firstFrame.frame),
                CSVField.defuse(EvidenceReport.capturePath(r.firstFrame, captures)), CSVField.defuse(r.client ?? ""),
                CSVField.defuse(r.tunnelTarget ?? ""),
                r.attributedTo?.description ?? "", r.linkedFrame.map { String($0.frame) } ?? "",
                r.encryptedBy ?? "",
            ])
        }
        return out
    }

    public static func json(_ r: FlowRow, captures: [String], fractionDigits: Int = 6) -> JSONValue {
        .object([
            ("proto", .string(r.proto.rawValue)),
            ("src_ip", .string(r.srcIP.description)), ("src_port", .int(Int(r.srcPort))),
            ("dst_ip", .string(r.dstIP.description)), ("dst_port", .int(Int(r.dstPort))),
            ("first_seen", .string(r.firstSeen.rfc3339(fractionDigits: fractionDigits))),
            ("last_seen", .string(r.lastSeen.rfc3339(fractionDigits: fractionDigits))),
            ("packets", .int(r.packets)), ("bytes", .int(r.bytes)),
            ("label", .string(r.label)),
            ("infohashes", .array(r.infoHashes.map { .string($0.hex) })),
            ("tunnel", .optional(r.tunnel)),
            ("tunnel_target", .optional(r.tunnelTarget)),
            ("attributed_to", .optional(r.attributedTo?.description)),
            ("linked_frame", r.linkedFrame.map { .int($0.frame) } ?? .null),
            ("capture", .string(EvidenceReport.capturePath(r.firstFrame, captures))),
            ("first_frame", .int(r.firstFrame.frame)),
            ("client", .optional(r.client)),
            ("encrypted_by", .optional(r.encryptedBy)),
        ])
    }
}
