// Shared plumbing of the subcommands: running the pipeline with a progress bar, writing the
// report (stdout or atomically to a file), and mapping outcomes to exit statuses.
import ArgumentParser
import Foundation
import Reports
import TorscanCore

enum ReportFormat { case csv, json, ndjson, summary }

func runPipeline(files: [String], options: AnalysisOptions, quiet: Bool, hashInputs: Bool = false) throws -> AnalysisRun {
    let bar = ProgressBar(enabled: !quiet && isatty(STDERR_FILENO) == 1, totalBytes: ProgressBar.totalSize(of: files))
    do {
        let run = try Pipeline.analyze(paths: files, options: options, hashInputs: hashInputs) { bytes, packets in bar.update(bytes: bytes, packets: packets) }
        bar.finish()
        for input in run.inputs { for d in input.damage { FileHandle.standardError.write(Data("torscan: \(d)\n".utf8)) } }
        return run
    } catch let e as PipelineError {
        bar.finish()
        FileHandle.standardError.write(Data("torscan: \(e)\n".utf8))
        switch e {
        case .noInput: throw ExitCode(ExitStatus.noInput.rawValue)
        case .badFilter: throw ExitCode(ExitStatus.usage.rawValue)
        }
    }
}

func emit(_ text: String, to path: String?) throws {
    guard let path else {
        FileHandle.standardOutput.write(Data(text.utf8))
        return
    }
    do { try AtomicFile.write(Data(text.utf8), to: path) } catch {
        FileHandle.standardError.write(Data("torscan: \(error)\n".utf8))
        throw ExitCode(ExitStatus.cannotWrite.rawValue)
    }
}

/// Finished, but an input was damaged: a distinct status (README, "Exit status").
func exitForDamage(_ run: AnalysisRun) throws {
    if run.damaged { throw ExitCode(ExitStatus.inputDamaged.rawValue) }
}

/// Bytes and packets per second with an ETA across all inputs, on standard error, only on a terminal.
final class ProgressBar {
    let enabled: Bool
    let totalBytes: Int64
    let start = Date()
    var lastDraw = Date.distantPast

    init(enabled: Bool, totalBytes: Int64) { self.enabled = enabled; self.totalBytes = totalBytes }

    static func totalSize(of paths: [String]) -> Int64 {
        var total: Int64 = 0
        for p in paths where p != "-" {
            if let e = FileManager.default.enumerator(atPath: p) {
                while let f = e.nextObject() as? String {
                    total += Int64((try? FileManager.default.attributesOfItem(atPath: p + "/" + f)[.size] as? Int) ?? 0)
                }
            } else {
                total += Int64((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0)
            }
        }
        return total
    }

    func update(bytes: Int64, packets: Int) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        let secs = max(Date().timeIntervalSince(start), 0.001)
        let rate = Double(bytes) / secs
        var line = String(format: "\r%.1f MB  %.1f MB/s  %.0f packets/s", Double(bytes) / 1e6, rate / 1e6, Double(packets) / secs)
        if totalBytes > 0 && bytes <= totalBytes {
            let eta = rate > 0 ? Double(totalBytes - bytes) / rate : 0
            line += String(format: "  %3.0f%%  ETA %.0fs", 100 * Double(bytes) / Double(totalBytes), eta)
        }
        FileHandle.standardError.write(Data((line + "   ").utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
