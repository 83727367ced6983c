import Testing
import Foundation
import WireBytes
import CaptureFile
import PacketDecode
import BitTorrentClassifier
@testable import FlowEvidence

/// Heap allocations per packet, counted by a malloc interposer when one is preloaded. mcount.c:
///   static long n; long torscan_malloc_count(void) { return n; }
///   extern void *__libc_malloc(unsigned long), *__libc_calloc(unsigned long, unsigned long), *__libc_realloc(void *, unsigned long);
///   void *malloc(unsigned long s) { n++; return __libc_malloc(s); }
///   void *calloc(unsigned long a, unsigned long b) { n++; return __libc_calloc(a, b); }
///   void *realloc(void *p, unsigned long s) { n++; return __libc_realloc(p, s); }
/// gcc -shared -fPIC -O2 -o /tmp/mcount.so mcount.c; swift build -c release -Xswiftc -enable-testing --build-tests;
/// LD_PRELOAD=/tmp/mcount.so swift test -c release -Xswiftc -enable-testing --skip-build --filter AllocationTests
/// Without the interposer the test is skipped, and in debug builds too: unspecialized standard-library
/// generics box values there (Set.insert, IndexingIterator.next), which release builds specialize away.
/// Measured with `swift test -c release -Xswiftc -enable-testing`: 13 mallocs over the last 393 packets
/// (new flows and new piece indexes), 74 over the first 392.
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
    static var isDebugBuild: Bool {
        #if DEBUG
        true
        #else
        false
        #endif
    }

    @Test(.enabled(if: counter != nil && !isDebugBuild && corpusDirectory() != nil, "needs a release build, LD_PRELOAD malloc counter and the corpus"))
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
        let first = run(0..<half)
        let second = run(half..<frames.count)
        print("ALLOC first half: \(first) mallocs / \(half) packets; second half: \(second) / \(frames.count - half)")
        #expect(Double(second) / Double(frames.count - half) < 0.1)
        _ = analyzer.finish()
    }
    /// Throughput of decode + FlowAnalyzer over the public BitTorrent captures held in memory
    /// (TORSCAN_PERF=1, release build). Prints packets per second; asserts nothing about speed.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TORSCAN_PERF"] != nil && corpusDirectory() != nil))
    func throughput() throws {
        let files = CorpusSweepTests.captures("bittorrent").compactMap { try? Self.frames($0) }.filter { !$0.isEmpty }
        let packets = files.reduce(0) { $0 + $1.count }
        let rounds = 20
        let clock = ContinuousClock()
        var rows = 0
        let elapsed = clock.measure {
            for _ in 0..<rounds {
                for frames in files {
                    var analyzer = FlowAnalyzer()
                    var decoder = PacketDecoder()
                    for f in frames {
                        f.data.withUnsafeBytes { bytes in
                            let p = decoder.decode(bytes, linkType: f.linkType, timestamp: f.timestamp)
                            analyzer.process(record: FrameRef(captureIndex: 0, frame: f.number), timestamp: f.timestamp, packet: p)
                        }
                    }
                    rows += analyzer.finish().evidence.count
                }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("PERF \(packets * rounds) packets in \(seconds) s: \(Int(Double(packets * rounds) / seconds)) packets/s (\(rows) rows)")
        #expect(rows > 0)
    }
    /// Heap bytes per live flow (TORSCAN_PERF=1): 100,000 TCP flows opened by a SYN with a 68-byte
    /// handshake each, and 100,000 UDP flows with one datagram, measured as resident memory growth (Linux).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TORSCAN_PERF"] != nil))
    func bytesPerFlow() {
        // Resident memory from /proc/self/statm (pages): coarse, but 100,000 flows move it by megabytes.
        func heap() -> Int {
            let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
            return fields.count > 1 ? (Int(fields[1]) ?? 0) * 4096 : 0
        }
        let handshake: [UInt8] = [0x13] + Array("BitTorrent protocol".utf8) + [UInt8](repeating: 0, count: 48)
        var alive: [FlowAnalyzer] = []   // kept until the end, so that freed memory is not reused
        for isTCP in [false, true] {
            var analyzer = FlowAnalyzer()
            let before = heap()
            let n = 100_000
            handshake.withUnsafeBytes { payload in
                for i in 0..<n {
                    var p = DecodedPacket()
                    p.hasIP = true
                    p.src = IPAddress(v4: 0x0A00_0000 | UInt32(i)); p.dst = IPAddress(v4: 0xC000_0201)
                    p.srcPort = 40000; p.dstPort = 6881
                    if isTCP {
                        p.ipProtocol = 6
                        p.tcp = TCPInfo(seq: 1000, ack: 0, flags: [.syn], window: 65535, headerLength: 20)
                        analyzer.process(record: FrameRef(captureIndex: 0, frame: 2 * i + 1), timestamp: Timestamp(seconds: 1, nanos: Int64(i)), packet: p)
                        p.tcp = TCPInfo(seq: 1001, ack: 1, flags: [.ack], window: 65535, headerLength: 20)
                    } else {
                        p.ipProtocol = 17
                    }
                    p.payload = payload; p.payloadLength = payload.count
                    analyzer.process(record: FrameRef(captureIndex: 0, frame: 2 * i + 2), timestamp: Timestamp(seconds: 1, nanos: Int64(i)), packet: p)
                }
            }
            let perFlow = (heap() - before) / n
            print("FLOWBYTES \(isTCP ? "tcp" : "udp"): \(perFlow) bytes of resident memory per live flow")
            print("FLOWBYTES sizes: stream \(MemoryLayout<TCPStreamClassifier>.size) reassembler \(MemoryLayout<TCPReassembler>.size) udp \(MemoryLayout<UDPFlowClassifier>.size) tunnel \(MemoryLayout<TunnelDetector>.size) mse \(MemoryLayout<MSEShapeDetector>.size)")
            #expect(perFlow > 0)
            alive.append(analyzer)
        }
    }
}
