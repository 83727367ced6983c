// Web seeding: HTTP servers that serve a torrent's data.
// BEP 17 (https://www.bittorrent.org/beps/bep_0017.html), "HTTP Seeding" (Hoffman style): the client
//   sends "GET <url>?info_hash=[hash]&piece=[piece]{&ranges=[start]-[end]{,[start]-[end]}...}".
//   The infohash is in the URL, so such a request names its torrent: `.webSeedRequest`.
// BEP 19 (https://www.bittorrent.org/beps/bep_0019.html), "WebSeed - HTTP/FTP Seeding" (GetRight
//   style): the metainfo's `url-list` names plain file URLs, fetched with ordinary
//   "GET /path/name" + "Range: bytes=..." requests. Nothing on the wire names the torrent, so this
//   module cannot tell such a GET from any download. The flow layer can: once it knows a torrent's
//   file list (TorrentMetainfo.urlList and files, or metadata fetched with ut_metadata), it matches
//   request paths against `url-list` + name/path. No event is emitted here for BEP 19.

enum WebSeed {
    /// BEP 17 requests carry `piece`; tracker announces carry `peer_id` (BEP 3 requires it).
    static func isHTTPSeedRequest(hasPiece: Bool, hasPeerID: Bool) -> Bool { hasPiece && !hasPeerID }
}
