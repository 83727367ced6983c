// UDP tracker protocol: BEP 15 (https://www.bittorrent.org/beps/bep_0015.html).
//
// Connect request: "int64_t protocol_id 0x41727101980 // magic constant; int32_t action 0 // connect;
// int32_t transaction_id". Connect response: action, transaction_id, connection_id (16 bytes).
// Announce request (98 bytes): connection_id, action 1, transaction_id, info_hash[20], peer_id[20],
// downloaded, left, uploaded (int64), event (0 none, 1 completed, 2 started, 3 stopped), IP address,
// key, num_want, port. Announce response: action 1, transaction_id, interval, leechers, seeders,
// then 6-byte IPv4 peers, or "IPv6 [...] the stride size of <IP address, TCP port> pairs in the
// response is 18 bytes instead of 6". Scrape request: connection_id, action 2, transaction_id,
// info_hash[20]*N; response: action 2, transaction_id, then 12 bytes per hash. Error: action 3,
// transaction_id, message.
// Requests begin with a connection id, responses with the action: the shape tells them apart.
import WireBytes

public enum UDPTracker {
    public static let protocolID: UInt64 = 0x417_2710_1980
    public static let connectLength = 16
    public static let announceRequestLength = 98
    /// BEP 41 lets an announce carry options after byte 98; beyond this it is not an announce.
    public static let maxAnnounceRequestLength = 98 + 512
    /// BEP 15: "Up to about 74 torrents can be scraped at once."
    public static let maxScrapeHashes = 74
    static let announceResponseHeader = 20

    public enum Action: UInt32 { case connect = 0, announce = 1, scrape = 2, error = 3 }

    /// A client-to-tracker message, recognised by shape.
    public static func parseRequest(_ d: UnsafeRawBufferPointer) -> UDPTrackerMessage? {
        guard let conn = d.u64be(at: 0), let actionRaw = d.u32be(at: 8), let tx = d.u32be(at: 12) else { return nil }
        // A response starts with its action (0-3); a tracker-issued connection id almost never does.
        // Without this a 98-byte announce response (13 peers, 1 leecher) would read as an announce.
        if actionRaw != Action.connect.rawValue && conn >> 32 <= 3 { return nil }
        switch Action(rawValue: actionRaw) {
        case .connect:
            guard d.count == connectLength, conn == protocolID else { return nil }
            return UDPTrackerMessage(action: .connectRequest, transactionID: tx)
        case .announce:
            guard d.count >= announceRequestLength, d.count <= maxAnnounceRequestLength,
                  let ih = InfoHash(bytes: d.slice(16, 20)), let pid = PeerID(bytes: d.slice(36, 20)),
                  let downloaded = d.u64be(at: 56), let left = d.u64be(at: 64), let uploaded = d.u64be(at: 72),
                  let event = d.u32be(at: 80), event <= 3, let port = d.u16be(at: 96) else { return nil }
            return UDPTrackerMessage(action: .announceRequest, transactionID: tx, infoHashes: [ih], peerID: pid, event: event,
                                     port: port, downloaded: downloaded, left: left, uploaded: uploaded)
        case .scrape:
            let n = (d.count - 16) / 20
            guard d.count > 16, (d.count - 16) % 20 == 0, n <= maxScrapeHashes else { return nil }
            var hashes: [InfoHash] = []
            hashes.reserveCapacity(n)
            for i in 0..<n { if let ih = InfoHash(bytes: d.slice(16 + 20 * i, 20)) { hashes.append(ih) } }
            return UDPTrackerMessage(action: .scrapeRequest, transactionID: tx, infoHashes: hashes)
        case .error, nil:
            return nil
        }
    }

    /// A tracker-to-client message. Only the action and length are checked, so call it only on a
    /// flow already known to be a UDP tracker (or whose transaction id matched a request).
    /// `ipv6` selects the 18-byte peer stride of announce responses.
    public static func parseResponse(_ d: UnsafeRawBufferPointer, ipv6: Bool) -> UDPTrackerMessage? {
        guard let actionRaw = d.u32be(at: 0), let tx = d.u32be(at: 4) else { return nil }
        switch Action(rawValue: actionRaw) {
        case .connect:
            guard d.count == connectLength else { return nil }
            return UDPTrackerMessage(action: .connectResponse, transactionID: tx)
        case .announce:
            let stride = ipv6 ? 18 : 6
            guard d.count >= announceResponseHeader, (d.count - announceResponseHeader) % stride == 0 else { return nil }
            return UDPTrackerMessage(action: .announceResponse, transactionID: tx, peersReturned: (d.count - announceResponseHeader) / stride)
        case .scrape:
            guard d.count >= 8, (d.count - 8) % 12 == 0 else { return nil }
            return UDPTrackerMessage(action: .scrapeResponse, transactionID: tx)
        case .error:
            return UDPTrackerMessage(action: .error, transactionID: tx)
        case nil:
            return nil
        }
    }
}
