// The flow and evidence layer in one value: decoded packets in, evidence rows and flow rows out
// (DESIGN.md pipeline: FlowTable -> BitTorrentClassifier -> EvidenceAggregator). The caller reads the
// captures (in order of first timestamp, one analyzer for all of them so that flows continue across
// files), decodes each frame, and calls `process`; then `finish` once.
//
// Per packet: one flow-table lookup, the reassembler (no copy when in order), the classifier, and the
// aggregator's table lookups. Allocation happens when a flow, a row or a new piece index is created.
import WireBytes
import PacketDecode
import BitTorrentClassifier

public struct AnalyzerOptions: Sendable {
    public var timeouts: FlowTimeouts
    public var maxFlows: Int
    /// Shared with the other shards of a run with threads: the limit holds for their sum (FlowBudget).
    public var flowBudget: FlowBudget?
    /// The first flow id of this analyzer's table: shard k of a run with threads numbers its flows
    /// from `FlowTable.firstID(shard: k)`, so that flow ids are unique across shards (the shards of a
    /// thread share their evidence, EvidenceTable) and order as shard, then creation.
    public var flowIDBase = 0
    /// Out-of-order bytes held per TCP direction (TCPReassembler.defaultBufferLimit).
    public var reassemblyBufferLimit: Int
    /// Torrents (--torrent) whose pieces are verified and whose names go into the rows.
    public var torrents = TorrentCatalog()
    /// Keep a flow row for every flow (`torscan flows`, eval, extract). When false (the evidence
    /// reports), rows of flows that can matter to no report (label `other`, no tunnel, not touching a
    /// proxy's address) are dropped as the flows end, the others are kept only as what linking proxy
    /// legs reads of them (LegRow), and what only flow rows use (MSE corroboration, DHT lookups to
    /// name) is not collected, so that memory grows as little as possible with the capture (issue 6).
    public var keepsAllFlowRows = true
    /// The evidence row shapes `finish` makes (each holds every row): both unless the caller needs one.
    public var evidenceShapes: EvidenceShapes = [.merged, .perDay]
    public init(timeouts: FlowTimeouts = FlowTimeouts(), maxFlows: Int = FlowTable<Void>.defaultMaxFlows,
                reassemblyBufferLimit: Int = TCPReassembler.defaultBufferLimit) {
        self.timeouts = timeouts; self.maxFlows = maxFlows; self.reassemblyBufferLimit = reassemblyBufferLimit
    }
}

/// AnalysisOutput's two shapes of evidence rows.
public struct EvidenceShapes: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// One row per (ip, infohash): `AnalysisOutput.evidence`.
    public static let merged = EvidenceShapes(rawValue: 1)
    /// One row per (ip, infohash, UTC day): `AnalysisOutput.evidencePerDay`.
    public static let perDay = EvidenceShapes(rawValue: 2)
}

public struct AnalysisOutput: Sendable {
    /// One row per (ip, infohash), sorted (empty unless AnalyzerOptions.evidenceShapes has `.merged`).
    public var evidence: [EvidenceRow]
    /// One row per (ip, infohash, UTC day), sorted (`--per-day`; empty unless the options' shapes have `.perDay`).
    public var evidencePerDay: [EvidenceRow]
    /// One row per flow, by first frame (empty unless AnalyzerOptions.keepsAllFlowRows).
    public var flows: [FlowRow]
    public var flowCounts: FlowCounts
    /// Named counts (DESIGN.md rule 4): classifier anomalies, reassembly gaps, skipped packets.
    public var anomalies: [String: Int]
}

public struct FlowAnalyzer {
    public let options: AnalyzerOptions
    var table: FlowTable<FlowContext>   // internal: FlowAnalyzerShards merges shards
    var finalizer: FlowFinalizer
    var skipped: [String: Int] = [:]

    public init(options: AnalyzerOptions = AnalyzerOptions()) {
        self.options = options
        table = FlowTable(timeouts: options.timeouts, maxFlows: options.maxFlows, budget: options.flowBudget, firstID: options.flowIDBase)
        let box = AggregatorBox(EvidenceAggregator(clientFromPeerID: { ClientIdentifier.identify($0)?.description }))
        if !options.torrents.entries.isEmpty { box.value.use(options.torrents) }
        box.collectsCorroboration = options.keepsAllFlowRows
        finalizer = FlowFinalizer(aggregator: box, bufferLimit: options.reassemblyBufferLimit, keepsAllRows: options.keepsAllFlowRows)
    }

