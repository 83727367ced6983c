// Finds labelled captures (a truth.json beside one or more captures), runs the pipeline on each and
// scores it (EvalScore). Scenario order is the sorted path order, so results are deterministic.
import Foundation
import Reports
import CaptureFile

public struct EvalResult: Sendable {
    public var scenarios: [(name: String, score: EvalScore)]
    public var total: EvalScore

    public func text() -> String {
        var s = "scenario                       flows  P       R       F1      infohash  evidence P/R\n"
        func line(_ name: String, _ x: EvalScore) -> String {
            let flows = x.truePositives + x.falsePositives + x.falseNegatives + x.trueNegatives
            return name.padding(toLength: 30, withPad: " ", startingAt: 0) + " "
                + String(format: "%5d  %5.1f%%  %5.1f%%  %5.1f%%  %6.1f%%   %5.1f%% / %5.1f%%\n", flows, 100 * x.precision,
                         100 * x.recall, 100 * x.f1, 100 * x.infoHashAttribution, 100 * x.evidencePrecision, 100 * x.evidenceRecall)
        }
        for (n, x) in scenarios { s += line(n, x) }
        s += line("TOTAL", total)
        s += "\n" + total.attribution.line
        s += encryptedText()
        s += "\nconfusion (truth -> torscan):\n"
        for t in total.confusion.keys.sorted() {
            s += "  \(t): " + total.confusion[t]!.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
        }
        if !total.misses.isEmpty {
            s += "\nmisses:\n" + total.misses.map { "  \($0)\n" }.joined()
        }
        return s
    }

    /// Issue 7's figures: encrypted recall per client and role, false positives per source of negatives.
    func encryptedText() -> String {
        func t(_ x: Tally) -> String { "\(x.found)/\(x.flows)" }
        func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        let e = total.encrypted
        var s = "\nencrypted BitTorrent (MSE/PE) recall: \(t(e.recall)) = \(pct(e.recall.rate))\n"
        if !e.clients.isEmpty {
            s += "  client".padding(toLength: 58, withPad: " ", startingAt: 0) + "flows    recall  initiator  responder\n"
            for c in e.clients {
                s += "  " + c.name.padding(toLength: 56, withPad: " ", startingAt: 0)
                    + t(c.all).padding(toLength: 9, withPad: " ", startingAt: 0) + pct(c.all.rate).padding(toLength: 8, withPad: " ", startingAt: 0)
                    + t(c.initiator).padding(toLength: 11, withPad: " ", startingAt: 0) + t(c.responder) + "\n"
            }
        }
        func rate(_ n: Int, _ d: Int) -> String { String(format: "%d/%d = %.3f%%", n, d, d == 0 ? 0 : 100 * Double(n) / Double(d)) }
        s += "false positives over non-BitTorrent flows: any BitTorrent label \(rate(total.falsePositives, total.negativeFlows)), "
            + "bittorrent-encrypted \(rate(total.encryptedFalsePositives, total.negativeFlows))\n"
        let parts = scenarios.filter { $0.score.negativeFlows > 0 }.map { "\($0.name) \($0.score.falsePositives)/\($0.score.negativeFlows)" }
        if !parts.isEmpty { s += "  by source (BitTorrent-labelled/non-BitTorrent flows): " + parts.joined(separator: ", ") + "\n" }
        return s
    }

