// Entry point shared by the FuzzDecode libFuzzer target (Fuzz/, built with -sanitize=fuzzer) and by
// FuzzReplayTests, which replays Fuzz/Corpus and Fuzz/FailCases in a plain `swift test`.
//
// Input layout: byte 0 picks the link type (`fuzzLinkTypes[byte % count]`); the rest is a sequence of
// frames, each a 2-byte big-endian length then that many bytes (the last frame takes what is left).
// Frames are decoded by one decoder, 7 s of capture time apart, with small reassembly limits so that
// eviction and timeouts are reached. Invariants that must hold for any input are checked with
// `precondition`, so a violation is a crash the fuzzer reports.
import PacketDecode
import WireBytes

public let fuzzLinkTypes: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .rawDLT12, .rawDLT14, .ipv4, .ipv6, LinkType(147)]

/// Reassembly limits small enough for the fuzzer to hit every bound.
public let fuzzDecoderLimits = DecoderLimits(maxVLANTags: 3, maxMPLSLabels: 3, maxIPv6ExtensionHeaders: 4, maxConcurrentDatagrams: 4,
                                             maxDatagramSize: 65_535, maxFragmentsPerDatagram: 16,
                                             fragmentTimeoutNanoseconds: 60 * 1_000_000_000)

/// Decodes every frame of a fuzz input and checks the decoder's invariants. Returns the number of frames decoded.
@discardableResult
public func decodeFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard let selector = bytes.u8(at: 0) else { return 0 }
    let linkType = fuzzLinkTypes[Int(selector) % fuzzLinkTypes.count]
    var decoder = PacketDecoder(limits: fuzzDecoderLimits)
    var cursor = ByteCursor(bytes, offset: 1)
    var frames = 0
    while !cursor.isAtEnd {
        // A lone trailing byte has no length field: it is a 1-byte frame (every pass must consume bytes).
        let declared = cursor.u16be().map(Int.init) ?? cursor.remaining
        let frame = cursor.take(declared) ?? cursor.take(cursor.remaining)!
        let p = decoder.decode(frame, linkType: linkType, timestamp: Timestamp(seconds: Int64(frames) * 7, nanos: 0))
        checkInvariants(p, frame: frame)
        frames += 1
    }
    precondition(decoder.pendingDatagrams <= fuzzDecoderLimits.maxConcurrentDatagrams)
    return frames
}

func checkInvariants(_ p: DecodedPacket, frame: UnsafeRawBufferPointer) {
    precondition(p.payload.count >= 0 && p.payloadLength >= 0)
    precondition(p.payload.count <= p.payloadLength, "payload longer than its length fields")
    if p.stop == nil && p.hasIP && !p.fragmentPending {
        precondition(p.payload.count == p.payloadLength, "complete packet with missing payload bytes")
    }
    if !p.reassembled, p.payload.count > 0, let base = frame.baseAddress, let start = p.payload.baseAddress {
        precondition(start >= base && start + p.payload.count <= base + frame.count, "payload outside the frame")
    }
    if p.srcPort != 0 || p.dstPort != 0 || p.tcp != nil { precondition(p.hasIP && (p.ipProtocol == 6 || p.ipProtocol == 17)) }
    if let tcp = p.tcp { precondition(tcp.headerLength >= 20 && tcp.headerLength <= 60) }
    if p.fragmentPending { precondition(p.hasIP && p.stop == nil && p.payload.isEmpty) }
    if p.hasIP { precondition(p.ipOffset >= 0 && p.ipOffset <= frame.count) }
}