    public mutating func process(record frame: FrameRef, timestamp: Timestamp, packet: DecodedPacket) {
        guard packet.hasIP, !packet.fragmentPending else { return }
        let tcp = packet.tcp
        if packet.isTCP {
            guard tcp != nil else { skipped["tcp_header_missing", default: 0] += 1; return }
        } else if packet.isUDP {
            if packet.stop?.layer == .udp { skipped["udp_header_missing", default: 0] += 1; return }
        } else {
            return
        }
        finalizer.isIPv6 = packet.isIPv6
        // A SYN without payload that opens a flow is all its context keeps (FlowContext.openingSYN).
        if let t = tcp, t.flags.syn, !t.flags.ack, packet.payload.count == 0, packet.payloadLength == 0 {
            finalizer.openingSYN = t.seq
        } else {
            finalizer.openingSYN = nil
        }
        let flow = table.packet(packet, payloadBytes: max(packet.payloadLength, packet.payload.count), timestamp: timestamp,
                                frame: frame, handler: &finalizer)
        if flow.settled { return }   // a settled TCP flow (FlowFinalizer.settleIfDone): only the table's counts change
        let context = table.context(of: flow)
        if case .openingSYN = context, flow.packets == 1 { return }   // processed when the next packet loads it
        // The state without a reference of our own (no retain and release per packet): the table, or
        // the finalizer for its scratch states, holds it for this whole call.
        finalizer.stateReference(of: context)._withUnsafeGuaranteedRef { state in
            analyze(packet, of: flow, state: state, context: context, timestamp: timestamp, frame: frame)
        }
    }

    /// The packet of a flow not settled yet, through its state.
    private mutating func analyze(_ packet: DecodedPacket, of flow: FlowPacket, state: AnalyzerFlowState, context: FlowContext,
                                  timestamp: Timestamp, frame: FrameRef) {
        let tcp = packet.tcp
        let fromSrc = flow.fromSrc
        if flow.packets == 1, let t = tcp, t.flags.syn, !t.flags.ack {
            state.startMSE()   // the key exchange can be measured from here
        }
        guard let tcp else {
            var sink = sink(packet, of: flow, state: state, timestamp: timestamp, frame: frame)
            if !finalizer.aggregator.udpRelays.isEmpty, let h = SOCKS5UDPRelay.unwrap(packet, box: finalizer.aggregator) {
                if state.relayTarget == nil { state.relayTarget = "\(h.target):\(h.port)" }
                if h.isFragment {
                    finalizer.aggregator.relayFragments += 1
                } else {
                    state.consume(datagram: packet.payload.slice(h.payloadOffset, packet.payload.count - h.payloadOffset), fromInitiator: fromSrc, sink: &sink)
                }
                keepUDPState(flow, context: context)   // (it has a relay target)
                return
            }
            state.consume(datagram: packet.payload, fromInitiator: fromSrc, sink: &sink)
            if state.isForgettable { forget(flow, isTCP: false) } else { keepUDPState(flow, context: context) }   // `state` is gone after this
            return
        }
        let cut = max(0, packet.payloadLength - packet.payload.count)
        // (A TCP packet always maps to a TCP flow: the key has the protocol.)
        let wantsNoMore: Bool
        if let w = state.tcpSegmentWithoutConsumers(tcp, payload: packet.payload, cutBytes: cut, fromSrc: fromSrc) {
            wantsNoMore = w   // no byte of it reaches a classifier: no sink needed
        } else {
            let sink = sink(packet, of: flow, state: state, timestamp: timestamp, frame: frame)
            guard let w = state.tcpSegment(tcp, payload: packet.payload, cutBytes: cut, fromSrc: fromSrc, sink: sink) else { return }
            wantsNoMore = w
        }
        if wantsNoMore, finalizer.settleIfDone(state) {
            if state.isForgettable {
                forget(flow, isTCP: true)   // `state` may be gone after this
                return
            }
            table.markSettled(flow)
        }
        keepTCPState(flow, context: context)
    }

