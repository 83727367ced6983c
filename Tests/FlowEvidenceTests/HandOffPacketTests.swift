// The reader hands packets to workers packed (HandOffPacket.swift): every field of every decoded
// frame must come back as it went in.
import Testing
import Foundation
import TorscanTestSupport
import CaptureFile
import PacketDecode
@testable import TorscanCore

@Suite struct HandOffPacketTests {
    /// The fields FlowAnalyzer and its classifiers may read, as one comparable description.
    private func fields(_ p: DecodedPacket) -> String {
        let stop = p.stop.map { "\($0.layer.rawValue) \($0.reason.rawValue) \($0.offset)" } ?? "-"
        let tcp = p.tcp.map { "\($0.seq) \($0.ack) \($0.flags.rawValue) \($0.window) \($0.headerLength)" } ?? "-"
        return "\(stop)|\(p.isIPv6)|\(p.src.hi) \(p.src.lo) \(p.src.isV6)|\(p.dst.hi) \(p.dst.lo) \(p.dst.isV6)|\(p.hasIP)|"
            + "\(p.ipProtocol)|\(p.srcPort) \(p.dstPort)|\(tcp)|\(String(describing: p.payload.baseAddress)) \(p.payload.count)|"
            + "\(p.payloadLength)|\(p.fragmentPending) \(p.reassembled)|\(p.ipOffset)"
    }

    /// Every frame of `paths` (capture files; others are skipped) packed and unpacked; what they covered.
    /// Ethernet frames that the reader hands over undecoded (common frames: PacketDecoder.commonFrameEndpoints)
    /// are also packed that way: the worker's decoding gives the reader's packet, in the shard its
    /// addresses name, and the packet reaches a flow table (the run's clock counts it).
    private func roundTrip(_ paths: [String]) -> (frames: Int, stops: Set<String>, tcp: Int, v6: Int, reassembled: Int, common: Int) {
        var frames = 0, stops = Set<String>(), tcp = 0, v6 = 0, reassembled = 0, common = 0
        for path in paths {
            guard let reader = try? CaptureReader(path: path) else { continue }
            var decoder = PacketDecoder()
            _ = reader.forEachRecord { r in
                let p = decoder.decode(r.data, linkType: r.linkType, timestamp: r.timestamp)
                #expect(HandOffPacket.fits(p))
                let back = HandOffPacket(p).decoded
                #expect(fields(back) == fields(p), "\(path) frame \(r.frameNumber)")
                if r.linkType == .ethernet {
                    var q = DecodedPacket()
                    let isCommon = PacketDecoder.decodeCommonFrame(r.data, into: &q)
                    let ends = PacketDecoder.commonFrameEndpoints(r.data)
                    #expect((ends != nil) == isCommon, "\(path) frame \(r.frameNumber)")
                    if let ends {
                        common += 1
                        #expect(fields(HandOffPacket(commonFrame: r.data).decoded) == fields(p), "\(path) frame \(r.frameNumber)")
                        #expect(ends.src == p.src && ends.dst == p.dst, "\(path) frame \(r.frameNumber)")
                        #expect(shardIndex(src: ends.src, dst: ends.dst, workers: 16) == shardIndex(p, workers: 16))
                        #expect(Pipeline.reachesFlowTable(p), "\(path) frame \(r.frameNumber)")
                    }
                }
                frames += 1
                if let s = p.stop { stops.insert(s.layer.rawValue) }
                if p.tcp != nil { tcp += 1 }
                if p.isIPv6 { v6 += 1 }
                if p.reassembled { reassembled += 1 }
                return true
            }
        }
        return (frames, stops, tcp, v6, reassembled, common)
    }

    @Test func everyFrameOfTheSampleCapturesSurvivesTheRoundTrip() throws {
        let c = roundTrip(try CaptureInputs.expand([TestPaths.sampleCaptures.path]))
        // Link-layer and transport stops, TCP, IPv6.
        #expect(c.frames > 6000 && c.stops.count >= 2 && c.tcp > 1000 && c.v6 > 100)
        #expect(c.common > 5000 && c.common < c.frames)
    }

    @Test(.enabled(if: TestPaths.publicCorpus != nil, "skipped: ../shared/corpus/public is absent"))
    func everyFrameOfThePublicCorpusSurvivesTheRoundTrip() throws {
        let c = roundTrip(TestPaths.files(under: try #require(TestPaths.publicCorpus)).map(\.path))
        // More stops, and datagrams reassembled from IP fragments (their payload is elsewhere).
        #expect(c.frames > 10_000)
        #expect(c.stops.count >= 4)
        #expect(c.reassembled > 0)
        #expect(c.common > 5000 && c.common < c.frames)
    }

    @Test func everyStopLayerAndReasonSurvivesTheRoundTrip() {
        for layer in DecodeLayer.allCases {
            for reason in DecodeStop.Reason.allCases {
                var p = DecodedPacket()
                p.stop = DecodeStop(layer: layer, reason: reason, offset: 1514)
                #expect(fields(HandOffPacket(p).decoded) == fields(p))
            }
        }
        #expect(MemoryLayout<HandOffPacket>.stride == 80)
    }

    @Test func extremeValuesSurviveTheRoundTrip() {
        var p = DecodedPacket()
        p.src = IPAddress(hi: .max, lo: .max, isV6: true)
        p.dst = IPAddress(hi: 1, lo: 2, isV6: false)
        p.hasIP = true; p.isIPv6 = true; p.fragmentPending = true; p.reassembled = true
        p.ipProtocol = 255; p.srcPort = .max; p.dstPort = 0
        p.tcp = TCPInfo(seq: .max, ack: 0, flags: TCPFlags(rawValue: 0xFF), window: .max, headerLength: 60)
        p.payloadLength = Int(UInt32.max)
        p.ipOffset = -1
        #expect(HandOffPacket.fits(p))
        #expect(fields(HandOffPacket(p).decoded) == fields(p))
        p.ipOffset = Int(Int32.max) + 1
        #expect(!HandOffPacket.fits(p))
    }
}
