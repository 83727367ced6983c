// Scores torscan's flows and evidence against ground truth (issue 5): confusion matrix by label,
// precision/recall/F1 for "is BitTorrent", infohash attribution, evidence-row precision/recall.
import PacketDecode
import BitTorrentClassifier
import FlowEvidence

public struct EvalScore: Sendable {
    /// truth label -> predicted label -> flows.
    public var confusion: [String: [String: Int]] = [:]
    public var truePositives = 0, falsePositives = 0, falseNegatives = 0, trueNegatives = 0
    /// Flows whose truth names infohashes, and those whose predicted infohashes include all of them.
    public var flowsWithInfoHash = 0, flowsWithInfoHashRight = 0
    public var evidenceExpected = 0, evidenceFound = 0, evidenceMatched = 0
    /// Truth flows with no predicted flow (not in the capture as torscan saw it).
    public var unmatchedTruthFlows = 0
    public var misses: [String] = []
    /// Evidence through proxies (AttributionScore.swift).
    public var attribution = AttributionScore()
    /// Recall of encrypted BitTorrent flows, overall and per client (issue 7).
    public var encrypted = EncryptedScore()

    public init() {}

    /// Flows that are not BitTorrent (truth `other`, or not listed by the truth), and the share of
    /// them torscan gave any BitTorrent label, or `bittorrent-encrypted` (issue 7). Empty: rate 0.
    public var negativeFlows: Int { falsePositives + trueNegatives }
    public var falsePositiveRate: Double { negativeFlows == 0 ? 0 : Double(falsePositives) / Double(negativeFlows) }
    public var encryptedFalsePositives: Int {
        confusion.filter { !Self.isBitTorrent($0.key) }.reduce(0) { $0 + ($1.value[EncryptedScore.label] ?? 0) }
    }
    public var encryptedFalsePositiveRate: Double {
        negativeFlows == 0 ? 0 : Double(encryptedFalsePositives) / Double(negativeFlows)
    }

    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
    public var infoHashAttribution: Double { ratio(flowsWithInfoHashRight, flowsWithInfoHash) }
    public var evidencePrecision: Double { ratio(evidenceMatched, evidenceFound) }
    public var evidenceRecall: Double { ratio(evidenceMatched, evidenceExpected) }

