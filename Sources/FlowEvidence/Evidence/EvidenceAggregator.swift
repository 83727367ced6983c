// Turns classifier events into evidence rows by (sender address, infohash[, UTC day]), with the
// confidence levels of DESIGN.md's output contract:
//   announce  - the address sent a tracker announce (HTTP, BEP 3; UDP, BEP 15), an LSD announce
//               (BEP 14), a DHT announce_peer query, or a DHT get_peers query that is not a routing
//               refresh (BEP 5; see EvidenceLimits.dhtRefreshPrefixBits). Responses are not evidence:
//               a node that only answers, or an address listed in a peer list, becomes no row.
//   handshake - the address sent a peer-wire handshake naming the infohash (BEP 3).
//   transfer  - the address sent or received a `piece` message on a flow whose torrent is known from a
//               handshake in either direction.
// bytes_up / bytes_down are the payload bytes of `piece` messages (the block data, not the 13-byte
// message header) the address sent / received on flows of the infohash, as far as the capture holds
// them; pieces_up / pieces_down count distinct piece indexes. `peers` counts distinct remote addresses
// of peer-wire flows (trackers and DHT nodes are not peers).
//
// Evidence seen on a tunnel's client leg is kept in rows of its own, keyed by the proxy (`via`,
// ProxyAttribution.swift): a proxy's direct rows then count only its own connections.
//
// Nothing here depends on the order of flows: sets are reported as counts, frames as the earliest
// ones, clients by (votes, name), rows sorted by (ip, infohash, via, day).
import WireBytes
import PacketDecode
import BitTorrentClassifier

public struct AggregatorCounts: Sendable, Equatable {
    /// DHT get_peers queries ignored as routing-table refreshes.
    public var dhtRefreshQueriesIgnored = 0
    /// Piece messages on flows whose torrent no handshake named (capture started mid-flow).
    public var unattributedPieces = 0
    /// Complete ut_metadata info dictionaries whose hash was not the flow's infohash.
    public var metadataHashMismatches = 0
    /// Classifier anomalies by name.
    public var classifierAnomalies: [ClassifierAnomaly: Int] = [:]
    /// Assembled pieces that matched, or did not match, the torrent's piece hash (--torrent).
    public var piecesVerified = 0, pieceHashMismatches = 0
    public init() {}
}

public struct EvidenceAggregator {
    /// Tunnel targets (`host:port`) named by EventOrigin.targetID, each once.
    private(set) var proxyTargetNames: [String] = []
    private var proxyTargetIDs: [String: Int32] = [:]

    /// The EventOrigin.targetID of a tunnel target.
    mutating func proxyTargetID(_ name: String) -> Int32 {
        if let id = proxyTargetIDs[name] { return id }
        proxyTargetNames.append(name)
        let id = Int32(truncatingIfNeeded: proxyTargetNames.count)
        proxyTargetIDs[name] = id
        return id
    }

    /// Client names seen, each stored once: the rows' votes share them (a name per vote made a string
    /// for every row, issue 6's memory).
    private var clientNames: Set<String> = []

    private mutating func internedClientName(_ name: String) -> String { clientNames.insert(name).memberAfterInsert }

    /// Names the client from a peer id (BEP 20), when a client identifier is available.
    public var clientFromPeerID: ((PeerID) -> String?)?
    public internal(set) var counts = AggregatorCounts()
    /// The accumulators, in a table the shards of one thread share (EvidenceTable.swift).
    var evidence = EvidenceTable()
    var table: EvidenceMap { evidence.entries }
    /// Names of torrents whose info dictionary was seen and verified (ut_metadata).
    public internal(set) var torrentNames: [InfoHash: String] = [:]
    /// Torrents given with --torrent: their pieces are verified (issue 8), and they name their infohashes.
    public private(set) var catalog = TorrentCatalog()
    /// Assembles the blocks each address sends into pieces, in bounded memory, and hashes them.
    public private(set) var verifier = PieceVerifier<IPAddress>()

    /// Verifies pieces against these torrents and names their infohashes in the rows.
    public mutating func use(_ torrents: TorrentCatalog) {
        catalog = torrents
        for e in torrents.entries {
            for h in [e.infoHashV1, e.infoHashV2, e.infoHashV2?.truncated].compactMap({ $0 }) where torrentNames[h] == nil {
                torrentNames[h] = e.name
            }
        }
    }

