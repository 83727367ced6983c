// Everything known about one (address, infohash, UTC day): the unit the aggregator builds and from
// which both report shapes are made (one row per day with --per-day, else the days merged).
import WireBytes
import PacketDecode
import BitTorrentClassifier

/// Rows are keyed, and sorted, by (ip, infohash, via, day): direct evidence (via nil) first.
struct EvidenceKey: Hashable, Comparable {
    var ip: IPAddress
    var infoHash: InfoHash
    var day: Int64
    var via: ProxyEndpoint? = nil
    static func < (a: EvidenceKey, b: EvidenceKey) -> Bool {
        if a.ip != b.ip { return a.ip < b.ip }
        if a.infoHash != b.infoHash { return a.infoHash < b.infoHash }
        if a.via != b.via {
            guard let x = a.via else { return true }
            guard let y = b.via else { return false }
            return x < y
        }
        return a.day < b.day
    }
    /// Same row when days are merged.
    func sameRow(_ o: EvidenceKey) -> Bool { ip == o.ip && infoHash == o.infoHash && via == o.via }
}

final class EvidenceAccumulator {
    var firstSeen: Timestamp
    var lastSeen: Timestamp
    /// nil while only annotations (extension, pex, ...) were seen: such a row is not reported.
    var confidence: Confidence?
    var signals: Set<Signal> = []
    var flows: Set<Int> = []
    var peers: Set<IPAddress> = []
    var bytesUp: Int64 = 0, bytesDown: Int64 = 0
    var piecesUp: Set<UInt32> = [], piecesDown: Set<UInt32> = []
    /// Pieces this address sent whose bytes matched (or did not match) the torrent's piece hash.
    var piecesVerified: Set<UInt32> = [], piecesFailed: Set<UInt32> = []
    /// Client names from extended handshakes (`v`, BEP 10), and from peer ids (BEP 20).
    var versionVotes: [String: Int] = [:], peerIDVotes: [String: Int] = [:]
    /// The earliest supporting frames, sorted, at most `EvidenceLimits.supportingFrames`.
    var frames: [FrameRef] = []
    /// The earliest peer-wire frame (handshake or piece): the row's first frame when there is one, so
    /// that a `handshake` or `transfer` row points at the handshake rather than at an earlier announce.
    var firstPeerWireFrame: FrameRef?
    /// DHT get_peers queries, and whether they are all the evidence there is.
    var getPeersQueries = 0
    var onlyGetPeers = true
    /// Tunnelled targets of the evidence (rows with `via`), and the clients a proxy's exit evidence is
    /// attributed to (ProxyAttribution).
    var targets: Set<String> = []
    var attributedTo: Set<IPAddress> = []

    init(timestamp: Timestamp) { firstSeen = timestamp; lastSeen = timestamp }

    func touch(_ t: Timestamp) {
        if t < firstSeen { firstSeen = t }
        if t > lastSeen { lastSeen = t }
    }

    /// Evidence other than a DHT get_peers query.
    func raise(to c: Confidence) {
        onlyGetPeers = false
        raiseKeepingKind(to: c)
    }

    func raiseKeepingKind(to c: Confidence) {
        if confidence.map({ $0 < c }) ?? true { confidence = c }
    }

    /// Keeps the first `EvidenceLimits.targetsPerRow` targets in sort order: order of arrival does not matter.
    func addTarget(_ t: String) {
        guard !targets.contains(t) else { return }
        if targets.count < EvidenceLimits.targetsPerRow { targets.insert(t); return }
        guard let last = targets.max(), t < last else { return }
        targets.remove(last)
        targets.insert(t)
    }

    /// Keeps the earliest frames: order of arrival does not matter.
    func addFrame(_ f: FrameRef, peerWire: Bool) {
        if peerWire, firstPeerWireFrame.map({ f < $0 }) ?? true { firstPeerWireFrame = f }
        if frames.count == EvidenceLimits.supportingFrames, let last = frames.last, f >= last { return }
        var i = frames.count
        while i > 0, frames[i - 1] > f { i -= 1 }
        if i > 0, frames[i - 1] == f { return }
        frames.insert(f, at: i)
        if frames.count > EvidenceLimits.supportingFrames { frames.removeLast() }
    }

    func merge(_ o: EvidenceAccumulator) {
        touch(o.firstSeen); touch(o.lastSeen)
        if let c = o.confidence { raiseKeepingKind(to: c) }
        signals.formUnion(o.signals)
        flows.formUnion(o.flows)
        peers.formUnion(o.peers)
        bytesUp += o.bytesUp; bytesDown += o.bytesDown
        piecesUp.formUnion(o.piecesUp); piecesDown.formUnion(o.piecesDown)
        piecesVerified.formUnion(o.piecesVerified); piecesFailed.formUnion(o.piecesFailed)
        for (k, v) in o.versionVotes { versionVotes[k, default: 0] += v }
        for (k, v) in o.peerIDVotes { peerIDVotes[k, default: 0] += v }
        getPeersQueries += o.getPeersQueries
        onlyGetPeers = onlyGetPeers && o.onlyGetPeers
        for t in o.targets { addTarget(t) }
        attributedTo.formUnion(o.attributedTo)
        for f in o.frames { addFrame(f, peerWire: false) }
        if let f = o.firstPeerWireFrame { addFrame(f, peerWire: true) }
    }

    /// The most frequent name (ties: the smallest), from `v` when any, else from peer ids.
    var client: String? {
        let votes = versionVotes.isEmpty ? peerIDVotes : versionVotes
        return votes.min { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }?.key
    }

    func row(ip: IPAddress, infoHash: InfoHash, day: Int64?, activeDays: [Int64], via: ProxyEndpoint? = nil) -> EvidenceRow? {
        guard let confidence, let first = firstPeerWireFrame ?? frames.first else { return nil }
        var r = EvidenceRow(ip: ip, infoHash: infoHash, day: day, firstSeen: firstSeen, lastSeen: lastSeen,
                            activeDays: activeDays, confidence: confidence, signals: signals, flows: flows.count,
                            peers: peers.count, bytesUp: bytesUp, bytesDown: bytesDown, piecesUp: piecesUp.count,
                            piecesDown: piecesDown.count, piecesVerified: piecesVerified.count, client: client, torrentName: nil,
                            firstFrame: first, supportingFrames: frames)
        r.via = via
        r.targets = targets.sorted()
        r.attributedTo = attributedTo.sorted()
        return r
    }
}
