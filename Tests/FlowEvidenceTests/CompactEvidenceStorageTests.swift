// What the evidence reports keep until the end of the run, kept small (issue 6: peak RSS must not grow
// with the capture's size): ChunkedArray (ended flows' leg records), CompactSet and SignalSet
// (evidence accumulators), and the runs that keep no flow rows (AnalyzerOptions.keepsAllFlowRows
// false: LegRow instead of FlowRow, no MSE corroboration, one evidence shape), which must give the
// same evidence as the runs that keep every row, on every sample capture, with one thread or several.
import Foundation
import Testing
import TorscanTestSupport
import WireBytes
import PacketDecode
@testable import FlowEvidence
import TorscanCore
import CaptureFile

@Suite struct CompactEvidenceStorageTests {
    // Random inputs come from SplitMix (TCPReassemblerTests.swift): a failure can be replayed.

    @Test func chunkedArrayIsAnArrayAcrossChunks() {
        let n = 3 * ChunkedArray<Int>.chunkSize + 5
        var a = ChunkedArray<Int>()
        for i in 0..<n { a.append(i * 7) }
        #expect(a.count == n && Array(a) == (0..<n).map { $0 * 7 })
        #expect(a[ChunkedArray<Int>.chunkSize - 1] == (ChunkedArray<Int>.chunkSize - 1) * 7 && a[ChunkedArray<Int>.chunkSize] == ChunkedArray<Int>.chunkSize * 7)
        a[n - 1] = -1
        #expect(a[n - 1] == -1 && a[n - 2] == (n - 2) * 7)
        // Appending a sequence continues the same chunks (FlowFinalizer.absorb).
        var b = ChunkedArray<Int>()
        b += [1, 2]
        b += a
        #expect(b.count == n + 2 && b[0] == 1 && b[2] == 0 && b[n + 1] == -1)
        #expect(ChunkedArray<Int>().isEmpty)
    }

    /// Against Set: small (sorted array) and large (Set) sizes, duplicates, any order, in order.
    @Test func compactSetIsASet() {
        var rng = SplitMix(state: 6)
        for size in [0, 1, 2, CompactSet<Int>.smallLimit, CompactSet<Int>.smallLimit + 1, 500] {
            for ordered in [false, true] {
                let values = (0..<size).map { i in ordered ? i * 3 : Int.random(in: 0..<(size * 2 + 1), using: &rng) }
                var c = CompactSet<Int>()
                var s = Set<Int>()
                for v in values + values.prefix(size / 2) { c.insert(v); s.insert(v) }
                #expect(c.count == s.count && c.isEmpty == s.isEmpty, "size \(size)")
                #expect(c.sorted() == s.sorted() && Set(c) == s, "size \(size)")
                #expect((-1...(size * 3 + 1)).allSatisfy { c.contains($0) == s.contains($0) }, "size \(size)")
                // Union with another set, across the small limit.
                var d = CompactSet<Int>()
                for v in 0..<(CompactSet<Int>.smallLimit / 2 + 3) { d.insert(v * 5) }
                var u = c
                u.formUnion(d)
                #expect(u.sorted() == s.union(d).sorted(), "size \(size)")
            }
        }
    }

