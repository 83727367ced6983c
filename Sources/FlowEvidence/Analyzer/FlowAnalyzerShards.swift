// Multi-threaded runs (issue 6, `--threads N`): each worker owns a FlowAnalyzer and gets every packet
// of its flows (a symmetric flow hash sends both directions to the same worker). At the end the
// shards' ended flows and evidence are combined into one analyzer and its `finish` runs once, so the
// cross-flow steps (MSE corroboration, naming looked-up infohashes, ...) see the whole run.
//
// What one analyzer would have given, and what differs:
// - Evidence and flow rows: the same. Accumulators of the same (ip, infohash, day) merge by set union
//   (pieces, peers, flows, signals), sums (bytes, votes) and earliest frames, in any order: the shards
//   a thread runs share one evidence table (EvidenceTable), and the threads' tables merge here. Flow
//   ids are unique across shards by construction (each shard's table numbers from
//   FlowTable.firstID(shard:)), and order as shard, then creation, as the renumbering they replace did.
// - Flows split and end as in one table, timestamp regressions included: every shard keeps the run's
//   clock (the caller passes it with each packet and at the end), and FlowTable decides that a flow
//   ended from its own last packet and that clock only (a packet after the timeout starts a new flow;
//   at the end a flow past its timeout counts as timed out). `created`, `ended` and regressions are sums.
// - SOCKS5 UDP relays opened by a UDP ASSOCIATE on a TCP flow (AggregatorBox.udpRelays) are used while
//   packets are processed: the pipeline shards by address pair, so the relay's datagrams (between the
//   same client and proxy) reach the shard that saw the relay open. A relay on another address of the
//   proxy (a multi-homed proxy's BND.ADDR) is decoded only when that pair lands in the same shard.
// - Piece verification (--torrent) also works across flows (a sender's blocks of one piece may come
//   over several flows): the pipeline uses one thread then.
// - PieceVerifier's own anomaly counts (its setters are private) come from the first shard only.
// - `open` (the reports' peak_live_flows) is the same: shards' open intervals summed (OpenFlowPeak).
//   `peakLive`, the tables' occupancy, is the sum of the shards' peaks: an upper bound of one table's;
//   idle flows leave a table at its sweeps, which depend on what else the table holds. No report has it.
// - The flow limit holds for the shards' sum (FlowBudget, published in steps): when the sum reaches
//   it, the shard creating a flow evicts its own least recently queued idle flow (one table would
//   choose among all), so only near the limit (within 1.6% of it) can N matter.
import WireBytes
import PacketDecode
import BitTorrentClassifier

extension FlowAnalyzer {
    /// A packet with the run's clock before it (the latest timestamp so far, kept by the reader for
    /// all shards), so that flows expire as in one table.
    /// Prefetching a flow lookup's bucket, then its record (FlowTable.prefetchBucket, prefetchRecord).
    /// Mutating: a method of a copy of the analyzer would retain its parts.
    @inline(__always) public mutating func prefetchBucket(ethernetFrame frame: UnsafeRawBufferPointer) -> UInt32? {
        table.prefetchBucket(ethernetFrame: frame)
    }
    @inline(__always) public mutating func prefetchBucket(_ h: FlowHint) -> UInt32 { table.prefetchBucket(h) }
    @inline(__always) public mutating func prefetchBucket(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16,
                                                          ipProtocol: UInt8) -> UInt32 {
        table.prefetchBucket(src: src, srcPort: srcPort, dst: dst, dstPort: dstPort, ipProtocol: ipProtocol)
    }
    @inline(__always) public mutating func prefetchRecord(tag: UInt32) { table.prefetchRecord(tag: tag) }

    public mutating func process(record frame: FrameRef, timestamp: Timestamp, packet: DecodedPacket, clock: Timestamp) {
        table.setClock(clock)
        process(record: frame, timestamp: timestamp, packet: packet)
    }

    /// The run's clock restarts at `low`, before `high` (FlowTable.restartClock): flows idle at
    /// `high` end first. Every shard, at the same point of the run.
    public mutating func restartClock(from high: Timestamp, to low: Timestamp) {
        table.restartClock(from: high, to: low, handler: &finalizer)
    }

