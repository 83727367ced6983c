// A decoded packet as the reader hands it to a worker (`--threads N`, ShardedAnalysis.swift): the
// DecodedPacket's fields in 80 bytes instead of 144. Every byte of a hand-off entry crosses from the
// reader's core to the worker's, and the reader writes the entry into a batch whose lines the worker
// read last time round: with two threads the hand-off was the reader's largest cost after the flow
// lookup (perf: 5% of the run's samples, issue 6). The worker rebuilds the DecodedPacket in its own
// cache. Every field survives the round trip (HandOffPacketTests, every frame of SampleCaptures).
// A common frame (Ethernet, IPv4 or IPv6, TCP or UDP: PacketDecoder.decodeCommonFrame) is handed over
// undecoded, as its bytes, and the worker decodes it: the reader only checks that it is one and
// reads its addresses for the shard.
import WireBytes
import PacketDecode
import FlowEvidence

struct HandOffPacket {
    private var srcHi: UInt64, srcLo: UInt64, dstHi: UInt64, dstLo: UInt64
    private var payloadBase: UnsafeRawPointer?
    private var payloadCount: UInt32
    private var payloadLength: UInt32
    private var seq: UInt32, ack: UInt32
    private var ipOffset: Int32
    private var stopOffset: Int32
    private var srcPort: UInt16, dstPort: UInt16
    private var window: UInt16, tcpHeaderLength: UInt16
    private var ipProtocol: UInt8, tcpFlags: UInt8
    /// DecodeLayer and DecodeStop.Reason are fieldless enums of fewer than 256 cases: one byte each,
    /// their case's index (checked for every case by the tests).
    private var stopLayer: UInt8, stopReason: UInt8
    private var bits: Bits

    private struct Bits: OptionSet {
        let rawValue: UInt16
        static let srcV6 = Bits(rawValue: 1), dstV6 = Bits(rawValue: 2), isIPv6 = Bits(rawValue: 4), hasIP = Bits(rawValue: 8)
        static let hasTCP = Bits(rawValue: 16), hasStop = Bits(rawValue: 32), fragmentPending = Bits(rawValue: 64)
        static let reassembled = Bits(rawValue: 128)
        /// Undecoded: `payloadBase` and `payloadCount` are the frame's bytes (`init(commonFrame:)`).
        static let commonFrame = Bits(rawValue: 256)
    }

    /// Whether `p`'s lengths and offsets fit in 32 bits: always, as they lie within a pcap or pcapng
    /// record (whose lengths are 32-bit fields) or an IP datagram; checked in debug builds (the tests).
    static func fits(_ p: DecodedPacket) -> Bool {
        p.payload.count <= Int(UInt32.max) && p.payloadLength >= 0 && p.payloadLength <= Int(UInt32.max)
            && Int32(exactly: p.ipOffset) != nil && Int32(exactly: p.stop?.offset ?? 0) != nil
            && (p.tcp?.headerLength ?? 0) >= 0 && (p.tcp?.headerLength ?? 0) <= Int(UInt16.max)
    }

    @inline(__always)
    init(_ p: DecodedPacket) {
        assert(Self.fits(p))
        srcHi = p.src.hi; srcLo = p.src.lo; dstHi = p.dst.hi; dstLo = p.dst.lo
        payloadBase = p.payload.baseAddress
        payloadCount = UInt32(truncatingIfNeeded: p.payload.count)
        payloadLength = UInt32(truncatingIfNeeded: p.payloadLength)
        ipOffset = Int32(truncatingIfNeeded: p.ipOffset)
        srcPort = p.srcPort; dstPort = p.dstPort; ipProtocol = p.ipProtocol
        var b: Bits = []
        if p.src.isV6 { b.insert(.srcV6) }
        if p.dst.isV6 { b.insert(.dstV6) }
        if p.isIPv6 { b.insert(.isIPv6) }
        if p.hasIP { b.insert(.hasIP) }
        if p.fragmentPending { b.insert(.fragmentPending) }
        if p.reassembled { b.insert(.reassembled) }
        if let t = p.tcp {
            b.insert(.hasTCP)
            seq = t.seq; ack = t.ack; tcpFlags = t.flags.rawValue; window = t.window
            tcpHeaderLength = UInt16(truncatingIfNeeded: t.headerLength)
        } else {
            seq = 0; ack = 0; tcpFlags = 0; window = 0; tcpHeaderLength = 0
        }
        if let s = p.stop {
            b.insert(.hasStop)
            stopLayer = unsafeBitCast(s.layer, to: UInt8.self)
            stopReason = unsafeBitCast(s.reason, to: UInt8.self)
            stopOffset = Int32(truncatingIfNeeded: s.offset)
        } else {
            stopLayer = 0; stopReason = 0; stopOffset = 0
        }
        bits = b
    }

