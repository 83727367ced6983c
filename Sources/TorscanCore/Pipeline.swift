// The main job's pipeline (DESIGN.md): capture files -> records -> decoded packets -> flows and
// classifier -> evidence rows. Files given together are read in order of their first timestamp,
// and flows continue across them (a rotated capture is one capture).
import Foundation
import WireBytes
import CaptureFile
import PcapFilter
import PacketDecode
import BitTorrentClassifier
import FlowEvidence
import Reports

public struct InputFile: Sendable {
    public var path: String
    public var packets: Int
    public var bytes: Int64
    public var firstSeen: Timestamp?
    public var lastSeen: Timestamp?
    public var anomalies: [String: Int]
    public var damage: [String]
    /// Size and SHA-256 of the file as stored (chain of custody), when the run asked for them.
    public var size: Int64?
    public var sha256: String?
}

public struct AnalysisRun: Sendable {
    public var inputs: [InputFile]
    public var evidence: [EvidenceRow]
    public var flows: [FlowRow]
    public var counts: [(String, Int)]
    public var anomalies: [String: Int]
    /// Fractional digits for timestamps: 9 when any input has nanosecond resolution.
    public var fractionDigits: Int
    /// Shards moved between threads during the run (ShardBalancer; 0 with one thread). Not in any
    /// report: reports are the same whatever the moves.
    public var shardMoves = 0
    /// The most flows held in the flow tables at once (with threads, the sum of the shards' peaks):
    /// what memory held, which depends on N. Not in any report (they have `peak_live_flows`).
    public var peakFlowsInTables = 0
    public var damaged: Bool { inputs.contains { !$0.damage.isEmpty } }
    public var capturePaths: [String] { inputs.map(\.path) }
}

public enum PipelineError: Error, CustomStringConvertible {
    case noInput([String])
    case badFilter(String)
    public var description: String {
        switch self {
        case .noInput(let reasons): reasons.joined(separator: "\n")
        case .badFilter(let r): r
        }
    }
}