    @Test func signalSetKeepsEverySignalApart() {
        let bits = Signal.allCases.map(SignalSet.bit)
        #expect(Set(bits).count == Signal.allCases.count && bits.allSatisfy { $0.nonzeroBitCount == 1 })
        // Every subset round-trips through the bits.
        for mask in 0..<(1 << Signal.allCases.count) {
            let subset = Set(Signal.allCases.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
            var s = SignalSet()
            for x in subset { s.insert(x) }
            #expect(s.set == subset)
        }
        var a = SignalSet(), b = SignalSet()
        a.insert(.handshake); b.insert(.lsd)
        a.formUnion(b)
        #expect(a.set == [.handshake, .lsd] && a.contains(.lsd) && !a.contains(.piece))
    }

    /// The supporting frames are the earliest `EvidenceLimits.supportingFrames` whatever the order of
    /// arrival, across captures (a frame reference packed in 8 bytes sorts by capture, then frame).
    @Test func framesStayTheEarliestAcrossCaptures() {
        var rng = SplitMix(state: 7)
        let all = (0..<40).map { FrameRef(captureIndex: $0 % 3, frame: 1 + $0 * 1_000_003) }
        for _ in 0..<5 {
            let acc = EvidenceAccumulator(timestamp: Timestamp(nanoseconds: 0))
            for f in all.shuffled(using: &rng) { acc.addFrame(f, peerWire: f.frame % 2 == 0) }
            #expect(acc.frames == Array(all.sorted().prefix(EvidenceLimits.supportingFrames)))
            #expect(acc.firstPeerWireFrame == all.filter { $0.frame % 2 == 0 }.min())
        }
    }

    static let captures: [URL] = TestPaths.files(under: TestPaths.sampleCaptures).filter {
        $0.pathExtension == "pcap" || $0.pathExtension == "pcapng"
    }

    /// The evidence reports' runs (no flow rows kept, one evidence shape) give the rows of a run that
    /// keeps everything: proxy legs are linked from LegRow as from FlowRow (attributed_to), on every
    /// sample capture (SampleCaptures/tunnels and socks5 link CONNECT, BIND and UDP ASSOCIATE legs).
    @Test func evidenceRunsGiveTheSameRowsWithoutFlowRows() throws {
        #expect(Self.captures.count > 20)
        var attributed = 0
        for url in Self.captures {
            let full = try analyze([url])
            var lean = AnalyzerOptions()
            lean.keepsAllFlowRows = false
            lean.evidenceShapes = .merged
            let merged = try analyze([url], options: lean)
            lean.evidenceShapes = .perDay
            let perDay = try analyze([url], options: lean)
            #expect(merged.evidence == full.evidence && merged.evidencePerDay.isEmpty && merged.flows.isEmpty, "\(url.lastPathComponent)")
            #expect(perDay.evidencePerDay == full.evidencePerDay && perDay.evidence.isEmpty, "\(url.lastPathComponent)")
            attributed += full.evidence.filter { !$0.attributedTo.isEmpty }.count
        }
        #expect(attributed >= 6)   // the linking is exercised (socks5, bind, relay, other exit, two clients)
    }

    /// The same through the pipeline with several threads (shards' leg records and evidence merged).
    @Test func evidenceRunsAgreeAcrossThreads() throws {
        var n = 0
        for url in Self.captures where url.path.contains("/tunnels/socks5") || url.path.contains("/socks5/") {
            n += 1
            var one = AnalysisOptions()
            one.threads = 1
            var lean = AnalysisOptions()
            lean.threads = 3
            lean.analyzer.keepsAllFlowRows = false
            let a = try Pipeline.analyze(paths: [url.path], options: one)
            let b = try Pipeline.analyze(paths: [url.path], options: lean)
            #expect(a.evidence == b.evidence && b.flows.isEmpty, "\(url.lastPathComponent)")
        }
        #expect(n >= 10)
    }
}

extension CompactEvidenceStorageTests {
    /// After `finish`, the table gives back its storage (more flows than its first capacity were
    /// live), keeps its counts, and works again: a new packet makes a new flow with the next id.
    @Test func flowTableReleasesItsStorageAfterFinish() {
        let t = FlowTable<Int>()
        var r = Recorder()
        let server = IPAddress("10.0.0.1")!
        func send(_ i: Int, at s: Int64) -> FlowPacket {
            t.packet(src: IPAddress(v4: 0x0A01_0000 | UInt32(i)), srcPort: 40000, dst: server, dstPort: 6881, ipProtocol: IPProtocolNumber.tcp,
                     tcpFlags: [.syn], payloadBytes: 0, timestamp: Timestamp(seconds: s, nanos: 0),
                     frame: FrameRef(captureIndex: 0, frame: i + 1), handler: &r)
        }
        for i in 0..<3000 { _ = send(i, at: 0) }
        t.releaseStorage()   // flows are live: nothing happens
        #expect(t.liveFlows == 3000)
        t.finish(handler: &r)
        t.releaseStorage()
        #expect(t.liveFlows == 0 && r.ended.count == 3000 && t.counts.created == 3000 && t.counts.peakLive == 3000)
        #expect(t.counts.ended[.endOfInput] == 3000)
        let p = send(5, at: 1)
        #expect(p.id == 3000 && p.packets == 1 && t.liveFlows == 1)
        #expect(send(5, at: 2).id == 3000)   // found again through the new index
        t.finish(handler: &r)
        #expect(r.ended.count == 3001 && t.counts.created == 3001)
    }