    /// A frame `PacketDecoder.decodeCommonFrame` decodes, as its bytes (valid until the worker is done
    /// with it, as every payload handed over).
    @inline(__always)
    init(commonFrame frame: UnsafeRawBufferPointer) {
        srcHi = 0; srcLo = 0; dstHi = 0; dstLo = 0
        payloadBase = frame.baseAddress
        payloadCount = UInt32(truncatingIfNeeded: frame.count)
        payloadLength = 0; seq = 0; ack = 0; ipOffset = 0; stopOffset = 0
        srcPort = 0; dstPort = 0; window = 0; tcpHeaderLength = 0
        ipProtocol = 0; tcpFlags = 0; stopLayer = 0; stopReason = 0
        bits = .commonFrame
    }

    /// The frame's bytes, for a packet handed over undecoded.
    @inline(__always)
    private var commonFrame: UnsafeRawBufferPointer? {
        bits.contains(.commonFrame) ? UnsafeRawBufferPointer(start: payloadBase, count: Int(payloadCount)) : nil
    }

    @inline(__always)
    var decoded: DecodedPacket {
        var p = DecodedPacket()
        if let frame = commonFrame {
            // The reader checked that it is one (commonFrameEndpoints), and its bytes stay as they were.
            let decodes = PacketDecoder.decodeCommonFrame(frame, into: &p)
            precondition(decodes, "a frame handed over undecoded is not a common frame")
            return p
        }
        p.src = IPAddress(hi: srcHi, lo: srcLo, isV6: bits.contains(.srcV6))
        p.dst = IPAddress(hi: dstHi, lo: dstLo, isV6: bits.contains(.dstV6))
        p.isIPv6 = bits.contains(.isIPv6)
        p.hasIP = bits.contains(.hasIP)
        p.fragmentPending = bits.contains(.fragmentPending)
        p.reassembled = bits.contains(.reassembled)
        p.ipProtocol = ipProtocol
        p.srcPort = srcPort; p.dstPort = dstPort
        p.payload = UnsafeRawBufferPointer(start: payloadBase, count: Int(payloadCount))
        p.payloadLength = Int(payloadLength)
        p.ipOffset = Int(ipOffset)
        if bits.contains(.hasTCP) {
            p.tcp = TCPInfo(seq: seq, ack: ack, flags: TCPFlags(rawValue: tcpFlags), window: window, headerLength: Int(tcpHeaderLength))
        }
        if bits.contains(.hasStop) {
            p.stop = DecodeStop(layer: unsafeBitCast(stopLayer, to: DecodeLayer.self),
                                reason: unsafeBitCast(stopReason, to: DecodeStop.Reason.self), offset: Int(stopOffset))
        }
        return p
    }

    /// Asks for the bucket of the packet's flow in `analyzer`'s table (FlowTable.prefetchBucket) and
    /// returns its tag; nil for a packet that does not reach a flow table. Reads the fields a flow
    /// key needs, not the whole packet.
    @inline(__always)
    func prefetchBucket(in analyzer: inout FlowAnalyzer) -> UInt32? {
        if let frame = commonFrame { return analyzer.prefetchBucket(ethernetFrame: frame) }
        guard bits.contains(.hasIP), ipProtocol == 6 || ipProtocol == 17 else { return nil }
        return analyzer.prefetchBucket(src: IPAddress(hi: srcHi, lo: srcLo, isV6: bits.contains(.srcV6)), srcPort: srcPort,
                                       dst: IPAddress(hi: dstHi, lo: dstLo, isV6: bits.contains(.dstV6)), dstPort: dstPort,
                                       ipProtocol: ipProtocol)
    }

    /// Points the payload at `copy` (a reassembled datagram copied out of the decoder's buffer).
    mutating func setPayload(_ copy: UnsafeRawBufferPointer) {
        payloadBase = copy.baseAddress
        payloadCount = UInt32(truncatingIfNeeded: copy.count)
    }
}
