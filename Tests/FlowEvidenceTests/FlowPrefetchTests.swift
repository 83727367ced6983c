// Prefetching the flow lookup (issue 6, FlowTable.prefetchBucket / prefetchRecord): step one asks
// for the bucket the lookup of the same packet starts from, and step two for that flow's record.
// Checked on every Ethernet frame of SampleCaptures, fed through a table: a prefetch that named
// another bucket or record would cost time, never results, so only these tests would notice.
import Foundation
import Testing
import WireBytes
import PacketDecode
import CaptureFile
import TorscanTestSupport
@testable import FlowEvidence

@Suite struct FlowPrefetchTests {
    /// Every TCP or UDP Ethernet frame of SampleCaptures' capture.pcap files, decoded.
    static func frames() throws -> [(bytes: [UInt8], key: FlowKey, packet: DecodedPacket)] {
        var out: [(bytes: [UInt8], key: FlowKey, packet: DecodedPacket)] = []
        for file in TestPaths.files(under: TestPaths.sampleCaptures) where file.lastPathComponent == "capture.pcap" {
            let reader = try CaptureReader(path: file.path)
            var decoder = PacketDecoder()
            _ = reader.forEachRecord { r in
                guard r.linkType == .ethernet else { return true }
                let p = decoder.decode(r.data, linkType: r.linkType, timestamp: r.timestamp)
                if p.hasIP, !p.fragmentPending, !p.reassembled, p.ipProtocol == 6 || p.ipProtocol == 17 {
                    var q = p
                    q.payload = UnsafeRawBufferPointer(start: nil, count: 0)   // (the record's bytes are not kept)
                    out.append(([UInt8](r.data), FlowKey.canonical(p).key, q))
                }
                return true
            }
        }
        return out
    }

    @Test func bothStepsAskForWhatTheLookupReads() throws {
        let frames = try Self.frames()
        #expect(frames.count > 4_000)
        let table = FlowTable<Int>()
        var recorder = Recorder()
        var hinted = 0, recordsNamed = 0
        for (i, f) in frames.enumerated() {
            let fromBytes = f.bytes.withUnsafeBytes { table.prefetchBucket(ethernetFrame: $0) }
            let fromPacket = table.prefetchBucket(src: f.packet.src, srcPort: f.packet.srcPort, dst: f.packet.dst, dstPort: f.packet.dstPort,
                                                  ipProtocol: f.packet.ipProtocol)
            let lookup = table.lookupTag(f.key)
            #expect(fromPacket == lookup, "frame \(i): a decoded packet's tag")
            if let t = fromBytes {
                hinted += 1
                #expect(t == lookup, "frame \(i): the hint's tag \(t), the lookup's \(lookup)")
            }
            // Step two names the flow's record when the flow is live (its bucket is its home or the next).
            if let live = table.slot(of: f.key), let named = table.prefetchedSlot(tag: lookup) {
                recordsNamed += 1
                #expect(named == live, "frame \(i): step two names slot \(named), the flow is in \(live)")
            }
            _ = table.packet(f.packet, payloadBytes: 0, timestamp: Timestamp(nanoseconds: Int64(i) * 1_000),
                             frame: FrameRef(captureIndex: 0, frame: i + 1), handler: &recorder)
        }
        #expect(hinted > frames.count * 9 / 10, "\(hinted) of \(frames.count) frames hinted")
        #expect(recordsNamed > frames.count / 2, "\(recordsNamed) of \(frames.count) records named")
    }

    /// likelySlot: an entry in its home bucket or the next is found, another tag's never is.
    @Test func likelySlotLooksAtTheHomeBucketAndTheNext() {
        var index = FlowIndex(expected: 4_096)
        var rng = SplitMix(state: 3)
        var tags: [UInt32: Int] = [:]
        for slot in 0..<3_000 {
            let tag = UInt32(truncatingIfNeeded: rng.next())
            guard tags[tag] == nil else { continue }
            tags[tag] = slot
            index.insert(tag: tag, slot: slot)
        }
        var found = 0
        for (tag, slot) in tags {
            if let s = index.likelySlot(tag: tag) { #expect(s == slot); found += 1 }
            #expect(index.find(tag: tag) { $0 == slot } == slot)
        }
        // At a load of at most 1/2, most entries sit in their home bucket or the next.
        #expect(found > tags.count * 8 / 10, "\(found) of \(tags.count)")
        for _ in 0..<3_000 {
            let tag = UInt32(truncatingIfNeeded: rng.next())
            if tags[tag] == nil { #expect(index.likelySlot(tag: tag) == nil) }
        }
    }

    /// The IPv4 hash a hint uses is the key's hash.
    @Test func theIPv4HashIsTheKeysHash() {
        let index = FlowIndex()
        var rng = SplitMix(state: 5)
        for _ in 0..<10_000 {
            let a = UInt32(truncatingIfNeeded: rng.next()), b = UInt32(truncatingIfNeeded: rng.next())
            let ap = UInt16(truncatingIfNeeded: rng.next()), bp = UInt16(truncatingIfNeeded: rng.next())
            let proto: UInt8 = rng.next() & 1 == 0 ? 6 : 17
            let key = FlowKey(a: IPAddress(v4: a), aPort: ap, b: IPAddress(v4: b), bPort: bp, proto: proto)
            #expect(index.hashIPv4(a: a, aPort: ap, b: b, bPort: bp, proto: proto) == index.hash(key))
        }
    }
}
