// Telling torrent lookups from routing-table maintenance (BEP 5, "Routing Table").
//
// BEP 5: "Buckets that have not been changed in 15 minutes should be "refreshed." This is done by
// picking a random ID in the range of the bucket and performing a find_nodes search on it." Clients
// (libtorrent, qBittorrent) refresh with get_peers as well, for ids that share a long prefix with
// their own node id: vut-pds_small.pcap frame 60 asks for f01c42cf59cd855fe8d21dac... from node
// f01c42cf59cd855fe8d21dac... (96 bits in common). DESIGN.md: such lookups are not evidence.
// A real infohash shares k leading bits with a random node id with probability 2^-k, so at the
// threshold below a genuine torrent lookup is misread once in 65 536.

extension DHTMessage {
    /// Leading bits a lookup target must share with the sender's node id to count as maintenance.
    public static let routingRefreshPrefixBits = 16

    /// Leading bits shared by the sender's node id and the looked-up key (`info_hash`, else `target`).
    public var sharedPrefixBitsWithNodeID: Int? {
        guard let id = nodeID, id.count == 20 else { return nil }
        let key = infoHash?.bytes ?? target
        guard let key, key.count == 20 else { return nil }
        var bits = 0
        for i in 0..<20 {
            let x = id[i] ^ key[i]
            if x == 0 { bits += 8; continue }
            return bits + x.leadingZeroBitCount
        }
        return bits
    }

    /// A `get_peers`/`find_node`/`sample_infohashes` query whose key is near the sender's own id:
    /// routing-table maintenance, not interest in a torrent. `announce_peer` is never maintenance.
    public var isLikelyRoutingRefresh: Bool {
        guard kind == .query, method != "announce_peer", let bits = sharedPrefixBitsWithNodeID else { return false }
        return bits >= Self.routingRefreshPrefixBits
    }
}
