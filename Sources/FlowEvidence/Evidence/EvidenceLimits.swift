// Named limits of evidence aggregation (DESIGN.md rule 5).

public enum EvidenceLimits {
    /// Supporting frames kept per evidence row, earliest first (the row's first frame included).
    /// Enough for a reader to open several independent proofs in Wireshark; the rest are counted.
    public static let supportingFrames = 16

    /// A DHT `get_peers` whose target shares at least this many leading bits with the sender's own
    /// node id is a routing-table refresh, not interest in a torrent (BEP 5: nodes look up ids close
    /// to their own to fill their buckets). Measured (tshark payloads + a bencode decoder) over
    /// every get_peers query in the public corpus: the real torrents of vut-pds_small.pcap (141
    /// queries), bittorrent_transmission.pcapng (50) and small_torrent_mse.pcap (61) share 0-2 bits
    /// with the querier's id; refresh targets share 13-21 bits (vut-pds_small: 166 queries, "ae28..."),
    /// or 96-101 bits (vut-pds_small: 39), 17-24 in bittorrent_utp.pcap and lru_ipv6_caches.pcapng.
    /// 12 bits separates them; a real infohash is dropped with probability 2^-12. (The classifier's
    /// `DHTMessage.routingRefreshPrefixBits` is 16: it would count the 144 refreshes at 13-15 bits.)
    public static let dhtRefreshPrefixBits = 12

    /// A row whose only evidence is DHT `get_peers` needs this many queries, unless other evidence in
    /// the run names the infohash. Bucket refreshes of far buckets look up random ids that share few
    /// bits with the node id, once each: SampleCaptures/dht-magnet (a 3-node lab) has 15 such
    /// single-query targets at 2-7 shared bits, which its truth.json lists as not evidence, while the
    /// real lookups there take 2 and 6 queries, and 50-75 in the public corpus (vut-pds_small,
    /// bittorrent_transmission, small_torrent_mse).
    public static let dhtGetPeersMinimumQueries = 2

    /// Targets listed in a row's `target` column (ProxyAttribution.swift): a client behind a proxy
    /// may reach hundreds of peers, or DHT nodes through a UDP relay; the row keeps the first this
    /// many in sort order (deterministic whatever the order of flows), and the flow report has every leg.
    /// 64 targets of up to 47 characters stay far below a spreadsheet cell's 32,767.
    public static let targetsPerRow = 64
}
