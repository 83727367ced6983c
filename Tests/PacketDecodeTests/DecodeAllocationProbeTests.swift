// One decoder reused for thousands of frames (the pipeline's pattern) keeps giving the same answers.
// The allocation proof itself is Scripts/decode-alloc-check.sh (valgrind malloc counts for 1k vs 100k frames);
// TORSCAN_DECODE_FRAMES sets the frame count here.
import Foundation
import Testing
import PacketDecode
import TorscanTestSupport
import WireBytes

@Suite struct DecodeAllocationProbeTests {
    @Test func decodeManyFramesWithOneDecoder() {
        let n = Int(ProcessInfo.processInfo.environment["TORSCAN_DECODE_FRAMES"] ?? "") ?? 5_000
        let frames = Vectors.positives.map { (hexBytes($0.hex), $0.linkType) }
        var d = PacketDecoder()
        var ports = 0, payloadBytes = 0
        let pointers = frames.map { f -> (UnsafeMutableRawBufferPointer, LinkType) in
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: f.0.count, alignment: 8)
            b.copyBytes(from: f.0)
            return (b, f.1)
        }
        defer { pointers.forEach { $0.0.deallocate() } }
        for i in 0..<n {
            let (b, lt) = pointers[i % pointers.count]
            let p = d.decode(UnsafeRawBufferPointer(b), linkType: lt, timestamp: Timestamp(nanoseconds: Int64(i)))
            ports &+= Int(p.srcPort)
            payloadBytes &+= p.payload.count
        }
        let perRound = Vectors.positives.reduce(0) { acc, v in
            var e = PacketDecoder()
            return acc + Int(e.decode(hex: v.hex, linkType: v.linkType).0.srcPort)
        }
        #expect(n % pointers.count != 0 || ports == perRound * (n / pointers.count))
        #expect(d.anomalies.total == 0 && payloadBytes > 0)
    }
}