    /// Where the classifiers' findings from this packet go.
    @inline(__always)
    private func sink(_ packet: DecodedPacket, of flow: FlowPacket, state: AnalyzerFlowState, timestamp: Timestamp, frame: FrameRef) -> EvidenceSink {
        let origin = EventOrigin(flowID: flow.id, sender: packet.src, receiver: packet.dst, timestamp: timestamp, frame: frame,
                                 viaUTP: !state.isTCP)
        return EvidenceSink(aggregator: finalizer.aggregator, state: state, origin: origin, senderIsSrc: flow.fromSrc,
                            srcPort: flow.fromSrc ? packet.srcPort : packet.dstPort, dstPort: flow.fromSrc ? packet.dstPort : packet.srcPort)
    }

    /// A settled flow with nothing found gives its state back (a million live flows must fit in
    /// memory, issue 6): its row, if one is kept, comes from the flow table's record alone.
    private func forget(_ flow: FlowPacket, isTCP: Bool) {
        table.markSettled(flow)
        let old = table.context(of: flow)
        table.replaceContext(of: flow, with: .owning(isTCP ? AnalyzerFlowState.settledTCP : AnalyzerFlowState.settledUDP))
        old.releaseState()
    }

    /// After a segment of a flow kept as `openingSYN` (processed in the finalizer's scratch state): its
    /// SYN again (a retransmitted SYN), or the scratch state itself and a new scratch state.
    private mutating func keepTCPState(_ flow: FlowPacket, context: FlowContext) {
        guard case .openingSYN = context else { return }
        if let seq = finalizer.scratchTCP.openingSYN {
            table.replaceContext(of: flow, with: .openingSYN(seq))
        } else {
            table.replaceContext(of: flow, with: .owning(finalizer.scratchTCP))   // (an openingSYN context owns nothing)
            finalizer.scratchTCP = TCPFlowState(bufferLimit: finalizer.bufferLimit)
        }
    }

    /// After a datagram of a flow kept as `probingUDP` (processed in the finalizer's scratch state):
    /// its bits again, or, once it has more (a finding, a uTP connection, a relay target), the
    /// scratch state itself, and a new scratch state for the next flow (one allocation per such flow).
    private mutating func keepUDPState(_ flow: FlowPacket, context: FlowContext) {
        guard case .probingUDP = context else { return }
        if let bits = finalizer.scratch.probingUDP {
            table.replaceContext(of: flow, with: .probingUDP(bits))
        } else {
            table.replaceContext(of: flow, with: .owning(finalizer.scratch))   // (a probingUDP context owns nothing)
            finalizer.scratch = UDPFlowState(isIPv6: false)
        }
    }

    /// Ends every live flow and returns the reports' rows and counts.
    public mutating func finish() -> AnalysisOutput {
        table.finish(handler: &finalizer)
        table.releaseStorage()
        finalizer.labelEncryptedFlows()
        finalizer.nameLookedUpInfoHashes()
        finalizer.linkProxyLegs()
        let agg = finalizer.aggregator.value
        var anomalies = skipped
        for (k, v) in finalizer.reassembly.named where v > 0 { anomalies[k, default: 0] += v }
        for (a, n) in agg.counts.classifierAnomalies { anomalies[a.rawValue, default: 0] += n }
        if agg.counts.unattributedPieces > 0 { anomalies["piece_without_infohash", default: 0] += agg.counts.unattributedPieces }
        if agg.counts.dhtRefreshQueriesIgnored > 0 { anomalies["dht_refresh_query_ignored", default: 0] += agg.counts.dhtRefreshQueriesIgnored }
        if agg.counts.pieceHashMismatches > 0 { anomalies["piece_hash_mismatch", default: 0] += agg.counts.pieceHashMismatches }
        for a in PieceVerifierAnomaly.allCases where agg.verifier.count(a) > 0 { anomalies[a.description, default: 0] += agg.verifier.count(a) }
        if agg.counts.metadataHashMismatches > 0 { anomalies["metadata_hash_mismatch", default: 0] += agg.counts.metadataHashMismatches }
        if finalizer.aggregator.relayFragments > 0 { anomalies["socks5_udp_fragment", default: 0] += finalizer.aggregator.relayFragments }
        if table.counts.timestampRegressions > 0 { anomalies["timestamp_regression", default: 0] += table.counts.timestampRegressions }
        let flows = finalizer.rows.sorted { ($0.firstFrame, $0.firstSeen) < ($1.firstFrame, $1.firstSeen) }
        let shapes = options.evidenceShapes
        return AnalysisOutput(evidence: shapes.contains(.merged) ? agg.rows(perDay: false) : [],
                              evidencePerDay: shapes.contains(.perDay) ? agg.rows(perDay: true) : [], flows: flows,
                              flowCounts: table.counts, anomalies: anomalies)
    }
}

