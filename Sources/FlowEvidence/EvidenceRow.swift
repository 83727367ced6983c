// One row of the evidence report: what one address did for one infohash (DESIGN.md output contract).
// Built by the evidence aggregator, written by Reports. Sorted by (ip, infohash[, day]).
import WireBytes
import PacketDecode
import BitTorrentClassifier

public struct FrameRef: Hashable, Comparable, Sendable {
    /// Index of the capture in the run's input list (inputs are ordered by first timestamp).
    public var captureIndex: Int
    /// 1-based frame number in that capture, as Wireshark numbers it.
    public var frame: Int
    public init(captureIndex: Int, frame: Int) { self.captureIndex = captureIndex; self.frame = frame }
    /// Not a tuple comparison: that went through generic witnesses (issue 6, once per packet).
    @inlinable public static func < (a: FrameRef, b: FrameRef) -> Bool {
        a.captureIndex != b.captureIndex ? a.captureIndex < b.captureIndex : a.frame < b.frame
    }
}

/// Evidence kinds, as they appear (sorted, `;`-joined) in the `signals` column.
public enum Signal: String, Comparable, Sendable, CaseIterable {
    case handshake, piece, utp, extended = "extension", metadata, pex
    case dhtAnnounce = "dht_announce", dhtGetPeers = "dht_get_peers"
    case trackerHTTP = "tracker_http", trackerUDP = "tracker_udp", lsd
    public static func < (a: Signal, b: Signal) -> Bool { a.rawValue < b.rawValue }
}

public struct EvidenceRow: Sendable, Equatable {
    public var ip: IPAddress
    public var infoHash: InfoHash
    /// UTC day (days since 1970-01-01) for `--per-day` rows, nil otherwise.
    public var day: Int64?
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    /// Distinct UTC days with activity, sorted.
    public var activeDays: [Int64]
    public var confidence: Confidence
    public var signals: Set<Signal>
    public var flows: Int
    /// Distinct remote addresses this IP exchanged BitTorrent traffic with for this infohash.
    public var peers: Int
    public var bytesUp: Int64, bytesDown: Int64
    public var piecesUp: Int, piecesDown: Int, piecesVerified: Int
    public var client: String?
    public var torrentName: String?
    /// The earliest peer-wire frame (handshake or piece) when there is one, else the earliest announce;
    /// `supportingFrames`: the earliest supporting frames of any kind, at most `EvidenceLimits.supportingFrames` (JSON only).
    public var firstFrame: FrameRef
    public var supportingFrames: [FrameRef]
    /// Part of the row's key (ip, infohash, via[, day]): the proxy endpoint (address:port the client
    /// connected to, or its SOCKS5 UDP relay) on whose client leg this evidence was seen; nil for
    /// evidence seen on a direct connection (ProxyAttribution.swift has the semantics).
    public var via: ProxyEndpoint?
    /// With `via`: the tunnelled targets the client asked the proxy for (`host:port`), sorted, distinct.
    public var targets: [String] = []
    /// On a proxy's exit rows (`via` nil): the clients whose tunnelled connections were linked to the
    /// proxy's own connections that carried this evidence (ProxyLegMatcher), sorted, distinct.
    public var attributedTo: [IPAddress] = []

    public init(ip: IPAddress, infoHash: InfoHash, day: Int64? = nil, firstSeen: Timestamp, lastSeen: Timestamp,
                activeDays: [Int64], confidence: Confidence, signals: Set<Signal>, flows: Int, peers: Int,
                bytesUp: Int64, bytesDown: Int64, piecesUp: Int, piecesDown: Int, piecesVerified: Int,
                client: String?, torrentName: String?, firstFrame: FrameRef, supportingFrames: [FrameRef]) {
        self.ip = ip; self.infoHash = infoHash; self.day = day; self.firstSeen = firstSeen; self.lastSeen = lastSeen
        self.activeDays = activeDays; self.confidence = confidence; self.signals = signals; self.flows = flows
        self.peers = peers; self.bytesUp = bytesUp; self.bytesDown = bytesDown; self.piecesUp = piecesUp
        self.piecesDown = piecesDown; self.piecesVerified = piecesVerified; self.client = client
        self.torrentName = torrentName; self.firstFrame = firstFrame; self.supportingFrames = supportingFrames
    }
}

/// One row of `torscan flows` (DESIGN.md flow contract). `src` sent the first packet seen.
public struct FlowRow: Sendable, Equatable {
    public enum Transport: String, Sendable { case tcp, udp }
    public var proto: Transport
    public var srcIP: IPAddress, srcPort: UInt16
    public var dstIP: IPAddress, dstPort: UInt16
    public var firstSeen: Timestamp, lastSeen: Timestamp
    public var packets: Int
    public var bytes: Int64
    /// `bittorrent-peer`, `bittorrent-utp`, `bittorrent-dht`, `bittorrent-tracker-http`,
    /// `bittorrent-tracker-udp`, `bittorrent-lsd`, `bittorrent-encrypted` or `other`.
    public var label: String
    public var infoHashes: [InfoHash]
    public var tunnel: String?
    public var firstFrame: FrameRef
    public var client: String?
    /// With `tunnel`: the target the client asked the proxy for, `host:port` (IPv6 in RFC 5952 form, unbracketed).
    public var tunnelTarget: String?
    /// With label `bittorrent-encrypted`: what the label (and an infohash, if any) rests on, `;`-separated:
    /// `mse_shape_N_steps` (MSEShapeDetector), the MSECorroboration sources of the responder's endpoint,
    /// and `infohash_of_responder_endpoint` when the infohash comes from that endpoint's one torrent.
    public var encryptedBy: String?
    /// On a proxy's own connection to a target that was linked to a client leg (ProxyAttribution):
    /// the client's address.
    public var attributedTo: IPAddress?
    /// The linked other leg's first frame: on a client leg, the proxy's connection to the target; on
    /// that connection, the client leg.
    public var linkedFrame: FrameRef?

    public init(proto: Transport, srcIP: IPAddress, srcPort: UInt16, dstIP: IPAddress, dstPort: UInt16,
                firstSeen: Timestamp, lastSeen: Timestamp, packets: Int, bytes: Int64, label: String,
                infoHashes: [InfoHash], tunnel: String? = nil, firstFrame: FrameRef, client: String? = nil) {
        self.proto = proto; self.srcIP = srcIP; self.srcPort = srcPort; self.dstIP = dstIP; self.dstPort = dstPort
        self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.packets = packets; self.bytes = bytes
        self.label = label; self.infoHashes = infoHashes; self.tunnel = tunnel; self.firstFrame = firstFrame; self.client = client
    }
}