    /// Linking reads ProxyAttribution.legs by row, in place: row r's is the r-th (legEnded checks the order).
    @Test func legFactsAreFoundByRow() {
        var a = ChunkedArray<LegFacts>()
        for r in 0..<3 { a.append(LegFacts(flowID: 100 + r, isTCP: r != 1, sawSYN: r == 2, bytesFromSrc: Int64(r), bytesFromDst: 7)) }
        let byRow = LegFactsByRow(a)
        #expect(byRow[1]?.flowID == 101 && byRow[3] == nil && byRow[-1] == nil)
        #expect(byRow[0]!.isTCP && !byRow[0]!.sawSYN && !byRow[1]!.isTCP && byRow[2]!.sawSYN && byRow[2]!.bytesFromSrc == 2)
        // The largest flow id a flow can have, with both flags.
        let last = LegFacts(flowID: Flow<Void>.maxCount, isTCP: true, sawSYN: true, bytesFromSrc: 0, bytesFromDst: 0)
        #expect(last.flowID == Flow<Void>.maxCount && last.isTCP && last.sawSYN && MemoryLayout<LegFacts>.stride == 24)
    }

    /// LegRows keeps each row in 40 bytes and gives back its columns, IPv6 ends included, also after
    /// one shard's rows are appended to another's.
    @Test func legRowsGiveBackTheirColumns() {
        let v4 = IPAddress("10.77.0.1")!, v6 = IPAddress("2001:db8::1")!, v6b = IPAddress("2001:db8::2")!, v4b = IPAddress("255.255.255.255")!
        func leg(_ s: IPAddress, _ d: IPAddress, _ k: Int) -> LegRow {
            LegRow(srcIP: s, srcPort: UInt16(40000 + k), dstIP: d, dstPort: 1080, hasTunnel: k % 2 == 0,
                   firstSeen: Timestamp(nanoseconds: Int64(k) * 1_000_000_007), lastSeen: Timestamp(nanoseconds: Int64(k) * 2_000_000_011),
                   firstFrame: FrameRef(captureIndex: k % 3, frame: 123_456_789 + k))
        }
        let pairs = [(v4, v6), (v6, v4), (v4, v4b), (v6b, v6), (v4b, v4)]
        var a = LegRows(), b = LegRows()
        var expected: [LegRow] = []
        for (k, (s, d)) in pairs.enumerated() { a.append(leg(s, d, k)); expected.append(leg(s, d, k)) }
        for (k, (s, d)) in pairs.reversed().enumerated() { b.append(leg(s, d, 10 + k)) }
        a += b
        expected += pairs.reversed().enumerated().map { leg($1.0, $1.1, 10 + $0) }
        #expect(a.count == expected.count)
        for (i, e) in expected.enumerated() {
            let l = a[i]
            #expect(l.srcIP == e.srcIP && l.dstIP == e.dstIP && l.srcPort == e.srcPort && l.dstPort == e.dstPort && l.hasTunnel == e.hasTunnel)
            #expect(l.firstSeen == e.firstSeen && l.lastSeen == e.lastSeen && l.firstFrame == e.firstFrame)
        }
        #expect(MemoryLayout<LegRows.Packed>.stride == 40)
    }