/// Totals of the flows' TCP reassembly, counted as flows settle or end (plain counters: a dictionary
/// keyed by name cost 60 instructions per packet in issue 6's count).
struct ReassemblyTotals {
    var gaps = 0, gapBytes = 0, tunnelHandshakesFailed = 0

    mutating func add(_ c: TCPReassembler.Counters) {
        gaps += c.gaps
        gapBytes += Int(c.gapBytes)
    }

    mutating func add(_ o: ReassemblyTotals) {
        gaps += o.gaps; gapBytes += o.gapBytes; tunnelHandshakesFailed += o.tunnelHandshakesFailed
    }

    /// By anomaly name (DESIGN.md rule 4).
    var named: [String: Int] {
        ["tcp_reassembly_gap": gaps, "tcp_reassembly_gap_bytes": gapBytes, "tunnel_handshake_failed": tunnelHandshakesFailed]
    }
}

/// Creates flow state and finalises ended flows: flushes their reassemblers, then writes the flow row.
struct FlowFinalizer: FlowLifecycle {
    let aggregator: AggregatorBox
    let bufferLimit: Int
    let keepsAllRows: Bool
    /// The address family of the packet being processed (for new flows' UDP tracker parsing).
    var isIPv6 = false
    /// Ended flows' rows, when all are kept (`keepsAllRows`); else what linking proxy legs needs of
    /// the rows that could be legs (`legRows`), in the same order (the row index of AggregatorBox.legEnded).
    var rows: [FlowRow] = []
    var legRows = LegRows()
    /// Rows kept so far (`rows` or `legRows`).
    var rowCount: Int { keepsAllRows ? rows.count : legRows.count }
    /// Reassembly totals (named in `finish`).
    var reassembly = ReassemblyTotals()
    /// The state in which packets of `FlowContext.probingUDP` flows are processed (FlowAnalyzer.keepUDPState).
    var scratch = UDPFlowState(isIPv6: false)
    /// The same for `FlowContext.openingSYN` flows (FlowAnalyzer.keepTCPState).
    lazy var scratchTCP = TCPFlowState(bufferLimit: bufferLimit)
    /// The sequence number of the packet being processed when it is a SYN without payload (a new TCP
    /// flow's context is then `openingSYN`).
    var openingSYN: UInt32?

    /// The flow's state: its own, or a scratch state loaded with its bits.
    @inline(__always) mutating func state(of context: FlowContext) -> AnalyzerFlowState {
        stateReference(of: context).takeUnretainedValue()
    }

    /// The same without a reference of the caller's own (valid while the context's record, or the
    /// scratch state, is not replaced).
    @inline(__always) mutating func stateReference(of context: FlowContext) -> Unmanaged<AnalyzerFlowState> {
        switch context {
        case .state(let s): return s
        case .probingUDP(let bits): scratch.load(probingUDP: bits); return .passUnretained(scratch)
        case .openingSYN(let seq): scratchTCP.load(openingSYN: seq, bufferLimit: bufferLimit); return .passUnretained(scratchTCP)
        }
    }

    /// Flow rows with infohashes only looked up in the DHT: named once the whole run is known.
    var lookups: [(row: Int, infoHashes: [InfoHash])] = []

    mutating func nameLookedUpInfoHashes() {
        guard !lookups.isEmpty else { return }
        let evidence = aggregator.value.infoHashesWithEvidence
        for (i, hashes) in lookups {
            for h in hashes where !rows[i].infoHashes.contains(h) && evidence.contains(h) { rows[i].infoHashes.append(h) }
            rows[i].infoHashes.sort()
        }
        lookups = []
    }