    public init(clientFromPeerID: ((PeerID) -> String?)? = nil) {
        self.clientFromPeerID = clientFromPeerID
    }

    /// Records one classifier event of a flow. `flow` is updated (kinds, infohashes, clients).
    public mutating func record(_ event: ClassifierEvent, origin: EventOrigin, flow: FlowFindings, senderIsSrc: Bool) {
        switch event {
        case .handshake(let hs):
            flow.kinds.insert(.handshake)
            flow.addInfoHash(hs.infoHash)
            let acc = accumulator(origin.sender, hs.infoHash, origin)
            acc.raise(to: .handshake)
            acc.signals.insert(.handshake)
            peerWire(acc, origin, remote: origin.receiver)
            acc.addFrame(origin.frame, peerWire: true)
            if let name = clientFromPeerID?(hs.peerID) {
                acc.peerIDVotes.add(internedClientName(name))
                setClient(flow, senderIsSrc, name, onlyIfUnset: true)
            }

        case .peerMessage:
            flow.kinds.insert(.peerWire)

        case .pieceBlock(let index, let begin, let length):
            flow.kinds.insert(.peerWire)
            guard !flow.infoHashes.isEmpty else { counts.unattributedPieces += 1; flow.unattributedPieces += 1; return }
            // The supporting frame is the one that completes the block, where Wireshark shows "Piece".
            let end: UInt32? = length > 0 ? begin &+ length : nil
            if senderIsSrc { flow.pieceEndFromSrc = end } else { flow.pieceEndFromDst = end }
            for h in flow.infoHashes {
                let up = transfer(accumulator(origin.sender, h, origin), origin, remote: origin.receiver)
                let down = transfer(accumulator(origin.receiver, h, origin), origin, remote: origin.sender)
                up.piecesUp.insert(index)
                down.piecesDown.insert(index)
                if end == nil { up.addFrame(origin.frame, peerWire: true); down.addFrame(origin.frame, peerWire: true) }
            }

        case .pieceBytes(let index, let offset, let bytes):
            guard !flow.infoHashes.isEmpty else { return }
            if !catalog.entries.isEmpty || flow.wireTorrent != nil { verify(index, offset, bytes, flow, origin) }
            let pending = senderIsSrc ? flow.pieceEndFromSrc : flow.pieceEndFromDst
            let completes = pending == offset &+ UInt32(truncatingIfNeeded: bytes.count)
            if completes { if senderIsSrc { flow.pieceEndFromSrc = nil } else { flow.pieceEndFromDst = nil } }
            for h in flow.infoHashes {
                let up = accumulator(origin.sender, h, origin)
                up.bytesUp += Int64(bytes.count)
                let down = accumulator(origin.receiver, h, origin)
                down.bytesDown += Int64(bytes.count)
                if completes { up.addFrame(origin.frame, peerWire: true); down.addFrame(origin.frame, peerWire: true) }
            }

        case .extendedHandshake(let eh):
            flow.kinds.insert(.peerWire)
            if let v = eh.client { setClient(flow, senderIsSrc, v, onlyIfUnset: false) }
            let v: String? = if let c = eh.client { internedClientName(c) } else { nil }
            annotate(flow, origin, .extended) { acc in if let v { acc.versionVotes.add(v) } }

        case .metadataPiece(let piece, let totalSize, let bytes):
            flow.kinds.insert(.peerWire)
            annotate(flow, origin, .metadata) { _ in }
            if flow.metadata.add(piece: piece, totalSize: totalSize, bytes: bytes) == .complete, let info = flow.metadata.completeInfo {
                flow.metadata.reset()
                var verified = false
                // Every flow that carried a verified info dictionary keeps its own copy: whether a
                // flow's pieces are verified must not depend on which flow of the run (or of the
                // worker's shard) fetched the metadata first.
                for h in flow.infoHashes {
                    if let name = MetadataNames.verifiedName(info: info, infoHash: h) {
                        if torrentNames[h] == nil { torrentNames[h] = name }
                        verified = true
                        var wire = TorrentCatalog()
                        if (try? wire.add(infoDictionary: info, source: "ut_metadata")) != nil { flow.wireTorrent = wire }
                        break
                    }
                }
                if !verified { counts.metadataHashMismatches += 1 }
            }

        case .metadataRequest, .metadataReject:
            flow.kinds.insert(.peerWire)
            annotate(flow, origin, .metadata) { _ in }

        case .pex:
            flow.kinds.insert(.peerWire)
            annotate(flow, origin, .pex) { _ in }

        case .extendedMessage:
            // The stream classifier also decodes it (ExtensionMessages) into the events above.
            flow.kinds.insert(.peerWire)

        case .dht(let m):
            flow.kinds.insert(.dht)
            guard m.kind == .query, let h = m.infoHash else { return }
            switch m.method {
            case "announce_peer":
                announce(origin.sender, h, .dhtAnnounce, origin, flow)
            case "get_peers":
                if let bits = m.sharedPrefixBitsWithNodeID, bits >= EvidenceLimits.dhtRefreshPrefixBits {
                    counts.dhtRefreshQueriesIgnored += 1
                } else {
                    let acc = announce(origin.sender, h, .dhtGetPeers, origin, flow, getPeers: true)
                    acc.getPeersQueries += 1
                }
            default:
                break
            }

        case .utpPacket:
            flow.kinds.insert(.utp)

        case .udpTracker(let m):
            flow.kinds.insert(.trackerUDP)
            if m.action == .announceRequest {
                for h in m.infoHashes { announce(origin.sender, h, .trackerUDP, origin, flow) }
            }

        case .lsd(let a):
            flow.kinds.insert(.lsd)
            for h in a.infoHashes { announce(origin.sender, h, .lsd, origin, flow) }

        case .httpTrackerRequest(let r):
            flow.kinds.insert(.trackerHTTP)
            if r.kind == .announce {
                for h in r.infoHashes { announce(origin.sender, h, .trackerHTTP, origin, flow) }
            }

        case .httpTrackerResponse:
            flow.kinds.insert(.trackerHTTP)

        case .webSeedRequest:
            break

        case .malformed(let a):
            counts.classifierAnomalies[a, default: 0] += 1
        }
    }

