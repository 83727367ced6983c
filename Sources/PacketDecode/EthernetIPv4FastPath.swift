// The common frame in one pass: Ethernet II, then IPv4 that is not a fragment, then TCP or UDP with
// every header byte captured. Same output as the layered decoder (PacketDecoder.decodeLayered) for
// such frames, which the differential tests check on every frame of the corpus and on mutations of
// them; anything else (VLAN tags, options cut short, bad lengths, fragments, other protocols) returns
// false and goes through the layers, which name what is odd about it.
//
// Why: the layered decoder reads each field through optional, bounds-checked loads and builds a
// LinkParse and an IPv4Header on the way (460 instructions per packet in issue 6's callgrind count).
// Here one length check per header covers all its fields. Field layouts: IEEE 802.3 clause 3.1.1
// (Ethernet), RFC 791 section 3.1 (IPv4), RFC 9293 section 3.1 (TCP), RFC 768 (UDP).
import WireBytes

extension PacketDecoder {
    @inline(__always)
    /// Fills `p` (a new DecodedPacket) and returns true, or returns false: decode `frame` layer by layer.
    /// (An inout result, not an optional one: the optional was copied once more per packet.)
    static func decodeEthernetIPv4(_ frame: UnsafeRawBufferPointer, into p: inout DecodedPacket) -> Bool {
        let eth = Ethernet.headerLength
        guard frame.count >= eth + IPv4Header.minLength, let base = frame.baseAddress else { return false }
        @inline(__always) func u8(_ o: Int) -> UInt8 { base.load(fromByteOffset: o, as: UInt8.self) }
        @inline(__always) func u16(_ o: Int) -> UInt16 { UInt16(bigEndian: base.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
        @inline(__always) func u32(_ o: Int) -> UInt32 { UInt32(bigEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }

        guard u16(12) == EtherType.ipv4 else { return false }
        let vihl = u8(eth)
        let ihl = Int(vihl & 0x0f) * 4
        let ipCaptured = frame.count - eth
        guard vihl >> 4 == 4, ihl >= IPv4Header.minLength, ipCaptured >= ihl else { return false }
        let total = Int(u16(eth + 2))
        // Zero (segmentation offload) is counted by the layers; fragments are reassembled there.
        guard total >= ihl, u16(eth + 6) & 0x3fff == 0 else { return false }
        let proto = u8(eth + 9)
        let l4 = eth + ihl
        let announced = total - ihl
        let l4Captured = min(announced, ipCaptured - ihl)   // Ethernet padding beyond `total` is not data

        p.ipOffset = eth
        p.hasIP = true
        p.src = IPAddress(v4: u32(eth + 12))
        p.dst = IPAddress(v4: u32(eth + 16))
        p.ipProtocol = proto
        let headerLength: Int
        switch proto {
        case 6:
            guard l4Captured >= TCP.minHeaderLength else { return false }
            headerLength = Int(u8(l4 + 12) >> 4) * 4
            guard headerLength >= TCP.minHeaderLength, announced >= headerLength, l4Captured >= headerLength else { return false }
            p.tcp = TCPInfo(seq: u32(l4 + 4), ack: u32(l4 + 8), flags: TCPFlags(rawValue: u8(l4 + 13)),
                            window: u16(l4 + 14), headerLength: headerLength)
            p.payloadLength = announced - headerLength
        case 17:
            headerLength = UDP.headerLength
            guard l4Captured >= headerLength else { return false }
            let length = Int(u16(l4 + 4))
            // A length that disagrees with the IP datagram is an anomaly the layers count.
            guard length >= headerLength, length <= announced else { return false }
            p.payloadLength = length - headerLength
        default:
            return false
        }
        p.srcPort = u16(l4)
        p.dstPort = u16(l4 + 2)
        let present = min(p.payloadLength, l4Captured - headerLength)
        p.payload = UnsafeRawBufferPointer(start: base + l4 + headerLength, count: present)
        if present < p.payloadLength {
            p.stop = DecodeStop(layer: .payload, reason: .payloadCutBySnaplen, offset: l4 + headerLength)
        }
        return true
    }
}
