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

/// One per (address, infohash, day) until the end of the run, so kept small (issue 6: peak memory
/// must not grow with the capture): sets as CompactSet and SignalSet, frames packed in 8 bytes
/// (Flow.pack), and what few rows have (verification, proxies) out of line in `rare`.
final class EvidenceAccumulator {
    var firstSeen: Timestamp
    var lastSeen: Timestamp
    /// nil while only annotations (extension, pex, ...) were seen: such a row is not reported.
    var confidence: Confidence?
    var signals = SignalSet()
    /// Whether DHT get_peers queries (`getPeersQueries`) are all the evidence there is.
    var onlyGetPeers = true
    var getPeersQueries = 0
    var flows = CompactSet<Int>()
    var peers = CompactSet<IPAddress>()
    var bytesUp: Int64 = 0, bytesDown: Int64 = 0
    var piecesUp = CompactSet<UInt32>(), piecesDown = CompactSet<UInt32>()
    /// Client names from extended handshakes (`v`, BEP 10), and from peer ids (BEP 20).
    var versionVotes = VoteCounts(), peerIDVotes = VoteCounts()
    /// The earliest supporting frames (Flow.pack), sorted, at most `EvidenceLimits.supportingFrames`.
    private var packedFrames: [UInt64] = []
    /// The earliest peer-wire frame (handshake or piece), packed: the row's first frame when there is
    /// one, so that a `handshake` or `transfer` row points at the handshake rather than at an earlier announce.
    private var packedFirstPeerWireFrame: UInt64?
    /// Verification and proxy attribution: nil in most rows.
    private(set) var rare: RareEvidence?

    /// What few accumulators have, out of line.
    final class RareEvidence {
        /// Pieces this address sent whose bytes matched (or did not match) the torrent's piece hash.
        var piecesVerified = CompactSet<UInt32>(), piecesFailed = CompactSet<UInt32>()
        /// Tunnelled targets of the evidence (rows with `via`), and the clients a proxy's exit evidence
        /// is attributed to (ProxyAttribution).
        var targets: Set<String> = []
        var attributedTo = CompactSet<IPAddress>()
    }

    /// The out-of-line part, created when first written.
    var rareParts: RareEvidence {
        if let r = rare { return r }
        let r = RareEvidence()
        rare = r
        return r
    }

    var targets: Set<String> { rare?.targets ?? [] }
    var frames: [FrameRef] { packedFrames.map(Flow<Void>.unpack) }
    var firstPeerWireFrame: FrameRef? { packedFirstPeerWireFrame.map(Flow<Void>.unpack) }

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
        let r = rareParts
        guard !r.targets.contains(t) else { return }
        if r.targets.count < EvidenceLimits.targetsPerRow { r.targets.insert(t); return }
        guard let last = r.targets.max(), t < last else { return }
        r.targets.remove(last)
        r.targets.insert(t)
    }

    /// Keeps the earliest frames: order of arrival does not matter.
    func addFrame(_ frame: FrameRef, peerWire: Bool) {
        addFrame(packed: Flow<Void>.pack(frame), peerWire: peerWire)
    }

    private func addFrame(packed f: UInt64, peerWire: Bool) {
        if peerWire, packedFirstPeerWireFrame.map({ f < $0 }) ?? true { packedFirstPeerWireFrame = f }
        if packedFrames.count == EvidenceLimits.supportingFrames, let last = packedFrames.last, f >= last { return }
        var i = packedFrames.count
        while i > 0, packedFrames[i - 1] > f { i -= 1 }
        if i > 0, packedFrames[i - 1] == f { return }
        packedFrames.insert(f, at: i)
        if packedFrames.count > EvidenceLimits.supportingFrames { packedFrames.removeLast() }
    }

    func merge(_ o: EvidenceAccumulator) {
        touch(o.firstSeen); touch(o.lastSeen)
        if let c = o.confidence { raiseKeepingKind(to: c) }
        signals.formUnion(o.signals)
        flows.formUnion(o.flows)
        peers.formUnion(o.peers)
        bytesUp += o.bytesUp; bytesDown += o.bytesDown
        piecesUp.formUnion(o.piecesUp); piecesDown.formUnion(o.piecesDown)
        versionVotes.add(o.versionVotes)
        peerIDVotes.add(o.peerIDVotes)
        getPeersQueries += o.getPeersQueries
        onlyGetPeers = onlyGetPeers && o.onlyGetPeers
        if let r = o.rare {
            let mine = rareParts
            mine.piecesVerified.formUnion(r.piecesVerified); mine.piecesFailed.formUnion(r.piecesFailed)
            for t in r.targets { addTarget(t) }
            mine.attributedTo.formUnion(r.attributedTo)
        }
        for f in o.packedFrames { addFrame(packed: f, peerWire: false) }
        if let f = o.packedFirstPeerWireFrame { addFrame(packed: f, peerWire: true) }
    }

    /// The most frequent name (ties: the smallest), from `v` when any, else from peer ids.
    var client: String? {
        (versionVotes.isEmpty ? peerIDVotes : versionVotes).winner
    }

    func row(ip: IPAddress, infoHash: InfoHash, day: Int64?, activeDays: [Int64], via: ProxyEndpoint? = nil) -> EvidenceRow? {
        let frames = frames
        guard let confidence, let first = firstPeerWireFrame ?? frames.first else { return nil }
        var r = EvidenceRow(ip: ip, infoHash: infoHash, day: day, firstSeen: firstSeen, lastSeen: lastSeen,
                            activeDays: activeDays, confidence: confidence, signals: signals.set, flows: flows.count,
                            peers: peers.count, bytesUp: bytesUp, bytesDown: bytesDown, piecesUp: piecesUp.count,
                            piecesDown: piecesDown.count, piecesVerified: rare?.piecesVerified.count ?? 0, client: client, torrentName: nil,
                            firstFrame: first, supportingFrames: frames)
        r.via = via
        r.targets = rare?.targets.sorted() ?? []
        r.attributedTo = rare?.attributedTo.sorted() ?? []
        return r
    }
}