    /// Empty denominators score 1: nothing to find, nothing wrongly found.
    func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 1 : Double(a) / Double(b) }

    public mutating func add(_ other: EvalScore) {
        for (t, row) in other.confusion { for (p, n) in row { confusion[t, default: [:]][p, default: 0] += n } }
        truePositives += other.truePositives; falsePositives += other.falsePositives
        falseNegatives += other.falseNegatives; trueNegatives += other.trueNegatives
        flowsWithInfoHash += other.flowsWithInfoHash; flowsWithInfoHashRight += other.flowsWithInfoHashRight
        evidenceExpected += other.evidenceExpected; evidenceFound += other.evidenceFound; evidenceMatched += other.evidenceMatched
        unmatchedTruthFlows += other.unmatchedTruthFlows
        misses += other.misses
        attribution.add(other.attribution)
        encrypted.add(other.encrypted)
    }

    struct Endpoints: Hashable {
        var proto: String, a: IPAddress, ap: UInt16, b: IPAddress, bp: UInt16
        init(_ proto: String, _ x: IPAddress, _ xp: UInt16, _ y: IPAddress, _ yp: UInt16) {
            self.proto = proto
            if (x, xp) <= (y, yp) { a = x; ap = xp; b = y; bp = yp } else { a = y; ap = yp; b = x; bp = xp }
        }
    }

    /// Scores one capture. Flows torscan saw that the truth does not list count as non-BitTorrent
    /// traffic (the generator lists every BitTorrent flow it caused), so a label on them is a false positive.
    public static func score(truth: GroundTruth, flows: [FlowRow], evidence: [EvidenceRow]) -> EvalScore {
        var s = EvalScore()
        var predicted: [Endpoints: FlowRow] = [:]
        for f in flows { predicted[Endpoints(f.proto.rawValue, f.srcIP, f.srcPort, f.dstIP, f.dstPort)] = f }
        var seen = Set<Endpoints>()
        for t in truth.flows {
            let key = Endpoints(t.proto, t.a, t.aPort, t.b, t.bPort)
            seen.insert(key)
            s.encrypted.count(t, predicted: predicted[key]?.label)
            guard let p = predicted[key] else {
                s.unmatchedTruthFlows += 1
                s.misses.append("\(truth.scenario): truth flow \(t.proto) \(t.a):\(t.aPort) <-> \(t.b):\(t.bPort) (\(t.label)) not in the capture")
                continue
            }
            s.count(truthLabel: t.label, predictedLabel: p.label)
            if !t.infoHashes.isEmpty {
                s.flowsWithInfoHash += 1
                let got = Set(p.infoHashes.map(\.truncated)).union(p.infoHashes)
                if t.infoHashes.allSatisfy({ got.contains($0) || got.contains($0.truncated) }) {
                    s.flowsWithInfoHashRight += 1
                } else {
                    s.misses.append("\(truth.scenario): \(t.proto) \(t.a):\(t.aPort) <-> \(t.b):\(t.bPort) infohashes \(t.infoHashes.map(\.hex).sorted()) got \(p.infoHashes.map(\.hex))")
                }
            }
            if Self.isBitTorrent(t.label) != Self.isBitTorrent(p.label) || (Self.isBitTorrent(t.label) && t.label != p.label) {
                s.misses.append("\(truth.scenario): \(t.proto) \(t.a):\(t.aPort) <-> \(t.b):\(t.bPort) is \(t.label), torscan says \(p.label)")
            }
        }
        for (key, p) in predicted.sorted(by: { ($0.key.a, $0.key.ap, $0.key.b, $0.key.bp) < ($1.key.a, $1.key.ap, $1.key.b, $1.key.bp) })
        where !seen.contains(key) {
            // Zero-payload flows (a lone SYN, an ICMP-less probe) carry nothing to classify.
            if p.bytes == 0 { continue }
            s.count(truthLabel: "other", predictedLabel: p.label)
            if Self.isBitTorrent(p.label) { s.misses.append("\(truth.scenario): \(key.proto) \(key.a):\(key.ap) <-> \(key.b):\(key.bp) not BitTorrent in truth, torscan says \(p.label)") }
        }
        let expected = Set(truth.evidence.map { EvidenceKey(ip: $0.ip, infoHash: $0.infoHash) })
        let found = Set(evidence.map { EvidenceKey(ip: $0.ip, infoHash: $0.infoHash) })
        s.evidenceExpected = expected.count
        s.evidenceFound = found.count
        s.evidenceMatched = expected.intersection(found).count
        for m in expected.subtracting(found).sorted(by: { ($0.ip, $0.infoHash) < ($1.ip, $1.infoHash) }) {
            s.misses.append("\(truth.scenario): expected evidence \(m.ip) \(m.infoHash.hex) not reported")
        }
        for m in found.subtracting(expected).sorted(by: { ($0.ip, $0.infoHash) < ($1.ip, $1.infoHash) }) {
            s.misses.append("\(truth.scenario): reported evidence \(m.ip) \(m.infoHash.hex) not in truth")
        }
        s.attribution = AttributionScore.score(scenario: truth.scenario, truth: truth.attribution, evidence: evidence)
        s.misses += s.attribution.misses
        return s
    }

    struct EvidenceKey: Hashable { var ip: IPAddress; var infoHash: InfoHash }

    mutating func count(truthLabel: String, predictedLabel: String) {
        confusion[truthLabel, default: [:]][predictedLabel, default: 0] += 1
        switch (Self.isBitTorrent(truthLabel), Self.isBitTorrent(predictedLabel)) {
        case (true, true): truePositives += 1
        case (false, true): falsePositives += 1
        case (true, false): falseNegatives += 1
        case (false, false): trueNegatives += 1
        }
    }

    static func isBitTorrent(_ label: String) -> Bool { label.hasPrefix("bittorrent") }
}
