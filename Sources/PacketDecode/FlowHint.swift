// The flow a frame belongs to, read straight from its bytes, for a prefetch some packets ahead
// (issue 6): the flow table asks the memory system for that flow's index bucket and record before
// the packet is decoded, so that its lookup does not wait for them. Only the common frame: Ethernet
// II, then IPv4 that is not a fragment (or IPv6 without extension headers), then TCP or UDP ports.
// Anything else has no hint and is not prefetched. A hint is never trusted: the decoder still decodes
// the frame, and a wrong hint only fetches a line for nothing. Offsets as in CommonFrameFastPath
// (IEEE 802.3 clause 3.1.1, RFC 791 section 3.1, RFC 8200 section 3, RFC 9293 section 3.1, RFC 768);
// written as literals, as this is inlined into the flow table's module.
import WireBytes

/// An IPv4 TCP or UDP packet's addresses and ports, as sent (not in a flow key's order).
@frozen public struct FlowHint {
    public var src: UInt32
    public var dst: UInt32
    public var srcPort: UInt16
    public var dstPort: UInt16
    public var ipProtocol: UInt8

    @inlinable init(src: UInt32, dst: UInt32, srcPort: UInt16, dstPort: UInt16, ipProtocol: UInt8) {
        self.src = src; self.dst = dst; self.srcPort = srcPort; self.dstPort = dstPort; self.ipProtocol = ipProtocol
    }

    /// The hint for an Ethernet frame carrying IPv4, or nil. Inlinable: one per packet (issue 6).
    @inlinable @inline(__always)
    public static func ethernetIPv4(_ frame: UnsafeRawBufferPointer) -> FlowHint? {
        // Ethernet (14) + IPv4 (at least 20) + both ports (4).
        guard frame.count >= 38, let base = frame.baseAddress, base.uncheckedU16be(at: 12) == 0x0800 else { return nil }
        let vihl = base.load(fromByteOffset: 14, as: UInt8.self)
        let l4 = 14 + Int(vihl & 0x0f) * 4
        let proto = base.load(fromByteOffset: 23, as: UInt8.self)
        // Not a fragment, and the IP length covers the ports (else the decoder finds none).
        guard vihl >> 4 == 4, vihl & 0x0f >= 5, frame.count >= l4 + 4, proto == 6 || proto == 17,
              base.uncheckedU16be(at: 20) & 0x3fff == 0, Int(base.uncheckedU16be(at: 16)) >= l4 - 14 + 4 else { return nil }
        return FlowHint(src: base.uncheckedU32be(at: 26), dst: base.uncheckedU32be(at: 30),
                        srcPort: base.uncheckedU16be(at: l4), dstPort: base.uncheckedU16be(at: l4 + 2), ipProtocol: proto)
    }

    /// The addresses and ports, as sent, of an Ethernet frame carrying IPv6 with TCP or UDP right
    /// after the fixed header, or nil.
    public static func ethernetIPv6(_ frame: UnsafeRawBufferPointer)
        -> (src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16, ipProtocol: UInt8)? {
        // Ethernet (14) + IPv6 (40) + both ports (4).
        guard frame.count >= 58, let base = frame.baseAddress, base.uncheckedU16be(at: 12) == 0x86DD,
              base.load(fromByteOffset: 14, as: UInt8.self) >> 4 == 6 else { return nil }
        let proto = base.load(fromByteOffset: 20, as: UInt8.self)
        guard proto == 6 || proto == 17, base.uncheckedU16be(at: 18) >= 4 else { return nil }
        return (IPAddress(v6hi: base.uncheckedU64be(at: 22), v6lo: base.uncheckedU64be(at: 30)), base.uncheckedU16be(at: 54),
                IPAddress(v6hi: base.uncheckedU64be(at: 38), v6lo: base.uncheckedU64be(at: 46)), base.uncheckedU16be(at: 56), proto)
    }
}
