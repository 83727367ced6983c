// Torrent names from ut_metadata (BEP 9): "The metadata is handled in blocks of 16KiB"; once every
// block of the info dictionary has arrived it is only trusted when its hash is the infohash (BEP 3:
// "info_hash: The 20 byte sha1 hash of the bencoded form of the info value"; BEP 52: SHA-256,
// truncated to 20 bytes on the wire). The name then labels every row of that infohash.
import Crypto
import BitTorrentClassifier

enum MetadataNames {
    /// The info dictionary's `name`, when `info` hashes to `infoHash` (v1 SHA-1, or v2 SHA-256 full or truncated).
    static func verifiedName(info: [UInt8], infoHash: InfoHash) -> String? {
        let sha1 = Array(Insecure.SHA1.hash(data: info))
        let sha256 = Array(SHA256.hash(data: info))
        let matches = infoHash.bytes == sha1 || infoHash.bytes == sha256 || infoHash.bytes == Array(sha256.prefix(20))
        guard matches else { return nil }
        return info.withUnsafeBytes { try? TorrentInfo(infoDictionary: $0) }?.name
    }
}
