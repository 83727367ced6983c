// What the classifier learned from one direction of a flow (or one datagram).
//
// The classifier never stores evidence itself: detectors emit events into a sink supplied by the
// caller (the flow layer of torscan, or a firewall that links this library). Events are small
// values; the few that carry borrowed bytes (`pieceBytes`, `metadataPiece`) are valid only during
// the call to `receive`.
import WireBytes

/// Receives the classifier's events, synchronously, in wire order.
public protocol ClassifierSink {
    mutating func receive(_ event: ClassifierEvent)
}

/// A transport endpoint named inside a BitTorrent message (tracker peer lists, PEX, LSD, DHT).
public struct PeerEndpoint: Hashable, Sendable {
    /// 4 bytes for IPv4 or 16 for IPv6, network order.
    public var address: [UInt8]
    public var port: UInt16
    public init(address: [UInt8], port: UInt16) { self.address = address; self.port = port }
}

public enum ClassifierEvent {
    // Peer wire (BEP 3, 6, 10) over TCP or inside uTP.
    case handshake(PeerWireHandshake)
    case peerMessage(id: UInt8, length: UInt32)           // every framed message; id 255 = keep-alive
    case pieceBlock(index: UInt32, begin: UInt32, length: UInt32)  // header of a `piece` message
    case pieceBytes(index: UInt32, offset: UInt32, bytes: UnsafeRawBufferPointer)  // its payload, streamed
    case extendedHandshake(ExtendedHandshake)
    case metadataPiece(piece: Int, totalSize: Int, bytes: UnsafeRawBufferPointer)  // ut_metadata data (BEP 9)
    case metadataRequest(piece: Int)                      // ut_metadata request (BEP 9): the sender fetches the info dict
    case metadataReject(piece: Int)                       // ut_metadata reject (BEP 9)
    case pex(added: [PeerEndpoint], dropped: [PeerEndpoint])  // ut_pex (BEP 11)
    /// A complete BEP 10 extended message (peer wire id 20): `extendedID` is its first payload byte
    /// (0 = extended handshake), `payload` the bencoded rest. The bencode half parses it.
    case extendedMessage(extendedID: UInt8, payload: UnsafeRawBufferPointer)

    // Datagram protocols.
    case dht(DHTMessage)                  // BEP 5
    case utpPacket(UTPHeader)             // BEP 29, every valid uTP header
    case udpTracker(UDPTrackerMessage)    // BEP 15
    case lsd(LSDAnnounce)                 // BEP 14

    // HTTP trackers (BEP 3, 23, 7) and web seeds (BEP 17, 19).
    case httpTrackerRequest(HTTPTrackerRequest)
    case httpTrackerResponse(peers: Int, interval: Int?, failure: String?)
    case webSeedRequest(path: String, infoHash: InfoHash?)

    /// Bytes that started like a BitTorrent message but broke its grammar (named, counted upstream).
    case malformed(ClassifierAnomaly)
}

public struct PeerWireHandshake: Hashable, Sendable {
    public var infoHash: InfoHash
    public var peerID: PeerID
    /// The 8 reserved bytes, big-endian.
    public var reserved: UInt64
    public init(infoHash: InfoHash, peerID: PeerID, reserved: UInt64) {
        self.infoHash = infoHash; self.peerID = peerID; self.reserved = reserved
    }
    /// BEP 10: bit 20 from the right (reserved[5] & 0x10).
    public var supportsExtensionProtocol: Bool { reserved & 0x0000_0000_0010_0000 != 0 }
    /// BEP 5: last bit of reserved[7].
    public var supportsDHT: Bool { reserved & 0x01 != 0 }
    /// BEP 6: reserved[7] & 0x04.
    public var supportsFast: Bool { reserved & 0x04 != 0 }
    /// BEP 52: reserved[7] & 0x10 (the peer speaks v2; the infohash may be a truncated SHA-256).
    public var supportsV2: Bool { reserved & 0x10 != 0 }
}

public struct ExtendedHandshake: Hashable, Sendable {
    public var client: String?          // `v`
    public var listenPort: UInt16?      // `p`
    public var metadataSize: Int?       // `metadata_size`
    public var yourIP: [UInt8]?         // `yourip`, 4 or 16 bytes
    public var messageIDs: [String: Int]  // `m`
    public var requestQueue: Int?       // `reqq`
    public init(client: String? = nil, listenPort: UInt16? = nil, metadataSize: Int? = nil, yourIP: [UInt8]? = nil, messageIDs: [String: Int] = [:],
                requestQueue: Int? = nil) {
        self.client = client; self.listenPort = listenPort; self.metadataSize = metadataSize
        self.yourIP = yourIP; self.messageIDs = messageIDs; self.requestQueue = requestQueue
    }
}

