import Testing
import Foundation
import WireBytes
import CaptureFile
import PacketDecode
@testable import FlowEvidence

/// Heap allocations per packet, counted by a malloc interposer when one is preloaded:
///   gcc -shared -fPIC -O2 -o mcount.so mcount.c   (malloc/calloc/realloc increment a counter,
///   `long torscan_malloc_count(void)` reads it), then LD_PRELOAD=./mcount.so swift test --filter AllocationTests.
/// Without the interposer the test is skipped.
@Suite struct AllocationTests {
    typealias Counter = @convention(c) () -> Int
    static let counter: Counter? = {
        guard let sym = dlsym(nil, "torscan_malloc_count") else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(sym, to: Counter.self)
    }()

    struct Frame { var data: [UInt8]; var linkType: LinkType; var timestamp: Timestamp; var number: Int }

    static func frames(_ url: URL) throws -> [Frame] {
        var out: [Frame] = []
        _ = try CaptureReader(path: url.path).forEachRecord { r in
            out.append(Frame(data: Array(r.data), linkType: r.linkType, timestamp: r.timestamp, number: r.frameNumber)); return true
        }
        return out
    }

    /// A 3.2 MB piece transfer (BittorrentReconstituter_codemonkey2.pcap, 785 frames): after the flows
    /// exist and the first pieces arrived, the steady state allocates nothing per packet.
    @Test(.enabled(if: counter != nil && corpusDirectory() != nil, "needs LD_PRELOAD malloc counter and the corpus"))
    func steadyStateAllocatesNothingPerPacket() throws {
        let frames = try Self.frames(corpusDirectory()!.appendingPathComponent("bittorrent/BittorrentReconstituter_codemonkey2.pcap"))
        var analyzer = FlowAnalyzer()
        var decoder = PacketDecoder()
        let half = frames.count / 2
        func run(_ range: Range<Int>) -> Int {
            let before = Self.counter!()
            for i in range {
                frames[i].data.withUnsafeBytes { bytes in
                    let p = decoder.decode(bytes, linkType: frames[i].linkType, timestamp: frames[i].timestamp)
                    analyzer.process(record: FrameRef(captureIndex: 0, frame: frames[i].number), timestamp: frames[i].timestamp, packet: p)
                }
            }
            return Self.counter!() - before
        }
        if ProcessInfo.processInfo.environment["ALLOC_DECODE_ONLY"] != nil {
            let before = Self.counter!()
            for i in half..<frames.count {
                frames[i].data.withUnsafeBytes { bytes in _ = decoder.decode(bytes, linkType: frames[i].linkType, timestamp: frames[i].timestamp) }
            }
            print("ALLOC decode only:", Self.counter!() - before)
        }
        let first = run(0..<half)
        typealias Trace = @convention(c) (Int32) -> Void
        let trace = dlsym(nil, "torscan_malloc_trace").map { unsafeBitCast($0, to: Trace.self) }
        trace?(1)
        let second = run(half..<frames.count)
        trace?(0)
        print("ALLOC first half: \(first) mallocs / \(half) packets; second half: \(second) / \(frames.count - half)")
        #expect(Double(second) / Double(frames.count - half) < 0.1)
        _ = analyzer.finish()
    }
}
