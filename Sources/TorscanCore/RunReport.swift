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
        s += "\(run.inputs.reduce(0) { $0 + $1.packets }) packets, \(run.counts.first { $0.0 == "flows" }?.1 ?? run.flows.count) flows, \(run.evidence.count) evidence rows\n"
        for (k, v) in run.counts { s += "  \(k): \(v)\n" }
        // Counts are of distinct torrents and addresses: an address may have a direct row and rows via proxies.
        let byIP = Dictionary(grouping: run.evidence, by: \.ip).mapValues { (Set($0.map(\.infoHash)).count, $0.map(\.confidence).max()!) }
        if !byIP.isEmpty {
            s += "\nTop addresses (torrents, strongest confidence):\n"
            for (ip, v) in byIP.sorted(by: { ($1.value.0, $0.key) < ($0.value.0, $1.key) }).prefix(10) {
                s += "  \(ip)  \(v.0) torrent(s)  \(v.1)\n"
            }
            s += "\nTop torrents (addresses):\n"
            let byHash = Dictionary(grouping: run.evidence, by: \.infoHash)
                .mapValues { (Set($0.map(\.ip)).count, $0.compactMap(\.torrentName).first.map { "  \($0)" } ?? "") }
            for (h, v) in byHash.sorted(by: { ($1.value.0, $0.key) < ($0.value.0, $1.key) }).prefix(10) {
                s += "  \(h.hex)  \(v.0) address(es)\(v.1)\n"
            }
        }
        let via = run.evidence.filter { $0.via != nil }, attributed = run.evidence.filter { !$0.attributedTo.isEmpty }
        if !via.isEmpty || !attributed.isEmpty {
            s += "\nThrough proxies: \(via.count) row(s) seen on a client's tunnel (via), \(attributed.count) proxy row(s) attributed to clients\n"
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
