// What a run of the main job was asked to do. Recorded in the JSON report's run object, so a
// report says exactly how it was produced.
import Foundation
import WireBytes
import BitTorrentClassifier
import FlowEvidence

public struct AnalysisOptions: Sendable {
    /// One row per (ip, infohash, UTC day) instead of per (ip, infohash).
    public var perDay = false
    /// A BPF expression applied to every frame (libpcap's pcap_offline_filter).
    public var filter: String?
    /// Only these works (empty: all). Matched on the 20-byte wire form, so a full v2 hash also selects its truncation.
    public var infoHashes: Set<InfoHash> = []
    public var since: Timestamp?
    public var until: Timestamp?
    /// Only these addresses become subjects of evidence rows (empty: all).
    public var subjects: [CIDR] = []
    /// Flow-table limits and idle timeouts.
    public var analyzer = AnalyzerOptions()
    /// Analysis threads (flows spread by a symmetric hash; ShardedAnalysis.swift). 1: the caller's
    /// thread only. Default: the CPUs this process may use (UsableCPUs); reports are the same for any N.
    public var threads = UsableCPUs.count
    /// Bytes per read buffer of a regular file (CaptureReader.readChunkSize); nil: its default.
    /// Tests make it small, so that workers read records from buffers the reader reuses.
    public var readChunkSize: Int?
    /// Tests: move a shard to another thread every this many packets (ShardBalancer.forceMove)
    /// instead of when loads ask for it, to check that moves do not change reports. nil: by load.
    public var shardMoveInterval: Int?
    /// Tests, with `shardMoveInterval`: only the reader's shards move, to the workers, until it has
    /// none (the evidence its thread kept is then in a table no shard points to).
    public var shardMovesLeaveTheReader = false

    public init() {}

    public func selects(_ row: EvidenceRow) -> Bool {
        if !infoHashes.isEmpty, !infoHashes.contains(row.infoHash), !infoHashes.contains(row.infoHash.truncated) { return false }
        if !subjects.isEmpty, !subjects.contains(where: { $0.contains(row.ip) }) { return false }
        return true
    }

    public func inTimeRange(_ t: Timestamp) -> Bool {
        if let s = since, t < s { return false }
        if let u = until, t > u { return false }
        return true
    }
}
