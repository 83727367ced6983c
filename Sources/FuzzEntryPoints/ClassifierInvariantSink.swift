// The sink every BitTorrentClassifier fuzz target feeds its detectors into: it checks, with
// `precondition`, what must hold for any event on any input (so a violation is a crash the fuzzer
// reports), and counts events so the replay tests can see that the seeds reach the parsers.
import BitTorrentClassifier
import WireBytes

public struct ClassifierInvariantSink: ClassifierSink {
    /// Events received so far.
    public private(set) var events = 0
    /// Events that are not `.malformed` (the seeds must produce some).
    public private(set) var recognised = 0
    /// The bytes of the current `consume` call: `pieceBytes` are streamed from them, never copied.
    var chunk: UnsafeRawBufferPointer?
    /// The last piece header, to check that streamed piece bytes stay inside its block.
    var block: (index: UInt32, begin: UInt32, length: UInt32)?

    public init() {}

    public mutating func receive(_ event: ClassifierEvent) {
        events += 1
        if case .malformed = event {} else { recognised += 1 }
        switch event {
        case .handshake(let h):
            precondition(h.infoHash.byteCount == 20, "peer wire handshake infohash is 20 bytes (BEP 3, BEP 52 truncated)")
        case .peerMessage(let id, let length):
            precondition(id == 255 ? length == 0 : length >= 1, "a message's length counts its id byte")
        case .pieceBlock(let index, let begin, let length):
            precondition(Int(length) <= PeerWireFraming.maxBlockLength, "piece block over the framing limit")
            block = (index, begin, length)
        case .pieceBytes(let index, let offset, let bytes):
            precondition(bytes.count > 0 && bytes.count <= PeerWireFraming.maxBlockLength)
            if let c = chunk { precondition(Self.isInside(bytes, c), "pieceBytes must point into the caller's bytes") }
            if let b = block, b.index == index, offset >= b.begin, offset - b.begin < b.length {
                precondition(UInt64(offset) + UInt64(bytes.count) <= UInt64(b.begin) + UInt64(b.length), "piece bytes past their block")
            }
        case .extendedHandshake(let h):
            precondition(h.messageIDs.count <= ExtensionMessages.maximumMessageMapEntries)
            if let ip = h.yourIP { precondition(ip.count == 4 || ip.count == 16) }
            if let v = h.client { precondition(v.utf8.count <= 3 * ExtensionMessages.maximumClientNameLength) }
        case .metadataPiece(let piece, let totalSize, let bytes):
            precondition(piece >= 0 && totalSize >= 1 && totalSize <= UTMetadata.maximumMetadataSize)
            precondition(bytes.count == UTMetadata.expectedBlockLength(piece: piece, totalSize: totalSize))
        case .metadataRequest(let piece), .metadataReject(let piece):
            precondition(piece >= 0)
        case .pex(let added, let dropped):
            precondition(added.count <= 2 * UTPex.maximumPeersPerList && dropped.count <= 2 * UTPex.maximumPeersPerList)
            for p in added + dropped { precondition(p.address.count == 4 || p.address.count == 16) }
        case .extendedMessage(_, let payload):
            precondition(payload.count < PeerWireStream.maxBufferedExtendedPayload)
        case .dht(let m):
            precondition(m.transactionID.count <= DHTDetector.maximumTransactionIDLength)
            if let id = m.nodeID { precondition(id.count == DHTDetector.nodeIDLength) }
            if let t = m.target { precondition(t.count == DHTDetector.nodeIDLength) }
            if let h = m.infoHash { precondition(h.byteCount == 20, "DHT infohashes are 20 bytes (BEP 5)") }
            precondition(m.peersReturned >= 0 && m.samplesReturned >= 0)
        case .utpPacket(let h):
            precondition(h.payloadOffset >= UTPHeader.fixedLength)
        case .udpTracker(let m):
            precondition(m.infoHashes.count <= UDPTracker.maxScrapeHashes && m.peersReturned >= 0)
            for h in m.infoHashes { precondition(h.byteCount == 20, "UDP tracker infohashes are 20 bytes (BEP 15)") }
        case .lsd(let a):
            for h in a.infoHashes { precondition(h.byteCount == 20, "LSD carries 40 hex digits (BEP 14)") }
        case .httpTrackerRequest(let r):
            precondition(r.infoHashes.count <= HTTPTrackerDetector.maximumInfoHashesPerRequest)
            for h in r.infoHashes { precondition(h.byteCount == 20, "tracker info_hash is 20 bytes (BEP 3)") }
        case .httpTrackerResponse(let peers, _, _):
            precondition(peers >= 0)
        case .webSeedRequest, .malformed:
            break
        }
    }

    /// True when `inner` lies within `outer` (empty buffers lie anywhere).
    static func isInside(_ inner: UnsafeRawBufferPointer, _ outer: UnsafeRawBufferPointer) -> Bool {
        guard inner.count > 0 else { return true }
        guard let i = inner.baseAddress, let o = outer.baseAddress else { return false }
        return i >= o && i + inner.count <= o + outer.count
    }
}

/// Splits fuzz inputs into records: a 2-byte big-endian header whose top bit is a direction flag and
/// whose low 15 bits are the record length (the last record takes what is left; a lone trailing byte
/// is a 1-byte record, so every pass consumes bytes).
struct DirectedRecords: Sequence, IteratorProtocol {
    var cursor: ByteCursor
    init(_ bytes: UnsafeRawBufferPointer, offset: Int) { cursor = ByteCursor(bytes, offset: offset) }
    mutating func next() -> (flag: Bool, bytes: UnsafeRawBufferPointer)? {
        guard !cursor.isAtEnd else { return nil }
        guard let header = cursor.u16be() else { return (false, cursor.take(cursor.remaining)!) }
        let length = Int(header & 0x7FFF)
        return (header & 0x8000 != 0, cursor.take(length) ?? cursor.take(cursor.remaining)!)
    }
}
