// Scores evidence through proxies (issue 7): the rows that carry `via` or `attributed_to`
// (ProxyAttribution.swift) against truth.json evidence entries that name them. An item is keyed by
// (ip, infohash, via) and holds right when its targets and attributed_to are the truth's exactly.
// Precision: right items / reported items; recall: right items / truth items. Rows with neither
// column, and truth entries with neither key, are not items (evidence P/R scores those).
import PacketDecode
import BitTorrentClassifier
import FlowEvidence

public struct AttributionScore: Sendable {
    /// One row's proxy facts: `via` ("" for direct rows), sorted targets and attributed_to.
    public struct Item: Hashable, Sendable {
        public var ip: IPAddress
        public var infoHash: InfoHash
        public var via: String
        public var targets: [String]
        public var attributedTo: [String]
        var key: String { "\(ip) \(infoHash.hex) via=\(via)" }
        var text: String { "\(key) target=\(targets.joined(separator: ";")) attributed_to=\(attributedTo.joined(separator: ";"))" }
    }

    public var expected = 0, reported = 0, matched = 0
    public var misses: [String] = []
    public init() {}

    public var precision: Double { reported == 0 ? 1 : Double(matched) / Double(reported) }
    public var recall: Double { expected == 0 ? 1 : Double(matched) / Double(expected) }

    public mutating func add(_ o: AttributionScore) {
        expected += o.expected; reported += o.reported; matched += o.matched
        misses += o.misses
    }

    /// truth.json `evidence` entries with `via` (string) or `attributed_to` (array) as items; the
    /// `target` array is optional.
    static func truthItems(_ root: [String: Any]) -> [Item] {
        ((root["evidence"] as? [[String: Any]]) ?? []).compactMap { e in
            let via = e["via"] as? String ?? ""
            let to = (e["attributed_to"] as? [String] ?? []).compactMap { IPAddress($0)?.description }.sorted()
            guard !via.isEmpty || !to.isEmpty, let ip = (e["ip"] as? String).flatMap(IPAddress.init),
                  let h = (e["infohash"] as? String).flatMap({ InfoHash(hex: $0) }) else { return nil }
            return Item(ip: ip, infoHash: h, via: via, targets: (e["target"] as? [String] ?? []).sorted(), attributedTo: to)
        }
    }

    static func reportedItems(_ evidence: [EvidenceRow]) -> [Item] {
        evidence.compactMap { r in
            guard r.via != nil || !r.attributedTo.isEmpty else { return nil }
            return Item(ip: r.ip, infoHash: r.infoHash, via: r.via?.description ?? "", targets: r.targets,
                        attributedTo: r.attributedTo.map(\.description))
        }
    }

    public static func score(scenario: String, truth: [Item], evidence: [EvidenceRow]) -> AttributionScore {
        var s = AttributionScore()
        let got = reportedItems(evidence)
        s.expected = truth.count
        s.reported = got.count
        let byKey = Dictionary(got.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for t in truth.sorted(by: { $0.key < $1.key }) {
            guard let g = byKey[t.key] else { s.misses.append("\(scenario): expected proxy evidence \(t.text) not reported"); continue }
            if g == t { s.matched += 1 } else { s.misses.append("\(scenario): proxy evidence \(t.key): want \(t.text), got \(g.text)") }
        }
        let wanted = Set(truth.map(\.key))
        for g in got.sorted(by: { $0.key < $1.key }) where !wanted.contains(g.key) {
            s.misses.append("\(scenario): reported proxy evidence \(g.text) not in truth")
        }
        return s
    }

    /// One line for `torscan eval`'s text output.
    public var line: String {
        String(format: "proxy attribution (via/target/attributed_to): %d expected, %d reported, %d right: precision %.1f%%, recall %.1f%%\n",
               expected, reported, matched, 100 * precision, 100 * recall)
    }
}