    /// Rows sorted by (ip, infohash[, day]). `perDay`: one row per UTC day with evidence.
    /// Feeds a block the sender sent to the piece verifier; a completed piece that matches the
    /// torrent's hash makes the sender's row `verified`; a mismatch is counted, never verified.
    private mutating func verify(_ index: UInt32, _ offset: UInt32, _ bytes: UnsafeRawBufferPointer, _ flow: FlowFindings, _ origin: EventOrigin) {
        for h in flow.infoHashes {
            guard let entry = catalog.entry(for: h) ?? flow.wireTorrent?.entry(for: h), let spec = entry.pieceSpec(Int(index)) else { continue }
            switch verifier.add(sender: origin.sender, infoHash: h, piece: Int(index), begin: Int(offset), block: bytes, spec: spec) {
            case .verified:
                let acc = accumulator(origin.sender, h, origin)
                acc.rareParts.piecesVerified.insert(index)
                acc.raise(to: .verified)
                counts.piecesVerified += 1
            case .mismatch:
                accumulator(origin.sender, h, origin).rareParts.piecesFailed.insert(index)
                counts.pieceHashMismatches += 1
            default:
                break
            }
            return
        }
    }

    public func rows(perDay: Bool) -> [EvidenceRow] {
        var out = unnamedRows(perDay: perDay)
        for i in out.indices { out[i].torrentName = torrentNames[out[i].infoHash] }
        return out
    }

    /// Whether DHT get_peers lookups of `h` (by anyone) are evidence in this run.
    public func lookupsAreEvidence(_ h: InfoHash) -> Bool { infoHashesWithEvidence.contains(h) }

    /// Infohashes of which some row is evidence (one pass over the table).
    public var infoHashesWithEvidence: Set<InfoHash> {
        let corroborated = corroboratedInfoHashes
        var out = corroborated
        for (k, acc) in table where acc.confidence != nil && counts(acc, k.infoHash, corroborated) { out.insert(k.infoHash) }
        return out
    }

    /// Infohashes that some evidence other than DHT get_peers names (DHT lookups for them are real).
    private var corroboratedInfoHashes: Set<InfoHash> {
        var out: Set<InfoHash> = []
        for (k, acc) in table where acc.confidence != nil && !acc.onlyGetPeers { out.insert(k.infoHash) }
        return out
    }