    /// A leg record gives back the row's columns (IPv4 and IPv6 ends, either family on either side).
    @Test func legRowKeepsTheColumnsLinkingReads() {
        #expect(MemoryLayout<LegRow>.stride == 64)
        let v4 = IPAddress("10.77.0.1")!, v6 = IPAddress("2001:db8::1")!
        for (s, d) in [(v4, v6), (v6, v4), (v4, v4)] {
            for tunnel in [nil, "socks5"] {
                let row = FlowRow(proto: .tcp, srcIP: s, srcPort: 40000, dstIP: d, dstPort: 1080, firstSeen: Timestamp(nanoseconds: 5),
                                  lastSeen: Timestamp(nanoseconds: 9), packets: 3, bytes: 10, label: "other", infoHashes: [],
                                  tunnel: tunnel, firstFrame: FrameRef(captureIndex: 2, frame: 123_456_789))
                let l = LegRow(row)
                #expect(l.srcIP == s && l.dstIP == d && l.srcPort == 40000 && l.dstPort == 1080 && l.hasTunnel == (tunnel != nil))
                #expect(l.firstSeen == row.firstSeen && l.lastSeen == row.lastSeen && l.firstFrame == row.firstFrame)
            }
        }
    }

    /// The winner is the dictionary's (most votes, ties to the smallest name), across the small limit
    /// and through merges.
    @Test func voteCountsPickTheDictionarysWinner() {
        var rng = SplitMix(state: 8)
        let names = (0..<(VoteCounts.smallLimit * 2)).map { "client-\($0 % 7)-\($0)" }
        for distinct in [1, 2, VoteCounts.smallLimit, VoteCounts.smallLimit + 1, names.count] {
            var v = VoteCounts(), other = VoteCounts()
            var d: [String: Int] = [:]
            for _ in 0..<60 {
                let n = names[Int.random(in: 0..<distinct, using: &rng)]
                if Bool.random(using: &rng) { v.add(n) } else { other.add(n) }
                d[n, default: 0] += 1
            }
            v.add(other)
            let expected = d.min { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }?.key
            #expect(v.winner == expected && !v.isEmpty, "\(distinct) names")
        }
        var tie = VoteCounts()
        tie.add("b"); tie.add("a")
        #expect(tie.winner == "a" && VoteCounts().winner == nil && VoteCounts().isEmpty)
    }
}

/// Workers read their packets' bytes from the reader's buffers a few batches behind it; the reader
/// refills a buffer only once they are done with it (CaptureReader.laggingReaders). With 4 KB
/// buffers, SampleCaptures' files wrap the eight buffers hundreds of times: evidence and flow rows
/// must be what one thread with the default buffers gives.
@Suite struct ReusedReadBufferTests {
    /// SampleCaptures' uncompressed files (a compressed input makes the whole run use one thread),
    /// and what one thread with the default buffers gives for them as one run.
    static func samplesWithOneThreadRun() throws -> (samples: [String], run: AnalysisRun) {
        let samples = try CaptureInputs.expand([TestPaths.packageRoot.appendingPathComponent("SampleCaptures").path])
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
        var one = AnalysisOptions()
        one.threads = 1
        return (samples, try Pipeline.analyze(paths: samples, options: one))
    }

    @Test func workersReadingBehindTheReaderGetTheSameRows() throws {
        let (samples, a) = try Self.samplesWithOneThreadRun()
        #expect(samples.count >= 30)
        #expect(a.evidence.count > 10)
        for threads in [2, 3] {
            var small = AnalysisOptions()
            small.threads = threads
            small.readChunkSize = 4096
            let b = try Pipeline.analyze(paths: samples, options: small)
            let sameEvidence = a.evidence == b.evidence, sameFlows = a.flows == b.flows   // (not the rows in a failure)
            #expect(sameEvidence, "--threads \(threads)")
            #expect(sameFlows, "--threads \(threads)")
            #expect(a.inputs.map(\.packets) == b.inputs.map(\.packets))
        }
    }
}
