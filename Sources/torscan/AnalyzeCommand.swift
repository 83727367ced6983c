// `torscan FILE... [--csv|--json|--ndjson] [--per-day] [--out FILE]`: the main job.
import ArgumentParser
import Foundation
import WireBytes
import BitTorrentClassifier
import Reports
import TorscanCore
import FlowEvidence

struct OutputOptions: ParsableArguments {
    @Flag(help: "Write CSV (the output contract's columns).") var csv = false
    @Flag(help: "Write one JSON object: the run (inputs, options, counts, anomalies), then the rows.") var json = false
    @Flag(help: "Write one JSON object per row, one per line.") var ndjson = false
    @Option(help: "Write the report to FILE atomically (a temporary file, then rename).") var out: String?
    @Flag(help: "No progress bar on standard error.") var quiet = false

    func validate() throws {
        if [csv, json, ndjson].filter({ $0 }).count > 1 { throw ValidationError("choose one of --csv, --json, --ndjson") }
    }
    var format: ReportFormat {
        if csv { return .csv }
        if json { return .json }
        if ndjson { return .ndjson }
        return out == nil && isatty(STDOUT_FILENO) == 1 ? .summary : .csv
    }
}

struct SelectionOptions: ParsableArguments {
    @Option(help: "A BPF filter expression applied to every frame (tcpdump syntax).") var filter: String?
    @Option(name: .customLong("infohash"), help: "Only this infohash (40 or 64 hex digits); repeatable.") var infoHashes: [String] = []
    @Option(name: .customLong("infohash-file"), help: "A watch list: one infohash per line (# comments).") var infoHashFile: String?
    @Option(help: "Ignore packets before this UTC time (RFC 3339 or YYYY-MM-DD).") var since: String?
    @Option(help: "Ignore packets after this UTC time (RFC 3339 or YYYY-MM-DD).") var until: String?
    @Option(name: .customLong("ip"), help: "Only these addresses become subjects (CIDR); repeatable.") var ips: [String] = []
    @Option(help: "Idle timeout for TCP flows, seconds.") var tcpTimeout: Int?
    @Option(help: "Idle timeout for UDP flows, seconds.") var udpTimeout: Int?
    @Option(help: "Most flows kept in memory at once; older ones are evicted (and counted).") var maxFlows: Int?
    @Option(help: "Analysis threads (default: the CPUs this process may use: its cores, or fewer under a cgroup CPU quota). Reports are the same for any N; standard input, compressed files and --torrent use one.") var threads: Int?
    @Option(name: .customLong("torrent"), help: "A .torrent file or a directory of them (v1, v2, hybrid): names the torrents and verifies the pieces peers sent; repeatable.") var torrents: [String] = []

    func options(perDay: Bool) throws -> AnalysisOptions {
        var o = AnalysisOptions()
        o.perDay = perDay
        o.filter = filter
        for h in infoHashes {
            guard let v = InfoHash(hex: h) else { throw ValidationError("--infohash \(h): not 40 or 64 hex digits") }
            o.infoHashes.insert(v.truncated)
        }
        if let f = infoHashFile {
            guard let text = try? String(contentsOfFile: f, encoding: .utf8) else { throw ValidationError("--infohash-file \(f): cannot read") }
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let t = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                if t.isEmpty { continue }
                guard let v = InfoHash(hex: t) else { throw ValidationError("--infohash-file \(f):\(n + 1): not an infohash: \(t)") }
                o.infoHashes.insert(v.truncated)
            }
        }
        if let s = since { guard let t = Timestamp(rfc3339: s) else { throw ValidationError("--since \(s): not an RFC 3339 time") }; o.since = t }
        if let u = until { guard let t = Timestamp(rfc3339: u) else { throw ValidationError("--until \(u): not an RFC 3339 time") }; o.until = t }
        for c in ips { guard let v = CIDR(c) else { throw ValidationError("--ip \(c): not an address or CIDR prefix") }; o.subjects.append(v) }
        if let t = tcpTimeout { guard t > 0 else { throw ValidationError("--tcp-timeout must be positive") }; o.analyzer.timeouts.tcpEstablished = Int64(t) }
        if let t = udpTimeout { guard t > 0 else { throw ValidationError("--udp-timeout must be positive") }; o.analyzer.timeouts.udp = Int64(t) }
        if !torrents.isEmpty {
            let catalog = TorrentCatalog(paths: torrents)
            if let e = catalog.errors.first { throw ValidationError("--torrent \(e)") }
            guard !catalog.entries.isEmpty else { throw ValidationError("--torrent \(torrents.joined(separator: " ")): no .torrent file found") }
            o.analyzer.torrents = catalog
        }
        if let m = maxFlows { guard m > 0 else { throw ValidationError("--max-flows must be positive") }; o.analyzer.maxFlows = m }
        if let t = threads { guard t > 0 else { throw ValidationError("--threads must be positive") }; o.threads = t }
        return o
    }
}

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evidence by IP address and infohash (the default command).")

    @Argument(help: "Capture files or directories (walked recursively); - reads standard input.") var files: [String]
    @Flag(name: .customLong("per-day"), help: "One row per (IP, infohash, UTC day): the confirmed-dates sheet.") var perDay = false
    @Option(help: "Also write an Excel workbook: the evidence sheet (UTC dates, frozen header, autofilter) and a manifest sheet.") var xlsx: String?
    @Option(help: "Write the run manifest (inputs with SHA-256, versions, options, outputs with SHA-256, run times) as JSON.") var manifest: String?
    @OptionGroup var output: OutputOptions
    @OptionGroup var selection: SelectionOptions

    mutating func run() throws {
        var options = try selection.options(perDay: perDay)
        options.analyzer.keepsAllFlowRows = false   // the evidence reports need no flow rows
        let started = RunManifest.now()
        let custody = output.json || xlsx != nil || manifest != nil
        let run = try runPipeline(files: files, options: options, quiet: output.quiet, hashInputs: custody)
        let text: String
        switch output.format {
        case .csv: text = EvidenceReport.csv(run.evidence, captures: run.capturePaths, perDay: perDay, fractionDigits: run.fractionDigits)
        case .ndjson: text = EvidenceReport.ndjson(run.evidence, captures: run.capturePaths, fractionDigits: run.fractionDigits)
        case .json: text = RunReport.json(run, options: options, command: CommandLine.arguments).serialized(pretty: true) + "\n"
        case .summary: text = RunReport.summary(run)
        }
        try emit(text, to: output.out)
        var record = RunManifest(options: Array(CommandLine.arguments.dropFirst()), inputs: run.inputRecords, started: started)
        if let out = output.out { try? record.addOutput(role: "report", path: out) }
        if let path = xlsx {
            do {
                try EvidenceWorkbook.write(rows: run.evidence, captures: run.capturePaths, perDay: perDay,
                                           manifest: record.keyValueRows(includeRunTimes: false), to: path)
            } catch {
                FileHandle.standardError.write(Data("torscan: \(error)\n".utf8))
                throw ExitCode(ExitStatus.cannotWrite.rawValue)
            }
            try? record.addOutput(role: "workbook", path: path)
        }
        if let path = manifest {
            record.ended = RunManifest.now()
            do { try record.write(to: path, fractionDigits: run.fractionDigits) } catch {
                FileHandle.standardError.write(Data("torscan: \(error)\n".utf8))
                throw ExitCode(ExitStatus.cannotWrite.rawValue)
            }
        }
        try exitForDamage(run)
    }
}