public enum Pipeline {
    /// Runs the whole job. `progress` is called now and then with bytes read so far (for the progress bar).
    public static func analyze(paths: [String], options: AnalysisOptions, hashInputs: Bool = false,
                               progress: ((_ bytesDone: Int64, _ packets: Int) -> Void)? = nil) throws -> AnalysisRun {
        let expanded = try CaptureInputs.expand(paths)
        var opened: [(reader: CaptureReader, first: Timestamp?)] = []
        var failures: [String] = []
        for p in expanded {
            do {
                let r = try CaptureReader(path: p)
                r.computesSHA256 = hashInputs
                if let size = options.readChunkSize { r.readChunkSize = size }
                opened.append((r, p == "-" ? nil : firstTimestamp(p)))
            } catch {
                failures.append("\(error)")
            }
        }
        if opened.isEmpty { throw PipelineError.noInput(failures.isEmpty ? ["no capture files given"] : failures) }
        // Rotated captures: oldest first; files without a timestamp keep their place at the end.
        let ordered = opened.enumerated().sorted { a, b in
            switch (a.element.first, b.element.first) {
            case let (x?, y?): return (x, a.offset) < (y, b.offset)
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.offset < b.offset
            }
        }.map(\.element)

        var filter: BPFFilterSet?
        if let expr = options.filter {
            do { filter = try BPFFilterSet(expression: expr) } catch { throw PipelineError.badFilter("\(error)") }
        }
        var decoder = PacketDecoder()
        var analyzerOptions = options.analyzer
        analyzerOptions.evidenceShapes = options.perDay ? .perDay : .merged   // the one the run reports
        // Workers need payloads that outlive the record: regular files only (ShardedAnalysis.swift).
        // Piece verification (--torrent) assembles a sender's blocks across flows: one thread.
        let threads = ordered.allSatisfy(\.reader.supportsLaggingReaders) && options.analyzer.torrents.entries.isEmpty ? min(max(1, options.threads), 256) : 1
        // N threads: flows are spread over 8N shards, each with its own analyzer; the reading thread
        // runs some of them itself (so N threads keep N cores busy, not N + 1), N - 1 workers the rest,
        // and ShardBalancer moves shards between them as their loads change. The flow limit holds for
        // the shards' sum (FlowBudget): memory stays bounded as with one thread.
        let shardCount = threads > 1 ? ShardBalancer.shardsPerThread * threads : 1
        let shardOptions = threads > 1 ? Self.shardOptions(analyzerOptions, shards: shardCount) : analyzerOptions
        let shardBoxes = (0..<shardCount).map { k in
            var o = shardOptions
            o.flowIDBase = FlowTable<Void>.firstID(shard: k)   // unique across shards: they share evidence tables
            return ShardBox(FlowAnalyzer(options: o))
        }
        // Unmanaged: a packet reaches its shard's analyzer with no retain and release (`shardBoxes` owns them).
        let shards = shardBoxes.map { Unmanaged.passUnretained($0) }
        let balancer = ShardBalancer(shards: shardCount, threads: threads)
        let owner = balancer.owner.baseAddress!
        // The shards a thread runs write their evidence to one table (EvidenceTable.swift); a shard
        // that moves writes to its new thread's table from then on.
        let tables = threads > 1 ? (0..<threads).map { _ in EvidenceTable() } : []
        if threads > 1 {
            for v in 0..<shardCount { shardBoxes[v].analyzer.useEvidenceTable(tables[Int(owner[v])]) }
            balancer.onMove = { v, thread in shards[v]._withUnsafeGuaranteedRef { $0.analyzer.useEvidenceTable(tables[thread]) } }
        }
        let forcedMoves = options.shardMoveInterval ?? 0
        let single = shards[0]
        // More threads than cores: a spinning thread would hold a core that the one it waits for needs.
        let spinCeiling = threads <= UsableCPUs.count ? SpinBudget.defaultCeiling : 0
        // Workers with nothing to do read the reader's next chunk (ChunkReadAhead.swift).
        let readAhead = threads > 1 ? ChunkReadAhead() : nil
        let workers = threads > 1 ? (1..<threads).map { _ in ShardWorker(shards: shards, spinCeiling: spinCeiling, readAhead: readAhead) } : []
        for w in workers { w.start() }
        // Unmanaged: handing a packet to a worker costs no retain and release (`workers` owns them).
        let handOff = workers.map { Unmanaged.passUnretained($0) }
        // The run's clock for flow timeouts: the latest timestamp so far, restarted when a file begins
        // before it (overlapping captures, or one whose last timestamp is bogus: pcapng-example's 2262),
        // so that such a file's flows are not all idle at once. Regressions count against `newest`.
        var prefetches = PrefetchRing()
        var latest: Timestamp?
        var newest: Timestamp?
        var regressions = 0
        var inputs: [InputFile] = []
        var bytesDone: Int64 = 0
        var packetsDone = 0
        var nanos = false
        // Workers read records a few batches behind: the reader's buffers keep them until then. One
        // LaggingReaders for the run: its buffers go on from file to file (rotated captures), so a
        // file's end is no reason to wait for the workers. Records are named by run position.
        let lagging = workers.isEmpty ? nil : LaggingReaders(
            oldestNeeded: { workers.compactMap { $0.oldestRecordNeeded() }.min() },
            waitUntilDone: { position in for w in workers { w.waitUntilProcessed(before: position) } },
            readAhead: readAhead)
        for (index, (reader, first)) in ordered.enumerated() {
            if let f = first, let l = latest, f < l {
                // The clock goes back: every shard ends the flows idle at `l` first, so that which
                // flows survive into this file does not depend on the thread count (FlowTable.restartClock).
                // The workers finish the packets they were given; the reader then runs every shard.
                for w in workers { w.finishGivenPackets() }
                for v in 0..<shardCount { shards[v]._withUnsafeGuaranteedRef { $0.analyzer.restartClock(from: l, to: f) } }
                latest = f
            }
            reader.laggingReaders = lagging
            let runOffset = lagging?.runOffset ?? 0
            let result = reader.forEachRecord { record in
                packetsDone += 1
                bytesDone += Int64(record.capturedLength) + 16
                if packetsDone & 0xFFFF == 0 { progress?(bytesDone, packetsDone) }
                guard options.inTimeRange(record.timestamp) else { return true }
                if let f = filter, !f.matches(record) { return true }
                let frame = FrameRef(captureIndex: index, frame: record.frameNumber)
                let clock = latest ?? record.timestamp
                /// The run's clock and regressions, for a packet that reaches a flow table.
                @inline(__always) func noteFlowTimestamp() {
                    if let n = newest, record.timestamp < n { regressions += 1 } else { newest = record.timestamp }
                    if latest.map({ record.timestamp > $0 }) ?? true { latest = record.timestamp }
                }
                if workers.isEmpty {
                    let packet = decoder.decode(record.data, linkType: record.linkType, timestamp: record.timestamp)
                    if Self.reachesFlowTable(packet) { noteFlowTimestamp() }
                    single._withUnsafeGuaranteedRef {
                        // The flow lookups of the next packets, ahead of time (PrefetchRing).
                        var ahead: UInt64 = 0
                        if record.linkType == .ethernet, let tag = $0.analyzer.prefetchBucket(ethernetFrame: record.lookahead) {
                            ahead = PrefetchRing.entry(shard: 0, tag: tag)
                        }
                        let older = prefetches.push(ahead)
                        if older != 0 { $0.analyzer.prefetchRecord(tag: older.prefetchTag) }
                        $0.analyzer.process(record: frame, timestamp: record.timestamp, packet: packet, clock: clock)
                    }
                    return true
                }
                /// Shard moves (ShardBalancer), before the packet's shard is looked up.
                @inline(__always) func balance() {
                    if forcedMoves > 0 {
                        if packetsDone % forcedMoves == 0 { balancer.forceMove(workers, leavingTheReader: options.shardMovesLeaveTheReader) }
                    } else if packetsDone & 0xFFF == 0 {
                        balancer.look(workers)
                    }
                }
                // The reader prefetches the flow lookups of its own shards' packets (PrefetchRing); a
                // worker, those of the packets it is given. Moves happen on this thread, so a shard
                // found here to be the reader's is not being changed by a worker.
                @inline(__always) func prefetchOwnShards() {
                    guard balancer.readerShards > 0 else { return }
                    var ahead: UInt64 = 0
                    if record.linkType == .ethernet, let h = FlowHint.ethernetIPv4(record.lookahead) {
                        let v = shardIndex(src: IPAddress(v4: h.src), dst: IPAddress(v4: h.dst), workers: shardCount)
                        if owner[v] == 0 { ahead = PrefetchRing.entry(shard: v, tag: shards[v]._withUnsafeGuaranteedRef { $0.analyzer.prefetchBucket(h) }) }
                    }
                    let older = prefetches.push(ahead)
                    if older != 0, owner[older.prefetchShard] == 0 {
                        shards[older.prefetchShard]._withUnsafeGuaranteedRef { $0.analyzer.prefetchRecord(tag: older.prefetchTag) }
                    }
                }
                // A common frame (Ethernet, IPv4 or IPv6, TCP or UDP, every header byte present) reaches
                // a flow table, and its addresses name its shard: a worker's shard gets it undecoded,
                // and the worker decodes it (the reader decoding every packet bounded two threads).
                if record.linkType == .ethernet, let ends = PacketDecoder.commonFrameEndpoints(record.data) {
                    noteFlowTimestamp()
                    balance()
                    prefetchOwnShards()
                    let shard = shardIndex(src: ends.src, dst: ends.dst, workers: shardCount)
                    let thread = Int(owner[shard])
                    if thread != 0 {
                        handOff[thread - 1]._withUnsafeGuaranteedRef {
                            $0.addCommonFrame(frame, record.timestamp, clock, record.data, shard: shard, recordPosition: runOffset &+ record.fileOffset)
                        }
                    } else {
                        let packet = decoder.decode(record.data, linkType: record.linkType, timestamp: record.timestamp)
                        shards[shard]._withUnsafeGuaranteedRef { $0.analyzer.process(record: frame, timestamp: record.timestamp, packet: packet, clock: clock) }
                    }
                    return true
                }
                let packet = decoder.decode(record.data, linkType: record.linkType, timestamp: record.timestamp)
                if Self.reachesFlowTable(packet) { noteFlowTimestamp() }
                balance()
                prefetchOwnShards()
                let shard = shardIndex(packet, workers: shardCount)
                let thread = Int(owner[shard])
                if thread == 0 {
                    shards[shard]._withUnsafeGuaranteedRef { $0.analyzer.process(record: frame, timestamp: record.timestamp, packet: packet, clock: clock) }
                } else {
                    handOff[thread - 1]._withUnsafeGuaranteedRef {
                        $0.add(frame, record.timestamp, clock, packet, shard: shard, recordPosition: runOffset &+ record.fileOffset)
                    }
                }
                return true
            }
            if reader.timestampResolution != .microseconds { nanos = true }
            var fileAnomalies: [String: Int] = [:]
            for (a, n) in result.anomalies.nonZero { fileAnomalies[a.rawValue] = n }
            inputs.append(InputFile(path: reader.path, packets: result.packets, bytes: Int64(result.bytes),
                                    firstSeen: result.firstTimestamp, lastSeen: result.lastTimestamp,
                                    anomalies: fileAnomalies, damage: result.damage.map(\.description),
                                    size: fileSize(reader.path), sha256: reader.sha256))
        }
        progress?(bytesDone, packetsDone)
        // The workers finish the packets they were given before any flow is ended at the end of input
        // (as the reader waited for them at the end of each file before): flows a shard ends free their
        // share of the flow limit (FlowBudget), which a worker still creating flows would take.
        lagging?.waitUntilDone(Int.max)
        let output: AnalysisOutput
        // Tens of thousands of flows may be live at the end: every thread ends those of the shards it
        // owns, in parallel (the shards are independent), before the reader merges them.
        for (k, w) in workers.enumerated() {
            w.close(endingFlowsOf: (0..<shardCount).filter { Int(owner[$0]) == k + 1 }, clock: latest)
        }
        if !workers.isEmpty {
            for v in 0..<shardCount where owner[v] == 0 { shards[v]._withUnsafeGuaranteedRef { $0.analyzer.endFlows(clock: latest) } }
        }
        for w in workers { w.waitUntilFinished() }
        withExtendedLifetime(lagging) {}   // its buffers hold the records the workers read until here
        // The shards are handed over, not shared: finishing them then copies none of their arrays.
        output = FlowAnalyzer.finish(shards: shardBoxes.map { $0.take() }, clock: latest,
                                     timestampRegressions: regressions, evidenceTables: tables)
        var anomalies = output.anomalies
        for (k, v) in decoder.anomalies.nonZero { anomalies[k, default: 0] += v }
        for i in inputs { for (k, v) in i.anomalies { anomalies[k, default: 0] += v } }
        if let f = filter, f.uncompilableRecords > 0 { anomalies["filter_uncompilable_link_type", default: 0] += f.uncompilableRecords }
        let c = output.flowCounts
        // Open flows, sampled every second (every 2^k s in a run that touches more than 768 distinct
        // seconds): the same for any thread count, unlike the tables' occupancy (OpenFlowPeak).
        var counts: [(String, Int)] = [("flows", c.created), ("peak_live_flows", c.open.peak),
                                       ("peak_live_flows_sampled_every_s", Int(c.open.intervalSeconds))]
        for reason in FlowEndReason.allCases { counts.append(("flows_ended_" + reason.rawValue, c.ended[reason, default: 0])) }
        counts.append(("timestamp_regressions", c.timestampRegressions))
        let rows = options.perDay ? output.evidencePerDay : output.evidence
        let selected = options.infoHashes.isEmpty && options.subjects.isEmpty ? rows : rows.filter(options.selects)
        var run = AnalysisRun(inputs: inputs, evidence: selected, flows: output.flows,
                              counts: counts, anomalies: anomalies, fractionDigits: nanos ? 9 : 6)
        run.shardMoves = balancer.moves
        run.peakFlowsInTables = c.peakLive
        return run
    }

    /// A shard's options: the run's flow limit, on the sum of the shards' live flows (FlowBudget),
    /// not a share each: all flows between two addresses land in one shard.
    static func shardOptions(_ o: AnalyzerOptions, shards: Int) -> AnalyzerOptions {
        var s = o
        s.flowBudget = FlowBudget(limit: o.maxFlows, tables: shards)
        return s
    }

    /// Whether FlowAnalyzer.process passes the packet to its flow table (its guards), for the clock.
    static func reachesFlowTable(_ p: DecodedPacket) -> Bool {
        guard p.hasIP, !p.fragmentPending else { return false }
        if p.isTCP { return p.tcp != nil }
        return p.isUDP && p.stop?.layer != .udp
    }

    static func fileSize(_ path: String) -> Int64? {
        guard path != "-", let attrs = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return (attrs[.size] as? NSNumber)?.int64Value
    }

    /// The first record's timestamp, to order rotated files (cheap: stops after one record).
    static func firstTimestamp(_ path: String) -> Timestamp? {
        guard let r = try? CaptureReader(path: path) else { return nil }
        var t: Timestamp?
        _ = r.forEachRecord { rec in t = rec.timestamp; return false }
        return t
    }
}