    /// Ends every shard's live flows (first expiring those idle at the run's last clock `clock`),
    /// combines the shards into one analyzer and finishes it. `evidenceTables`: every table the
    /// shards wrote evidence to (one per thread, EvidenceTable): a thread that gave all its shards
    /// away keeps evidence no shard points to any more.
    /// `consuming`: the shards are changed in place (their flows end), so their arrays must not be
    /// shared with the caller's (a copy of every kept row at the end of the run, issue 6's memory).
    public static func finish(shards: consuming [FlowAnalyzer], clock: Timestamp?, timestampRegressions: Int,
                              evidenceTables: [EvidenceTable] = []) -> AnalysisOutput {
        precondition(!shards.isEmpty)
        precondition(Set(shards.map(\.table.firstID)).count == shards.count, "shards must number their flows apart (AnalyzerOptions.flowIDBase)")
        var counts = FlowCounts()
        for i in shards.indices {
            shards[i].endFlows(clock: clock)   // (no flow left, nothing to release, in a shard its thread ended)
            let c = shards[i].table.counts
            counts.created += c.created
            counts.peakLive += c.peakLive
            counts.open.absorb(c.open)
            for (r, n) in c.ended { counts.ended[r, default: 0] += n }
        }
        counts.timestampRegressions = timestampRegressions
        // Taken out of the array, not copied: the merged analyzer's arrays stay uniquely referenced
        // (a copy would be made at their first change: the flow rows twice at the end of the run).
        var merged = shards.removeFirst()
        let mergedTable = merged.finalizer.aggregator.value.evidence
        while !shards.isEmpty {
            let shard = shards.removeFirst()   // released once absorbed, not at the end of the run
            merged.absorb(shard)
            // Each thread's table once (a table absorbed is empty; its shards shared it).
            mergedTable.absorb(shard.finalizer.aggregator.value.evidence)
        }
        for t in evidenceTables { mergedTable.absorb(t) }
        var out = merged.finish()
        out.flowCounts = counts
        out.anomalies["timestamp_regression"] = timestampRegressions > 0 ? timestampRegressions : nil
        return out
    }

    /// Ends the shard's live flows at the end of the run (first expiring those idle at the run's last
    /// clock `clock`) and gives back the table's storage: what `finish(shards:)` does first to each
    /// shard. A run with threads calls it on the thread that owns the shard, so that shards end their
    /// flows in parallel (tens of thousands of live flows end at the end of a large capture).
    public mutating func endFlows(clock: Timestamp?) {
        if let clock { expireAll(at: clock) }
        endAllFlows()
    }

    private mutating func endAllFlows() {
        table.finish(handler: &finalizer)
        table.releaseStorage()
    }

    private mutating func expireAll(at clock: Timestamp) {
        table.setClock(clock)
        table.expire(handler: &finalizer)
    }

    /// Takes over the ended flows and evidence of `other` (whose flows have all ended).
    private mutating func absorb(_ other: FlowAnalyzer) {
        for (k, v) in other.skipped { skipped[k, default: 0] += v }
        finalizer.absorb(other.finalizer)
    }

    /// Writes evidence to `table` from now on (the table of the thread that runs this shard).
    public mutating func useEvidenceTable(_ table: EvidenceTable) {
        finalizer.aggregator.value.evidence = table
    }
}

extension FlowFinalizer {
    mutating func absorb(_ other: FlowFinalizer) {
        let rowOffset = rowCount
        rows += other.rows
        legRows += other.legRows
        reassembly.add(other.reassembly)
        encryptedCandidates += other.encryptedCandidates.map { (row: $0.row + rowOffset, steps: $0.steps, responder: $0.responder) }
        lookups += other.lookups.map { (row: $0.row + rowOffset, infoHashes: $0.infoHashes) }
        aggregator.relayFragments += other.aggregator.relayFragments
        aggregator.attribution.absorb(other.aggregator.attribution, rowOffset: rowOffset)
        aggregator.proxies.formUnion(other.aggregator.proxies)
        aggregator.corroboration.formUnion(other.aggregator.corroboration)
        aggregator.value.absorb(other.aggregator.value)
    }
}

extension EvidenceAggregator {
    /// Takes over `other`'s counts and names; its evidence table, shared with the other shards of a
    /// thread, is merged once per table by `finish(shards:)`.
    mutating func absorb(_ other: EvidenceAggregator) {
        for (h, name) in other.torrentNames where torrentNames[h] == nil { torrentNames[h] = name }
        counts.dhtRefreshQueriesIgnored += other.counts.dhtRefreshQueriesIgnored
        counts.unattributedPieces += other.counts.unattributedPieces
        counts.metadataHashMismatches += other.counts.metadataHashMismatches
        counts.piecesVerified += other.counts.piecesVerified
        counts.pieceHashMismatches += other.counts.pieceHashMismatches
        for (a, n) in other.counts.classifierAnomalies { counts.classifierAnomalies[a, default: 0] += n }
    }
}
