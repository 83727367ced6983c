// Issue 7's encrypted-BitTorrent figures: recall of MSE/PE flows (truth `bittorrent-encrypted` flows
// that torscan labels `bittorrent-encrypted`), overall and per client implementation and role. The
// other figure, the false-positive rate over non-BitTorrent flows, is EvalScore.falsePositiveRate.

/// `found` of `flows`.
public struct Tally: Sendable, Hashable {
    public var flows = 0, found = 0
    public init(flows: Int = 0, found: Int = 0) { self.flows = flows; self.found = found }
    /// Empty scores 1 (nothing to find), like EvalScore's ratios.
    public var rate: Double { flows == 0 ? 1 : Double(found) / Double(flows) }
    mutating func count(_ hit: Bool) { flows += 1; if hit { found += 1 } }
    static func += (a: inout Tally, b: Tally) { a.flows += b.flows; a.found += b.found }
}

public struct EncryptedScore: Sendable {
    public static let label = "bittorrent-encrypted"
    /// Every truth `bittorrent-encrypted` flow that carried payload (a refused SYN has nothing to classify).
    public var recall = Tally()
    /// By client (its name and version as the truth gives it): flows it opened (MSE's A, the SYN
    /// sender), flows it accepted (B), and flows it took part in either way (counted once).
    public var asInitiator: [String: Tally] = [:]
    public var asResponder: [String: Tally] = [:]
    public var byClient: [String: Tally] = [:]

    public init() {}

    /// One truth flow; `predicted` is torscan's label, nil when torscan has no such flow.
    mutating func count(_ t: GroundTruth.Flow, predicted: String?) {
        guard t.label == Self.label, t.hasPayload else { return }
        let hit = predicted == Self.label
        recall.count(hit)
        if let c = t.initiatorClient { asInitiator[c, default: Tally()].count(hit) }
        if let c = t.responderClient { asResponder[c, default: Tally()].count(hit) }
        for c in Set([t.initiatorClient, t.responderClient].compactMap { $0 }) { byClient[c, default: Tally()].count(hit) }
    }

    mutating func add(_ o: EncryptedScore) {
        recall += o.recall
        for (c, x) in o.asInitiator { asInitiator[c, default: Tally()] += x }
        for (c, x) in o.asResponder { asResponder[c, default: Tally()] += x }
        for (c, x) in o.byClient { byClient[c, default: Tally()] += x }
    }

    /// Clients sorted by name, with their three tallies.
    public var clients: [(name: String, all: Tally, initiator: Tally, responder: Tally)] {
        byClient.keys.sorted().map { ($0, byClient[$0]!, asInitiator[$0] ?? Tally(), asResponder[$0] ?? Tally()) }
    }
}
