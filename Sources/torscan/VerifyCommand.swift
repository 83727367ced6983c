// `torscan verify REPORT FILES...`: re-derives every row of an evidence report (CSV, JSON or NDJSON)
// from the captures; one line per row, then a summary (TorscanCore/Exhibits/ReportVerifier.swift).
import ArgumentParser
import Foundation
import TorscanCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check, row by row, that an evidence report follows from the captures.",
        discussion: "Give the same selection options (--filter, --since, --until, timeouts) the report was made with. Exit status 0 when every row holds, 4 when one does not.")

    @Argument(help: "The report (as written by --csv, --per-day --csv, --json or --ndjson).") var report: String
    @Argument(help: "Capture files or directories the report was made from.") var files: [String]
    @OptionGroup var selection: SelectionOptions

    mutating func run() throws {
        guard let data = FileManager.default.contents(atPath: report) else {
            FileHandle.standardError.write(Data("torscan: \(report): cannot read\n".utf8))
            throw ExitCode(ExitStatus.noInput.rawValue)
        }
        let options = try selection.options(perDay: false)
        let result: ReportVerification
        do {
            result = try ReportVerifier.verify(report: String(decoding: data, as: UTF8.self), paths: files, options: options)
        } catch let e as ReportVerifierError {
            FileHandle.standardError.write(Data("torscan: \(report): \(e)\n".utf8))
            throw ExitCode(ExitStatus.usage.rawValue)
        } catch let e as PipelineError {
            FileHandle.standardError.write(Data("torscan: \(e)\n".utf8))
            throw ExitCode(ExitStatus.noInput.rawValue)
        } catch {  // a missing path or unreadable directory (CaptureInputs)
            FileHandle.standardError.write(Data("torscan: \(error)\n".utf8))
            throw ExitCode(ExitStatus.noInput.rawValue)
        }
        var out = result.verdicts.map { $0.line + "\n" }.joined()
        out += result.summary + "\n"
        FileHandle.standardOutput.write(Data(out.utf8))
        if !result.allHold { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}
