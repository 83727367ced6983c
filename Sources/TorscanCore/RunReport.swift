// The JSON run object (inputs, options, counts, anomalies, then rows) and the readable summary
// shown on a terminal. Nothing time-of-run goes here: the same inputs give the same report.
import WireBytes
import Reports
import FlowEvidence
import BitTorrentClassifier

public enum RunReport {
    public static func json(_ run: AnalysisRun, options: AnalysisOptions, command: [String]) -> JSONValue {
        let inputs: [JSONValue] = run.inputs.map { i in
            .object([
                ("path", .string(i.path)),
                ("size", i.size.map { .int($0) } ?? .null),
                ("sha256", .optional(i.sha256)),
                ("packets", .int(i.packets)),
                ("bytes", .int(i.bytes)),
                ("first_seen", .optional(i.firstSeen?.rfc3339(fractionDigits: run.fractionDigits))),
                ("last_seen", .optional(i.lastSeen?.rfc3339(fractionDigits: run.fractionDigits))),
                ("anomalies", anomalies(i.anomalies)),
                ("damage", .array(i.damage.map { .string($0) })),
            ])
        }
        return .object([
            ("run", .object([
                ("torscan_version", .string(TorscanVersion.string)),
                ("git_commit", .string(BuildInfo.gitCommit)),
                ("classifier_version", .string(ClassifierVersion.version)),
                ("arguments", .array(command.dropFirst().map { .string($0) })),
                ("options", optionsJSON(options)),
                ("inputs", .array(inputs)),
                ("counts", .object(run.counts.map { ($0.0, .int($0.1)) })),
                ("anomalies", anomalies(run.anomalies)),
            ])),
            ("rows", .array(run.evidence.map { EvidenceReport.json($0, captures: run.capturePaths, fractionDigits: run.fractionDigits) })),
        ])
    }

    static func anomalies(_ a: [String: Int]) -> JSONValue {
        .object(a.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
    }

    static func optionsJSON(_ o: AnalysisOptions) -> JSONValue {
        .object([
            ("per_day", .bool(o.perDay)),
            ("filter", .optional(o.filter)),
            ("infohashes", .array(o.infoHashes.sorted().map { .string($0.hex) })),
            ("since", .optional(o.since?.rfc3339())),
            ("until", .optional(o.until?.rfc3339())),
            ("ip", .array(o.subjects.map { .string($0.description) })),
            ("tcp_idle_timeout_s", .int(o.analyzer.timeouts.tcpEstablished)),
            ("tcp_closing_timeout_s", .int(o.analyzer.timeouts.tcpClosing)),
            ("udp_idle_timeout_s", .int(o.analyzer.timeouts.udp)),
            ("max_flows", .int(o.analyzer.maxFlows)),
        ])
    }

    /// For a person at a terminal: counts, top addresses and torrents, anomalies.
    public static func summary(_ run: AnalysisRun) -> String {
        var s = "torscan \(TorscanVersion.string): \(run.inputs.count) capture(s), "
        s += "\(run.inputs.reduce(0) { $0 + $1.packets }) packets, \(run.flows.count) flows, \(run.evidence.count) evidence rows\n"
        for (k, v) in run.counts { s += "  \(k): \(v)\n" }
        let byIP = Dictionary(grouping: run.evidence, by: \.ip)
        if !byIP.isEmpty {
            s += "\nTop addresses (torrents, strongest confidence):\n"
            for (ip, rows) in byIP.sorted(by: { ($1.value.count, $0.key) < ($0.value.count, $1.key) }).prefix(10) {
                s += "  \(ip)  \(rows.count) torrent(s)  \(rows.map(\.confidence).max()!)\n"
            }
            s += "\nTop torrents (addresses):\n"
            let byHash = Dictionary(grouping: run.evidence, by: \.infoHash)
            for (h, rows) in byHash.sorted(by: { ($1.value.count, $0.key) < ($0.value.count, $1.key) }).prefix(10) {
                let name = rows.compactMap(\.torrentName).first.map { "  \($0)" } ?? ""
                s += "  \(h.hex)  \(rows.count) address(es)\(name)\n"
            }
        }
        let anomalies = run.anomalies.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !anomalies.isEmpty {
            s += "\nAnomalies:\n"
            for (k, v) in anomalies { s += "  \(k): \(v)\n" }
        }
        for i in run.inputs { for d in i.damage { s += "damaged: \(d)\n" } }
        s += "\nUse --csv, --json or --ndjson for the report itself.\n"
        return s
    }
}

public enum TorscanVersion {
    public static let string = BuildInfo.version
}

extension AnalysisRun {
    /// The manifest's record of each input (chain of custody).
    public var inputRecords: [InputRecord] {
        inputs.map { InputRecord(path: $0.path, size: $0.size ?? 0, sha256: $0.sha256 ?? "", firstSeen: $0.firstSeen, lastSeen: $0.lastSeen, packets: $0.packets) }
    }
}
