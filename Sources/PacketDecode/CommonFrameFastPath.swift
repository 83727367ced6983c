// The common frame in one pass: Ethernet II, then IPv4 that is not a fragment or IPv6 without
// extension headers, then TCP or UDP with every header byte captured. Same output as the layered
// decoder (PacketDecoder.decodeLayered) for such frames, which the differential tests check on every
// frame of the corpus and on mutations of real frames; anything else (VLAN tags, IP options cut
// short, bad lengths, fragments, extension headers, other protocols) returns false and goes through
// the layers, which name what is odd about it.
//
// Why: the layered decoder reads each field through optional, bounds-checked loads and builds a
// LinkParse and an IPv4Header on the way (460 instructions per packet in issue 6's callgrind count).
// Here one length check per header covers all its fields. Field layouts: IEEE 802.3 clause 3.1.1
// (Ethernet), RFC 791 section 3.1 (IPv4), RFC 8200 section 3 (IPv6), RFC 9293 section 3.1 (TCP),
// RFC 768 (UDP).
import WireBytes

extension PacketDecoder {
    /// Fills `p` (a new DecodedPacket) and returns true, or returns false: decode `frame` layer by layer.
    /// (An inout result, not an optional one: the optional was copied once more per packet.)
    /// Uses no decoder state: for such a frame, `decode` returns exactly this packet.
    public static func decodeCommonFrame(_ frame: UnsafeRawBufferPointer, into p: inout DecodedPacket) -> Bool {
        decodeCommonIPv4(frame, into: &p) || decodeCommonIPv6(frame, into: &p)
    }

    /// The addresses of an Ethernet frame that `decodeCommonFrame` decodes, nil for any other frame:
    /// the same checks, without building the packet (the unused fields' stores are optimised away
    /// for IPv4). With threads, the reader hands such a frame to the worker that owns its flow
    /// undecoded, and the worker decodes it (issue 6: decoding and handing out every packet bounded
    /// the reader).
    public static func commonFrameEndpoints(_ frame: UnsafeRawBufferPointer) -> (src: IPAddress, dst: IPAddress)? {
        var p = DecodedPacket()
        if decodeCommonIPv4(frame, into: &p) { return (p.src, p.dst) }
        var q = DecodedPacket()
        if decodeCommonIPv6(frame, into: &q) { return (q.src, q.dst) }
        return nil
    }

    /// The IPv4 half of `decodeCommonFrame`. Inlined into `decode`, so that the packet is built where
    /// it is returned: passing it to a function that is not inlined made a 144-byte copy per packet.
    @inline(__always)
    static func decodeCommonIPv4(_ frame: UnsafeRawBufferPointer, into p: inout DecodedPacket) -> Bool {
        let eth = Ethernet.headerLength
        guard frame.count >= eth + IPv4Header.minLength, let base = frame.baseAddress,
              base.uncheckedU16be(at: 12) == EtherType.ipv4 else { return false }
        let vihl = base.load(fromByteOffset: eth, as: UInt8.self)
        let ihl = Int(vihl & 0x0f) * 4
        let ipCaptured = frame.count - eth
        guard vihl >> 4 == 4, ihl >= IPv4Header.minLength, ipCaptured >= ihl else { return false }
        let total = Int(base.uncheckedU16be(at: eth + 2))
        // Zero (segmentation offload) is counted by the layers; fragments are reassembled there.
        guard total >= ihl, base.uncheckedU16be(at: eth + 6) & 0x3fff == 0 else { return false }
        p.src = IPAddress(v4: base.uncheckedU32be(at: eth + 12))
        p.dst = IPAddress(v4: base.uncheckedU32be(at: eth + 16))
        return transport(base, l4: eth + ihl, announced: total - ihl, captured: ipCaptured - ihl,
                         proto: base.load(fromByteOffset: eth + 9, as: UInt8.self), into: &p)
    }

    /// The IPv6 half: TCP or UDP right after the fixed header (extension headers and fragments take
    /// the layers).
    @inline(never)
    static func decodeCommonIPv6(_ frame: UnsafeRawBufferPointer, into p: inout DecodedPacket) -> Bool {
        let eth = Ethernet.headerLength
        guard frame.count >= eth + IPv6Header.length, let base = frame.baseAddress,
              base.uncheckedU16be(at: 12) == EtherType.ipv6,
              base.load(fromByteOffset: eth, as: UInt8.self) >> 4 == 6 else { return false }
        let proto = base.load(fromByteOffset: eth + 6, as: UInt8.self)
        guard proto == 6 || proto == 17 else { return false }
        p.src = IPAddress(v6hi: base.uncheckedU64be(at: eth + 8), v6lo: base.uncheckedU64be(at: eth + 16))
        p.dst = IPAddress(v6hi: base.uncheckedU64be(at: eth + 24), v6lo: base.uncheckedU64be(at: eth + 32))
        p.isIPv6 = true
        return transport(base, l4: eth + IPv6Header.length, announced: Int(base.uncheckedU16be(at: eth + 4)),
                         captured: frame.count - eth - IPv6Header.length, proto: proto, into: &p)
    }

    /// The TCP or UDP header at `l4`: `announced` bytes per the IP header, `captured` present from `l4` on.
    @inline(__always)
    private static func transport(_ base: UnsafeRawPointer, l4: Int, announced: Int, captured: Int, proto: UInt8,
                                  into p: inout DecodedPacket) -> Bool {
        let l4Captured = min(announced, captured)   // Ethernet padding beyond the datagram is not data
        let headerLength: Int
        switch proto {
        case 6:
            guard l4Captured >= TCP.minHeaderLength else { return false }
            headerLength = Int(base.load(fromByteOffset: l4 + 12, as: UInt8.self) >> 4) * 4
            guard headerLength >= TCP.minHeaderLength, announced >= headerLength, l4Captured >= headerLength else { return false }
            p.tcp = TCPInfo(seq: base.uncheckedU32be(at: l4 + 4), ack: base.uncheckedU32be(at: l4 + 8), flags: TCPFlags(rawValue: base.load(fromByteOffset: l4 + 13, as: UInt8.self)),
                            window: base.uncheckedU16be(at: l4 + 14), headerLength: headerLength)
            p.payloadLength = announced - headerLength
        case 17:
            headerLength = UDP.headerLength
            guard l4Captured >= headerLength else { return false }
            let length = Int(base.uncheckedU16be(at: l4 + 4))
            // A length that disagrees with the IP datagram is an anomaly the layers count (and 0, an
            // IPv6 jumbogram's, they read as the IP length).
            guard length >= headerLength, length <= announced else { return false }
            p.payloadLength = length - headerLength
        default:
            return false
        }
        p.ipOffset = Ethernet.headerLength
        p.hasIP = true
        p.ipProtocol = proto
        p.srcPort = base.uncheckedU16be(at: l4)
        p.dstPort = base.uncheckedU16be(at: l4 + 2)
        let present = min(p.payloadLength, l4Captured - headerLength)
        p.payload = UnsafeRawBufferPointer(start: base + l4 + headerLength, count: present)
        if present < p.payloadLength {
            p.stop = DecodeStop(layer: .payload, reason: .payloadCutBySnaplen, offset: l4 + headerLength)
        }
        return true
    }
}
