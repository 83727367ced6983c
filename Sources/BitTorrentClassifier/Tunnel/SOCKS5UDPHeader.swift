// The header a SOCKS5 UDP relay puts in front of every datagram: RFC 1928 §7.
//
// "A UDP-based client MUST send its datagrams to the UDP relay server at the UDP port indicated by
// BND.PORT in the reply to the UDP ASSOCIATE request. ... Each UDP datagram carries a UDP request
// header with it: RSV(2)=X'0000' FRAG(1) ATYP(1) DST.ADDR(variable) DST.PORT(2) DATA(variable)".
// "FRAG Current fragment number"; "The FRAG field indicates whether or not this datagram is one of
// a number of fragments. If implemented, the high-order bit indicates end-of-fragment sequence,
// while a value of X'00' indicates that this datagram is standalone. Values between 1 and 127
// indicate the fragment position within a fragment sequence."
// "Implementation of fragmentation is optional; an implementation that does not support
// fragmentation MUST drop any datagram whose FRAG field is other than X'00'."
//
// Wiring: once a TunnelDetector reports `.open` with command `.udpAssociate`, datagrams between the
// client's address and `boundAddress:boundPort` (the relay; BND.ADDR 0.0.0.0 means "the proxy's own
// address") are parsed here in both directions (replies carry the remote sender in DST.ADDR/PORT)
// and `datagram[payloadOffset...]` goes to the UDP classifier as if sent to/from `target:port`.
// Fragments are parsed and reported (`fragment`, `isLastFragment`) but not reassembled: RFC 1928
// lets relays drop them, common relays (Dante, microsocks, 3proxy) do, and BitTorrent's datagrams
// (DHT, uTP, UDP trackers) fit one packet. The flow layer should count them as an anomaly.

import WireBytes

public struct SOCKS5UDPHeader: Hashable, Sendable {
    /// FRAG: 0 for a standalone datagram, else the position (low 7 bits) within a sequence.
    public var frag: UInt8
    public var target: TunnelTarget
    public var port: UInt16
    /// Where DATA starts in the datagram.
    public var payloadOffset: Int

    public var isFragment: Bool { frag != 0 }
    public var fragmentPosition: UInt8 { frag & 0x7F }
    /// "the high-order bit indicates end-of-fragment sequence".
    public var isLastFragment: Bool { frag & 0x80 != 0 }

    /// Nil when the datagram is not a well-formed SOCKS5 UDP request header (RSV must be zero,
    /// ATYP 1, 3 or 4, the address and port present). DATA may be empty.
    public static func parse(_ datagram: UnsafeRawBufferPointer) -> SOCKS5UDPHeader? {
        guard let rsv = datagram.u16be(at: 0), rsv == 0, let frag = datagram.u8(at: 2) else { return nil }
        guard case .done(let a, let n) = SOCKS5.address(datagram, at: 3) else { return nil }
        return SOCKS5UDPHeader(frag: frag, target: a.target, port: a.port, payloadOffset: 3 + n)
    }

    public init(frag: UInt8, target: TunnelTarget, port: UInt16, payloadOffset: Int) {
        self.frag = frag; self.target = target; self.port = port; self.payloadOffset = payloadOffset
    }
}
