// Ties an MSE-shaped flow (MSEShapeDetector) to cleartext BitTorrent evidence from the same capture,
// as issue 7 asks: "the same address and port seen in cleartext BitTorrent, or announced in the DHT
// or to a tracker". Specs of the evidence sources: BEP 3 (peer wire handshake; tracker announce
// `port`), BEP 5 (`announce_peer` with `port`, or `implied_port` = the UDP source port), BEP 15
// (UDP announce `port`), BEP 11 / BEP 5 / BEP 23 peer lists (PEX, `values`, compact `peers`).
//
// Only the responder's endpoint (address AND port) is matched: it is the side listening for
// BitTorrent connections. The initiator's address alone is never enough: on a NAT or a shared proxy
// address one BitTorrent user must not turn every other flow of that address into BitTorrent (the
// failure of nDPI's host cache that issue 7 names).
//
// Wiring: the flow layer fills the sets while it reads the capture (cleartext handshakes: both
// sides' listening endpoints where known, i.e. the responder of each cleartext TCP/uTP flow and any
// extended-handshake `p`; announces: announcer address + announced port; peer lists: every endpoint
// listed), and calls `corroborate` for each flow whose verdict is `.likelyMSE` when the file ends,
// so order in the capture does not matter.

public struct MSECorroboration: Sendable {
    public enum Source: String, Hashable, Sendable, CaseIterable, Comparable {
        /// The responder endpoint took part in a cleartext BitTorrent connection.
        case peerEndpointSeenCleartext = "peer_endpoint_seen_cleartext"
        /// Its address announced its port in the DHT (announce_peer).
        case portAnnouncedDHT = "port_announced_dht"
        /// Its address announced its port to a tracker (HTTP or UDP).
        case portAnnouncedTracker = "port_announced_tracker"
        /// A tracker response, DHT `values` or PEX listed the endpoint as a peer.
        case peerListed = "peer_listed"
        public static func < (a: Source, b: Source) -> Bool { a.rawValue < b.rawValue }
    }

    public var cleartextPeers: Set<PeerEndpoint> = []
    public var dhtAnnounced: Set<PeerEndpoint> = []
    public var trackerAnnounced: Set<PeerEndpoint> = []
    public var listedPeers: Set<PeerEndpoint> = []
    /// The torrents each listening endpoint was tied to by a cleartext handshake on it or by an
    /// announce of its port (not by peer lists, which say nothing of what the peer was asked for).
    public var torrents: [PeerEndpoint: Set<InfoHash>] = [:]

    public init() {}

    /// The torrent an encrypted flow to `responder` most likely carried: the one torrent its endpoint
    /// is tied to, nil when none or several (the bytes themselves name none).
    public func infoHash(responder: PeerEndpoint) -> InfoHash? {
        guard let set = torrents[responder], set.count == 1 else { return nil }
        return set.first
    }

    public mutating func formUnion(_ other: MSECorroboration) {
        cleartextPeers.formUnion(other.cleartextPeers)
        dhtAnnounced.formUnion(other.dhtAnnounced)
        trackerAnnounced.formUnion(other.trackerAnnounced)
        listedPeers.formUnion(other.listedPeers)
        torrents.merge(other.torrents) { $0.union($1) }
    }

    /// How the flow's responder endpoint is corroborated, sorted by name (empty: not corroborated).
    /// `responder` is the side that accepted the TCP connection (the SYN-ACK sender).
    public func corroborate(responder: PeerEndpoint) -> [Source] {
        var out: [Source] = []
        if cleartextPeers.contains(responder) { out.append(.peerEndpointSeenCleartext) }
        if dhtAnnounced.contains(responder) { out.append(.portAnnouncedDHT) }
        if trackerAnnounced.contains(responder) { out.append(.portAnnouncedTracker) }
        if listedPeers.contains(responder) { out.append(.peerListed) }
        return out.sorted()
    }

    /// Both directions: a flow is corroborated when either side's *listening* endpoint is known.
    /// Use this form when the capture missed the SYN and the roles are unknown.
    public func corroborate(_ a: PeerEndpoint, _ b: PeerEndpoint) -> [Source] {
        Array(Set(corroborate(responder: a) + corroborate(responder: b))).sorted()
    }
}
