// SOCKS5 UDP ASSOCIATE (RFC 1928 section 7): "A UDP-based client MUST send its datagrams to the UDP
// relay server at the UDP port indicated by BND.PORT in the reply to the UDP ASSOCIATE request";
// "Each UDP datagram carries a UDP request header with it" (RSV, FRAG, ATYP, DST.ADDR, DST.PORT), in
// both directions. The TCP control connection registers the relay; datagrams between the client and
// the relay are classified without their header (senders stay the addresses on this leg).
// "An implementation that does not support fragmentation MUST drop any datagram whose FRAG field is
// other than X'00'": fragments are counted, not reassembled.
import WireBytes
import PacketDecode
import BitTorrentClassifier

struct RelayEndpoint: Hashable {
    var address: IPAddress
    var port: UInt16
}

enum SOCKS5UDPRelay {
    /// Registers the relay of a UDP ASSOCIATE tunnel: BND.ADDR (the proxy's address when it is the
    /// unspecified address) and BND.PORT, used by `client`.
    static func register(_ info: TunnelInfo, proxy: IPAddress, client: IPAddress, in box: AggregatorBox) {
        guard info.command == .udpAssociate, let port = info.boundPort, port != 0 else { return }
        var relay = info.boundAddress?.address ?? proxy
        if relay == IPAddress(v4: 0) || relay == IPAddress(v6hi: 0, v6lo: 0) { relay = proxy }
        box.udpRelays[RelayEndpoint(address: relay, port: port)] = client
    }

    /// When the datagram travels between a registered relay and its client: its header. Nil otherwise.
    static func unwrap(_ packet: DecodedPacket, box: AggregatorBox) -> SOCKS5UDPHeader? {
        let toRelay = box.udpRelays[RelayEndpoint(address: packet.dst, port: packet.dstPort)] == packet.src
        let fromRelay = !toRelay && box.udpRelays[RelayEndpoint(address: packet.src, port: packet.srcPort)] == packet.dst
        guard toRelay || fromRelay else { return nil }
        guard let h = SOCKS5UDPHeader.parse(packet.payload) else { box.attribution.currentRelayTarget = 0; return nil }
        if !h.isFragment { box.relayed(h, client: toRelay ? (packet.src, packet.srcPort) : (packet.dst, packet.dstPort),
                                       relay: toRelay ? (packet.dst, packet.dstPort) : (packet.src, packet.srcPort)) }
        return h
    }
}