public struct DHTMessage: Hashable, Sendable {
    public enum Kind: String, Sendable { case query, response, error }
    public var kind: Kind
    /// For queries: `ping`, `find_node`, `get_peers`, `announce_peer`, `sample_infohashes`, `get`, `put`, ...
    public var method: String?
    public var transactionID: [UInt8]
    /// The sender's node id (`a.id` or `r.id`), 20 bytes.
    public var nodeID: [UInt8]?
    public var infoHash: InfoHash?      // get_peers / announce_peer `info_hash`
    public var target: [UInt8]?         // find_node / get / sample_infohashes `target`
    public var port: UInt16?
    public var impliedPort: Bool
    public var hasToken: Bool
    public var clientVersion: [UInt8]?  // top-level `v`
    public var peersReturned: Int       // response `values` count
    public var errorCode: Int?          // error `e` list, first element (BEP 5: 201 generic ... 204 method unknown)
    public var samplesReturned: Int     // BEP 51 sample_infohashes response `samples` count (20 bytes each)
    public init(kind: Kind, method: String? = nil, transactionID: [UInt8] = [], nodeID: [UInt8]? = nil, infoHash: InfoHash? = nil,
                target: [UInt8]? = nil, port: UInt16? = nil, impliedPort: Bool = false, hasToken: Bool = false,
                clientVersion: [UInt8]? = nil, peersReturned: Int = 0, errorCode: Int? = nil, samplesReturned: Int = 0) {
        self.kind = kind; self.method = method; self.transactionID = transactionID; self.nodeID = nodeID
        self.infoHash = infoHash; self.target = target; self.port = port; self.impliedPort = impliedPort
        self.hasToken = hasToken; self.clientVersion = clientVersion; self.peersReturned = peersReturned
        self.errorCode = errorCode; self.samplesReturned = samplesReturned
    }
}

public struct UTPHeader: Hashable, Sendable {
    public enum PacketType: UInt8, Sendable { case data = 0, fin = 1, state = 2, reset = 3, syn = 4 }
    public var type: PacketType
    public var connectionID: UInt16
    public var sequenceNumber: UInt16
    public var ackNumber: UInt16
    /// Offset of the payload after the header and its extensions.
    public var payloadOffset: Int
    public init(type: PacketType, connectionID: UInt16, sequenceNumber: UInt16, ackNumber: UInt16, payloadOffset: Int) {
        self.type = type; self.connectionID = connectionID; self.sequenceNumber = sequenceNumber
        self.ackNumber = ackNumber; self.payloadOffset = payloadOffset
    }
}

public struct UDPTrackerMessage: Hashable, Sendable {
    public enum Action: String, Sendable {
        case connectRequest, connectResponse, announceRequest, announceResponse, scrapeRequest, scrapeResponse, error
    }
    public var action: Action
    public var transactionID: UInt32
    public var infoHashes: [InfoHash]   // announce: one; scrape: several
    public var peerID: PeerID?
    public var event: UInt32?           // 0 none, 1 completed, 2 started, 3 stopped
    public var port: UInt16?
    public var downloaded: UInt64?, left: UInt64?, uploaded: UInt64?
    public var peersReturned: Int
    public init(action: Action, transactionID: UInt32, infoHashes: [InfoHash] = [], peerID: PeerID? = nil, event: UInt32? = nil,
                port: UInt16? = nil, downloaded: UInt64? = nil, left: UInt64? = nil, uploaded: UInt64? = nil, peersReturned: Int = 0) {
        self.action = action; self.transactionID = transactionID; self.infoHashes = infoHashes; self.peerID = peerID
        self.event = event; self.port = port; self.downloaded = downloaded; self.left = left; self.uploaded = uploaded
        self.peersReturned = peersReturned
    }
}

public struct LSDAnnounce: Hashable, Sendable {
    public var infoHashes: [InfoHash]
    public var port: UInt16?
    public var cookie: String?
    public init(infoHashes: [InfoHash], port: UInt16?, cookie: String?) {
        self.infoHashes = infoHashes; self.port = port; self.cookie = cookie
    }
}

public struct HTTPTrackerRequest: Hashable, Sendable {
    public enum Kind: String, Sendable { case announce, scrape }
    public var kind: Kind
    public var infoHashes: [InfoHash]
    public var peerID: PeerID?
    public var port: UInt16?
    public var event: String?
    public var uploaded: UInt64?, downloaded: UInt64?, left: UInt64?
    public var userAgent: String?
    public init(kind: Kind, infoHashes: [InfoHash], peerID: PeerID? = nil, port: UInt16? = nil, event: String? = nil,
                uploaded: UInt64? = nil, downloaded: UInt64? = nil, left: UInt64? = nil, userAgent: String? = nil) {
        self.kind = kind; self.infoHashes = infoHashes; self.peerID = peerID; self.port = port; self.event = event
        self.uploaded = uploaded; self.downloaded = downloaded; self.left = left; self.userAgent = userAgent
    }
}

/// Named protocol anomalies (DESIGN.md rule 4).
public enum ClassifierAnomaly: String, Sendable, CaseIterable {
    case peerWireBadLength = "peer_wire_bad_length"
    case peerWireUnknownMessage = "peer_wire_unknown_message"
    case extensionBadBencode = "extension_bad_bencode"
    case metadataBadPiece = "metadata_bad_piece"
    case dhtBadBencode = "dht_bad_bencode"
    case dhtBadMessage = "dht_bad_message"               // bencoded, claims KRPC (`y`), breaks BEP 5 (no id, bad `e`)
    case utpBadHeader = "utp_bad_header"
    case udpTrackerBadLength = "udp_tracker_bad_length"
    case httpTrackerBadInfoHash = "http_tracker_bad_info_hash"
    case httpTrackerBadResponse = "http_tracker_bad_response"  // tracker answer whose `peers`/`peers6` string is not whole entries
    case lsdBadInfoHash = "lsd_bad_info_hash"
    case peerWireLostSync = "peer_wire_lost_sync"
    case peerWireExtendedTooLarge = "peer_wire_extended_too_large"
    case utpReorderOverflow = "utp_reorder_overflow"
}