    /// A get_peers-only accumulator is evidence with enough queries, or for a torrent seen otherwise.
    private func counts(_ acc: EvidenceAccumulator, _ h: InfoHash, _ corroborated: Set<InfoHash>) -> Bool {
        !acc.onlyGetPeers || acc.getPeersQueries >= EvidenceLimits.dhtGetPeersMinimumQueries || corroborated.contains(h)
    }

    private func unnamedRows(perDay: Bool) -> [EvidenceRow] {
        let corroborated = corroboratedInfoHashes
        let keys = table.keys.sorted()
        var out: [EvidenceRow] = []
        if perDay {
            for k in keys where counts(table[k]!, k.infoHash, corroborated) {
                if let r = table[k]!.row(ip: k.ip, infoHash: k.infoHash, day: k.day, activeDays: [k.day], via: k.via) { out.append(r) }
            }
            return out
        }
        var i = 0
        while i < keys.count {
            var j = i
            let merged = EvidenceAccumulator(timestamp: table[keys[i]]!.firstSeen)
            var days: [Int64] = []
            while j < keys.count, keys[j].sameRow(keys[i]) {
                let acc = table[keys[j]]!
                if acc.confidence != nil { days.append(keys[j].day) }
                merged.merge(acc)
                j += 1
            }
            if counts(merged, keys[i].infoHash, corroborated),
               let r = merged.row(ip: keys[i].ip, infoHash: keys[i].infoHash, day: nil, activeDays: days, via: keys[i].via) { out.append(r) }
            i = j
        }
        return out
    }

    // MARK: - Helpers

    private mutating func accumulator(_ ip: IPAddress, _ h: InfoHash, _ origin: EventOrigin) -> EvidenceAccumulator {
        let key = EvidenceKey(ip: ip, infoHash: h, day: origin.timestamp.dayNumber, via: origin.via)
        let acc: EvidenceAccumulator
        if let a = evidence.entries[key] { acc = a } else { acc = EvidenceAccumulator(timestamp: origin.timestamp); evidence.entries[key] = acc }
        acc.touch(origin.timestamp)
        if origin.targetID > 0 { acc.addTarget(proxyTargetNames[Int(origin.targetID) - 1]) }
        return acc
    }

    private func peerWire(_ acc: EvidenceAccumulator, _ origin: EventOrigin, remote: IPAddress) {
        acc.flows.insert(origin.flowID)
        acc.peers.insert(remote)
        if origin.viaUTP { acc.signals.insert(.utp) }
    }

    private func transfer(_ acc: EvidenceAccumulator, _ origin: EventOrigin, remote: IPAddress) -> EvidenceAccumulator {
        acc.raise(to: .transfer)
        acc.signals.insert(.piece)
        peerWire(acc, origin, remote: remote)
        return acc
    }

    @discardableResult
    private mutating func announce(_ ip: IPAddress, _ h: InfoHash, _ signal: Signal, _ origin: EventOrigin, _ flow: FlowFindings,
                                   getPeers: Bool = false) -> EvidenceAccumulator {
        if getPeers { flow.lookedUp(h) } else { flow.name(h) }
        let acc = accumulator(ip, h, origin)
        if getPeers { acc.raiseKeepingKind(to: .announce) } else { acc.raise(to: .announce) }
        acc.signals.insert(signal)
        acc.flows.insert(origin.flowID)
        acc.addFrame(origin.frame, peerWire: false)
        return acc
    }

    /// Adds a signal to the sender's rows for the flow's torrents, without raising confidence.
    private mutating func annotate(_ flow: FlowFindings, _ origin: EventOrigin, _ signal: Signal, _ body: (EvidenceAccumulator) -> Void) {
        for h in flow.infoHashes {
            let acc = accumulator(origin.sender, h, origin)
            acc.signals.insert(signal)
            body(acc)
        }
    }

    private func setClient(_ flow: FlowFindings, _ senderIsSrc: Bool, _ name: String, onlyIfUnset: Bool) {
        if senderIsSrc {
            if !onlyIfUnset || flow.srcClient == nil { flow.srcClient = name }
        } else if !onlyIfUnset || flow.dstClient == nil {
            flow.dstClient = name
        }
    }
}
