// What the classifier found on one flow: the protocols seen (for the flow label), the torrents the
// flow belongs to (from handshakes in either direction), and the client names of its endpoints.
import BitTorrentClassifier

public final class FlowFindings {
    /// Protocols seen on the flow.
    public struct Kinds: OptionSet, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Peer-wire handshake or messages (BEP 3).
        public static let peerWire = Kinds(rawValue: 1 << 0)
        public static let utp = Kinds(rawValue: 1 << 1)
        public static let dht = Kinds(rawValue: 1 << 2)
        public static let trackerHTTP = Kinds(rawValue: 1 << 3)
        public static let trackerUDP = Kinds(rawValue: 1 << 4)
        public static let lsd = Kinds(rawValue: 1 << 5)
        public static let handshake = Kinds(rawValue: 1 << 6)
    }

    public var kinds: Kinds = []
    /// Infohashes named by peer-wire handshakes on this flow, sorted, distinct: the torrents its pieces belong to.
    public private(set) var infoHashes: [InfoHash] = []
    /// Client names of the flow's `src` and `dst` endpoints, when learned.
    public var srcClient: String?, dstClient: String?
    /// Piece messages seen before any handshake named the flow's torrent (not attributable).
    public var unattributedPieces = 0
    /// Where the `piece` block being received in each direction ends (begin + length), until its last byte.
    var pieceEndFromSrc: UInt32?, pieceEndFromDst: UInt32?
    /// ut_metadata blocks of the flow's info dictionary (BEP 9), until complete.
    var metadata = MetadataAssembler()
    /// The torrent whose info dictionary this flow carried (ut_metadata, hash checked): pieces that
    /// follow on the same flow are verified against it when no --torrent names the infohash. Kept per
    /// flow, so the result does not depend on which worker saw which flow.
    var wireTorrent: TorrentCatalog?

    public init() {}

    /// Infohashes the flow names in any message that is evidence (handshakes, announces, non-refresh
    /// DHT lookups), sorted, distinct: the flow row's `infohashes`.
    public private(set) var namedInfoHashes: [InfoHash] = []

    public func addInfoHash(_ h: InfoHash) {
        name(h)
        guard !infoHashes.contains(h) else { return }
        infoHashes.append(h)
        infoHashes.sort()
    }

    /// Infohashes only looked up with DHT get_peers on this flow: named in the flow row once the run
    /// shows they are evidence (EvidenceLimits.dhtGetPeersMinimumQueries).
    public private(set) var lookedUpInfoHashes: [InfoHash] = []

    public func lookedUp(_ h: InfoHash) {
        guard !lookedUpInfoHashes.contains(h) else { return }
        lookedUpInfoHashes.append(h)
    }

    public func name(_ h: InfoHash) {
        guard !namedInfoHashes.contains(h) else { return }
        namedInfoHashes.append(h)
        namedInfoHashes.sort()
    }

    /// The flow label of the DESIGN.md flow contract.
    public func label(isTCP: Bool) -> String {
        if isTCP {
            if kinds.contains(.peerWire) || kinds.contains(.handshake) { return "bittorrent-peer" }
            if kinds.contains(.trackerHTTP) { return "bittorrent-tracker-http" }
            return "other"
        }
        // libtorrent and others run uTP and the DHT on one UDP socket: peer wire inside uTP wins.
        if kinds.contains(.utp) || kinds.contains(.peerWire) { return "bittorrent-utp" }
        if kinds.contains(.dht) { return "bittorrent-dht" }
        if kinds.contains(.trackerUDP) { return "bittorrent-tracker-udp" }
        if kinds.contains(.lsd) { return "bittorrent-lsd" }
        return "other"
    }
}
