// `torscan eval PATH...`: classifier accuracy against labelled captures (truth.json beside them).
import ArgumentParser
import Foundation
import Reports
import TorscanCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score torscan against ground truth: every capture with a truth.json in its folder.")

    @Argument(help: "Folders (walked recursively) or truth.json files.") var paths: [String]
    @Flag(help: "JSON instead of text.") var json = false
    @Option(help: "Captures with no BitTorrent (a file or directory; repeatable): every flow on them must be labelled other.") var negative: [String] = []
    @Option(help: "Exit 4 when BitTorrent precision is below this (0-1).") var minPrecision: Double?
    @Option(help: "Exit 4 when BitTorrent recall is below this (0-1).") var minRecall: Double?
    @Option(help: "Exit 4 when F1 is below this (0-1).") var minF1: Double?
    @Option(help: "Exit 4 when infohash attribution is below this (0-1).") var minInfohash: Double?
    @Option(help: "Exit 4 when evidence-row precision is below this (0-1).") var minEvidencePrecision: Double?
    @Option(help: "Exit 4 when evidence-row recall is below this (0-1).") var minEvidenceRecall: Double?
    @Option(help: "Exit 4 when proxy attribution precision (rows with via/attributed_to) is below this (0-1).") var minAttributionPrecision: Double?
    @Option(help: "Exit 4 when proxy attribution recall (truth rows with via/attributed_to) is below this (0-1).") var minAttributionRecall: Double?
    @Option(help: "Exit 4 when recall of encrypted BitTorrent (bittorrent-encrypted) flows is below this (0-1).") var minEncryptedRecall: Double?
    @Option(help: "Exit 4 when the share of non-BitTorrent flows given any BitTorrent label is above this (0-1).") var maxFalsePositiveRate: Double?

    mutating func run() throws {
        let result: EvalResult
        do { result = try Evaluator.run(paths: paths, negatives: negative) } catch {
            FileHandle.standardError.write(Data("torscan eval: \(error)\n".utf8))
            throw ExitCode(ExitStatus.noInput.rawValue)
        }
        print(json ? result.json().serialized(pretty: true) : result.text(), terminator: json ? "\n" : "")
        var failed: [String] = []
        func check(_ name: String, _ value: Double, _ min: Double?) {
            if let m = min, value < m { failed.append(String(format: "%@ %.4f < %.4f", name, value, m)) }
        }
        let s = result.total
        check("precision", s.precision, minPrecision)
        check("recall", s.recall, minRecall)
        check("f1", s.f1, minF1)
        check("infohash attribution", s.infoHashAttribution, minInfohash)
        check("evidence precision", s.evidencePrecision, minEvidencePrecision)
        check("evidence recall", s.evidenceRecall, minEvidenceRecall)
        check("attribution precision", s.attribution.precision, minAttributionPrecision)
        check("attribution recall", s.attribution.recall, minAttributionRecall)
        check("encrypted recall", s.encrypted.recall.rate, minEncryptedRecall)
        if let m = maxFalsePositiveRate, s.falsePositiveRate > m {
            failed.append(String(format: "false-positive rate %.4f > %.4f", s.falsePositiveRate, m))
        }
        if !failed.isEmpty {
            FileHandle.standardError.write(Data("torscan eval: below threshold: \(failed.joined(separator: ", "))\n".utf8))
            throw ExitCode(ExitStatus.checkFailed.rawValue)
        }
    }
}