    public func json() -> JSONValue {
        func obj(_ x: EvalScore) -> JSONValue {
            .object([
                ("precision", .double(x.precision)), ("recall", .double(x.recall)), ("f1", .double(x.f1)),
                ("true_positives", .int(x.truePositives)), ("false_positives", .int(x.falsePositives)),
                ("false_negatives", .int(x.falseNegatives)), ("true_negatives", .int(x.trueNegatives)),
                ("infohash_flows", .int(x.flowsWithInfoHash)), ("infohash_right", .int(x.flowsWithInfoHashRight)),
                ("infohash_attribution", .double(x.infoHashAttribution)),
                ("evidence_expected", .int(x.evidenceExpected)), ("evidence_reported", .int(x.evidenceFound)),
                ("evidence_matched", .int(x.evidenceMatched)),
                ("evidence_precision", .double(x.evidencePrecision)), ("evidence_recall", .double(x.evidenceRecall)),
                ("attribution_expected", .int(x.attribution.expected)), ("attribution_reported", .int(x.attribution.reported)),
                ("attribution_right", .int(x.attribution.matched)),
                ("attribution_precision", .double(x.attribution.precision)), ("attribution_recall", .double(x.attribution.recall)),
                ("confusion", .object(x.confusion.keys.sorted().map { t in
                    (t, .object(x.confusion[t]!.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }))
                })),
                ("negative_flows", .int(x.negativeFlows)), ("false_positive_rate", .double(x.falsePositiveRate)),
                ("encrypted_false_positives", .int(x.encryptedFalsePositives)),
                ("encrypted_false_positive_rate", .double(x.encryptedFalsePositiveRate)),
                ("encrypted", encrypted(x.encrypted)),
                ("misses", .array(x.misses.map { .string($0) })),
            ])
        }
        func tally(_ t: Tally) -> JSONValue { .object([("flows", .int(t.flows)), ("found", .int(t.found)), ("recall", .double(t.rate))]) }
        func encrypted(_ e: EncryptedScore) -> JSONValue {
            .object([("flows", .int(e.recall.flows)), ("found", .int(e.recall.found)), ("recall", .double(e.recall.rate)),
                     ("clients", .object(e.clients.map { c in
                         (c.name, .object([("flows", .int(c.all.flows)), ("found", .int(c.all.found)), ("recall", .double(c.all.rate)),
                                           ("initiator", tally(c.initiator)), ("responder", tally(c.responder))]))
                     }))])
        }
        return .object([
            ("scenarios", .object(scenarios.map { ($0.name, obj($0.score)) })),
            ("total", obj(total)),
        ])
    }
}

public enum Evaluator {
    /// Captures with no BitTorrent at all (e.g. ../shared/corpus/public/negative): every flow with
    /// payload is scored as `other`, so any BitTorrent label on them is a false positive.
    public static func negatives(paths: [String]) throws -> (name: String, score: EvalScore)? {
        let files = try CaptureInputs.expand(paths).filter { !$0.contains(".expected.") }
        guard !files.isEmpty else { return nil }
        var score = EvalScore()
        for f in files {
            guard let run = try? Pipeline.analyze(paths: [f], options: AnalysisOptions()) else { continue }
            let truth = GroundTruth(scenario: "negative:" + (f as NSString).lastPathComponent, flows: [], evidence: [])
            score.add(EvalScore.score(truth: truth, flows: run.flows, evidence: run.evidence))
        }
        return ("negative (\(files.count) captures)", score)
    }

    public static func run(paths: [String], negatives negativePaths: [String] = []) throws -> EvalResult {
        var truthFiles: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { throw GroundTruth.LoadError.unreadable(p, "no such file or directory") }
            if !isDir.boolValue { truthFiles.append(p); continue }
            let e = FileManager.default.enumerator(atPath: p)
            while let f = e?.nextObject() as? String {
                if (f as NSString).lastPathComponent == "truth.json" { truthFiles.append(p + "/" + f) }
            }
        }
        truthFiles.sort()
        guard !truthFiles.isEmpty else { throw GroundTruth.LoadError.unreadable(paths.joined(separator: " "), "no truth.json found") }
        var scenarios: [(String, EvalScore)] = []
        var total = EvalScore()
        for t in truthFiles {
            let truth = try GroundTruth.load(path: t)
            let dir = (t as NSString).deletingLastPathComponent
            let captures = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") || $0.hasSuffix(".pcap.gz") }
                .sorted().map { dir + "/" + $0 }
            guard !captures.isEmpty else { continue }
            let run = try Pipeline.analyze(paths: captures, options: AnalysisOptions())
            let score = EvalScore.score(truth: truth, flows: run.flows, evidence: run.evidence)
            scenarios.append((truth.scenario, score))
            total.add(score)
        }
        if !negativePaths.isEmpty, let n = try negatives(paths: negativePaths) {
            scenarios.append(n)
            total.add(n.score)
        }
        return EvalResult(scenarios: scenarios, total: total)
    }
}