    /// Flows shaped like an MSE key exchange (MSEShapeDetector), labelled at the end of the run.
    var encryptedCandidates: [(row: Int, steps: Int, responder: PeerEndpoint)] = []

    /// MSEShapeDetector's suggested labelling: three steps matched, or fewer with the responder's
    /// endpoint corroborated by cleartext BitTorrent elsewhere in the run (MSECorroboration). The row
    /// says on what (`encrypted_by`), and names a torrent only when the responder's endpoint is tied
    /// to exactly one (issue 7: "an infohash only when corroborated, and the report says how").
    mutating func labelEncryptedFlows() {
        let corroboration = aggregator.corroboration
        for c in encryptedCandidates {
            let sources = corroboration.corroborate(responder: c.responder)
            guard c.steps >= 3 || !sources.isEmpty else { continue }
            rows[c.row].label = "bittorrent-encrypted"
            var basis = ["mse_shape_\(c.steps)_steps"] + sources.map(\.rawValue)
            if let h = corroboration.infoHash(responder: c.responder), rows[c.row].infoHashes.isEmpty {
                rows[c.row].infoHashes = [h]
                basis.append("infohash_of_responder_endpoint")
            }
            rows[c.row].encryptedBy = basis.joined(separator: ";")
        }
        encryptedCandidates = []
    }

    mutating func makeContext(key: FlowKey, src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16) -> FlowContext {
        if key.proto == IPProtocolNumber.tcp {
            if let seq = openingSYN { return .openingSYN(seq) }
            return .owning(TCPFlowState(bufferLimit: bufferLimit))
        }
        var c = UDPFlowClassifier()
        c.isIPv6 = isIPv6
        return .probingUDP(c.compactState!)   // a new classifier is undecided, with nothing tracked
    }

    /// Releases a TCP flow's per-direction state once no consumer wants bytes (proxy probe done, MSE
    /// shape decided, both stream classifiers done): later packets only update the flow's counts
    /// (the common case of a busy link's non-BitTorrent flows, issue 6). What flowEnded would take
    /// from the released state (protocol kinds, reassembly gaps) is taken now.
    mutating func settleIfDone(_ state: AnalyzerFlowState) -> Bool {
        guard let dirs = state.tcp, !state.probesTunnel, !state.mseUndecided, !dirs.wantsBytes(fromSrc: true), !dirs.wantsBytes(fromSrc: false) else { return false }
        takeFinalState(dirs, into: state)
        state.releaseTCP()
        return true
    }

    private mutating func takeFinalState(_ dirs: TCPFlowState, into state: AnalyzerFlowState) {
        reassembly.add(dirs.reassemblerFromSrc.counters)
        reassembly.add(dirs.reassemblerFromDst.counters)
        let (fromSrc, fromDst) = (dirs.state(fromSrc: true), dirs.state(fromSrc: false))
        if fromSrc == .peerWire || fromDst == .peerWire { state.findings.kinds.insert(.peerWire) }
        if fromSrc == .httpTracker || fromDst == .httpTracker { state.findings.kinds.insert(.trackerHTTP) }
    }

    /// Whether an address of the flow accepted a proxy handshake so far (no hashing while none did).
    private func touchesProxy(_ a: IPAddress, _ b: IPAddress) -> Bool {
        !aggregator.proxies.isEmpty && (aggregator.proxies.contains(a) || aggregator.proxies.contains(b))
    }

