// `torscan info`: per file what capinfos tells (format, link types, time span, counts, damage,
// SHA-256), as text or a JSON array. The CLI only parses options and calls `CaptureInfoReport.run`.
import CaptureFile
import Reports
import WireBytes

public enum CaptureInfoReport {
    public struct Options: Sendable {
        public var json = false
        /// Skip the SHA-256 (read-only throughput runs).
        public var hashing = true
        public init(json: Bool = false, hashing: Bool = true) { self.json = json; self.hashing = hashing }
    }

    /// One file's outcome: a summary, or why it could not be opened.
    public typealias Entry = CaptureSummaryFormat.Entry

    /// Reads every input (directories expanded) and writes the report. Exit status: 0 all read
    /// whole; 3 some damage or some file unreadable; 66 nothing could be read.
    public static func run(paths: [String], options: Options, out: (String) -> Void, err: (String) -> Void) -> ExitStatus {
        let files: [String]
        do { files = try CaptureInputs.expand(paths) } catch {
            err("torscan: \(error)")
            return .noInput
        }
        if files.isEmpty { err("torscan: no capture files in \(paths.joined(separator: " "))"); return .noInput }
        var entries: [Entry] = []
        for f in files {
            do throws(CaptureOpenError) {
                let s = try CaptureSummary.read(path: f, hashing: options.hashing)
                for d in s.result.damage { err("torscan: \(d)") }
                entries.append((f, .success(s)))
            } catch {
                err("torscan: \(error)")
                entries.append((f, .failure(error)))
            }
        }
        out(options.json ? CaptureSummaryFormat.json(entries) : CaptureSummaryFormat.text(entries))
        return exitStatus(entries)
    }

    public static func exitStatus(_ entries: [Entry]) -> ExitStatus {
        var opened = 0, damaged = false
        for e in entries {
            switch e.summary {
            case .success(let s): opened += 1; if s.result.isDamaged { damaged = true }
            case .failure: damaged = true
            }
        }
        if opened == 0 { return .noInput }
        return damaged ? .inputDamaged : .success
    }
}