    mutating func flowEnded(_ flow: Flow<FlowContext>, reason: FlowEndReason) {
        let state = state(of: flow.context)
        defer { flow.context.releaseState() }   // the record goes; `state` holds its own reference until the end
        if state.isPlaceholder {
            guard keepsAllRows || touchesProxy(flow.src, flow.dst) else { return }
            // A proxy's connection that carried nothing BitTorrent may still be a leg.
            aggregator.legEnded(flow, state: state, row: rowCount)
            guard keepsAllRows else { legRows.append(LegRow(flow, hasTunnel: false)); return }
            rows.append(FlowRow(proto: state.isTCP ? .tcp : .udp, srcIP: flow.src, srcPort: flow.srcPort, dstIP: flow.dst, dstPort: flow.dstPort,
                                firstSeen: flow.firstSeen, lastSeen: flow.lastSeen, packets: flow.packets, bytes: flow.bytes,
                                label: "other", infoHashes: [], firstFrame: flow.firstFrame))
            return
        }
        if state.isTCP, state.tunnelFailure != nil { reassembly.tunnelHandshakesFailed += 1 }
        if let dirs = state.tcp {
            for fromSrc in [true, false] {
                let origin = EventOrigin(flowID: flow.id, sender: fromSrc ? flow.src : flow.dst, receiver: fromSrc ? flow.dst : flow.src,
                                         timestamp: flow.lastSeen, frame: flow.lastFrame)
                var feed = StreamFeed(state: state, fromSrc: fromSrc,
                                      sink: EvidenceSink(aggregator: aggregator, state: state, origin: origin, senderIsSrc: fromSrc,
                                                         srcPort: flow.srcPort, dstPort: flow.dstPort))
                if fromSrc { dirs.reassemblerFromSrc.finish(consumer: &feed) } else { dirs.reassemblerFromDst.finish(consumer: &feed) }
                if !fromSrc { feed.stopProbing() }   // a proxy handshake that never completed: classify what was held
            }
            takeFinalState(dirs, into: state)
        } else if !state.isTCP {
            switch state.datagramLabel {
            case .utp: state.findings.kinds.insert(.utp)
            case .dht: state.findings.kinds.insert(.dht)
            case .udpTracker: state.findings.kinds.insert(.trackerUDP)
            case .lsd: state.findings.kinds.insert(.lsd)
            case .undecided, .other: break
            }
        }
        let f = state.findingsToRead
        state.mseFinish()
        // Only reports of flow rows use the encrypted label (the evidence reports do not): without
        // them, candidates are not kept, so memory does not grow with a capture's random-looking flows.
        if keepsAllRows, let evidence = state.mseLabellingEvidence, f.label(isTCP: state.isTCP) == "other" {
            let responder = state.tunnel.flatMap { t in t.target.address.map { PeerEndpoint(address: $0.bytes, port: t.targetPort) } }
                ?? PeerEndpoint(address: flow.dst.bytes, port: flow.dstPort)
            encryptedCandidates.append((row: rows.count, steps: evidence.stepsMatched, responder: responder))
        }
        let label = f.label(isTCP: state.isTCP)
        let tunnel = state.relayTarget != nil ? TunnelKind.socks5.flowColumn : (state.tunnel?.kind ?? state.tunnelFailure?.kind)?.flowColumn
        // Decided before the row is built: most flows' rows are not kept when not every row is.
        let isCandidate = encryptedCandidates.last?.row == rows.count
        guard keepsAllRows || isCandidate || label != "other" || tunnel != nil || !f.lookedUpInfoHashes.isEmpty
                || touchesProxy(flow.src, flow.dst) else { return }
        // Naming looked-up infohashes changes flow rows only.
        if keepsAllRows, !f.lookedUpInfoHashes.isEmpty { lookups.append((rows.count, f.lookedUpInfoHashes)) }
        aggregator.legEnded(flow, state: state, row: rowCount)
        // Without flow rows, what linking proxy legs reads of the row (issue 6's memory).
        guard keepsAllRows else { legRows.append(LegRow(flow, hasTunnel: tunnel != nil)); return }
        var row = FlowRow(proto: state.isTCP ? .tcp : .udp, srcIP: flow.src, srcPort: flow.srcPort, dstIP: flow.dst, dstPort: flow.dstPort,
                            firstSeen: flow.firstSeen, lastSeen: flow.lastSeen, packets: flow.packets, bytes: flow.bytes,
                            label: label, infoHashes: f.namedInfoHashes, tunnel: tunnel, firstFrame: flow.firstFrame,
                            client: f.srcClient ?? f.dstClient)
        row.tunnelTarget = state.relayTarget ?? (state.tunnel ?? state.tunnelFailure?.request).map { "\($0.target):\($0.targetPort)" }
        rows.append(row)
    }
}
