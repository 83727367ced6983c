// Piece verification (issue 8): the blocks of a piece an address sent (BEP 3 `piece` messages: index,
// begin, block) are assembled, possibly out of order and duplicated, and hashed when the piece is
// complete: SHA-1 for v1 (BEP 3 `pieces`), the BEP 52 SHA-256 merkle subtree for v2 (`piece layers`,
// or `pieces root` for a file of one piece). A match makes the evidence `verified`.
// Memory is bounded: named limits on piece size, pieces in flight per sender and bytes held in total;
// the oldest incomplete piece is dropped (and counted) to make room.
import Crypto
import WireBytes
import BitTorrentClassifier

/// What a piece must hash to.
public enum PieceHash: Sendable, Equatable {
    /// v1: SHA-1 of the piece (20 bytes).
    case sha1([UInt8])
    /// v2: SHA-256 merkle root over the 16 KiB leaves of the piece's first `dataLength` bytes, padded with
    /// zero hashes to `leaves` (a power of two: piece length / 16 KiB, or for a file of one piece its own
    /// padded leaf count). `dataLength` is shorter than the piece in a hybrid torrent, whose v1 view pads
    /// the last piece of a file with a pad file (BEP 47) that v2 does not hash.
    case merkle(root: [UInt8], leaves: Int, dataLength: Int)
}

/// One piece of one torrent: its exact length (the last piece of a file or torrent is shorter) and the
/// hashes it must match (both for a hybrid torrent: the piece verifies only when every one matches).
public struct PieceSpec: Sendable, Equatable {
    public var length: Int
    public var hashes: [PieceHash]
    public init(length: Int, hashes: [PieceHash]) { self.length = length; self.hashes = hashes }
}

public struct PieceVerifierLimits: Sendable {
    /// Largest piece assembled. BEP 52 piece lengths are powers of two; common clients create up to
    /// 16 MiB (libtorrent, qBittorrent), the size issue 8 requires.
    public var maxPieceLength = 16 << 20
    /// Incomplete pieces held per sender; clients pipeline requests over a few pieces per peer.
    public var maxPiecesPerSender = 8
    /// Bytes held across all incomplete pieces (each piece counts its full length from its first block).
    public var maxTotalBytes = 256 << 20
    public init() {}
}

public enum PieceVerifierAnomaly: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// A block beyond the end of its piece, or empty.
    case blockOutOfRange
    /// A piece longer than `maxPieceLength`: not assembled.
    case pieceTooLarge
    /// A block whose piece is already being assembled with another length.
    case lengthDisagrees
    /// A block re-sent with different bytes than the first copy (the first copy is kept).
    case conflictingDuplicate
    /// An incomplete piece dropped because its sender had too many in flight.
    case evictedSenderLimit
    /// An incomplete piece dropped to stay under `maxTotalBytes`.
    case evictedMemoryLimit

    public var description: String {
        switch self {
        case .blockOutOfRange: "piece_block_out_of_range"
        case .pieceTooLarge: "piece_too_large"
        case .lengthDisagrees: "piece_length_disagrees"
        case .conflictingDuplicate: "piece_block_conflicting_duplicate"
        case .evictedSenderLimit: "piece_evicted_sender_limit"
        case .evictedMemoryLimit: "piece_evicted_memory_limit"
        }
    }
}

public enum PieceOutcome: Sendable, Equatable {
    /// Not complete yet (or the block was rejected: see the anomaly counters).
    case incomplete
    case verified(piece: Int)
    case mismatch(piece: Int)
}

public struct PieceVerifier<Sender: Hashable & Sendable>: Sendable {
    public let limits: PieceVerifierLimits
    public private(set) var anomalies = [Int](repeating: 0, count: PieceVerifierAnomaly.allCases.count)
    public private(set) var verifiedCount = 0
    public private(set) var mismatchCount = 0
    /// Bytes currently held by incomplete pieces.
    public private(set) var heldBytes = 0

    struct Key: Hashable, Sendable { var sender: Sender; var infoHash: InfoHash; var piece: Int }

    struct Assembly: Sendable {
        var buffer: [UInt8]
        /// Received byte ranges, sorted, disjoint and not adjacent.
        var ranges: [Range<Int>] = []
        var received = 0
        let serial: Int
    }

    var inFlight: [Key: Assembly] = [:]
    var perSender: [Sender: Int] = [:]
    /// Keys in the order their pieces started; stale entries (completed or evicted) are skipped lazily.
    var order: [(Key, Int)] = []
    var orderHead = 0
    var nextSerial = 0

    public init(limits: PieceVerifierLimits = PieceVerifierLimits()) { self.limits = limits }

    public func count(_ a: PieceVerifierAnomaly) -> Int { anomalies[a.rawValue] }
    /// Pieces being assembled.
    public var piecesInFlight: Int { inFlight.count }

    /// Adds one block (`begin` is the byte offset inside the piece) and, when it completes the piece,
    /// hashes it. A piece sent again later is assembled and reported again: callers count distinct pieces.
    public mutating func add(sender: Sender, infoHash: InfoHash, piece: Int, begin: Int,
                             block: UnsafeRawBufferPointer, spec: PieceSpec) -> PieceOutcome {
        guard spec.length <= limits.maxPieceLength else { note(.pieceTooLarge); return .incomplete }
        guard piece >= 0, begin >= 0, !block.isEmpty, let end = begin +? block.count, end <= spec.length else {
            note(.blockOutOfRange); return .incomplete
        }
        let key = Key(sender: sender, infoHash: infoHash, piece: piece)
        if inFlight[key] == nil {
            guard start(key, length: spec.length) else { return .incomplete }
        }
        // A piece started with another length (a different spec for the same index) cannot be completed.
        guard inFlight[key]!.buffer.count == spec.length else { note(.lengthDisagrees); return .incomplete }
        let (complete, conflict) = inFlight[key]!.insert(block, at: begin)
        if conflict { note(.conflictingDuplicate) }
        guard complete else { return .incomplete }
        let assembly = remove(key)!
        let ok = assembly.buffer.withUnsafeBytes { bytes in spec.hashes.allSatisfy { PieceVerifier.matches(bytes, $0) } }
        if ok && !spec.hashes.isEmpty { verifiedCount += 1; return .verified(piece: piece) }
        mismatchCount += 1
        return .mismatch(piece: piece)
    }

    static func matches(_ bytes: UnsafeRawBufferPointer, _ hash: PieceHash) -> Bool {
        switch hash {
        case .sha1(let expected):
            return Array(Insecure.SHA1.hash(data: bytes)) == expected
        case .merkle(let root, let leaves, let dataLength):
            guard dataLength >= 0, dataLength <= bytes.count else { return false }
            let data = UnsafeRawBufferPointer(rebasing: bytes[0..<dataLength])
            return BEP52Merkle.root(leaves: BEP52Merkle.leafHashes(data), width: leaves) == root
        }
    }

    private mutating func note(_ a: PieceVerifierAnomaly) { anomalies[a.rawValue] += 1 }

    /// Makes room under the limits, then starts an empty piece; false if it can never fit.
    private mutating func start(_ key: Key, length: Int) -> Bool {
        while perSender[key.sender, default: 0] >= limits.maxPiecesPerSender {
            guard evictOldest(where: { $0.sender == key.sender }) else { break }
            note(.evictedSenderLimit)
        }
        while heldBytes + length > limits.maxTotalBytes {
            guard evictOldest(where: { _ in true }) else { break }
            note(.evictedMemoryLimit)
        }
        guard heldBytes + length <= limits.maxTotalBytes else { note(.pieceTooLarge); return false }
        inFlight[key] = Assembly(buffer: [UInt8](repeating: 0, count: length), serial: nextSerial)
        order.append((key, nextSerial))
        nextSerial += 1
        // Completed pieces leave stale entries behind a stuck oldest one: drop them before they pile up.
        if order.count - orderHead > 2 * inFlight.count + 64 {
            order = order[orderHead...].filter { inFlight[$0.0]?.serial == $0.1 }
            orderHead = 0
        }
        perSender[key.sender, default: 0] += 1
        heldBytes += length
        return true
    }

    /// Drops the oldest incomplete piece matching `filter`.
    private mutating func evictOldest(where filter: (Key) -> Bool) -> Bool {
        compactOrder()
        for i in orderHead..<order.count {
            let (key, serial) = order[i]
            guard let a = inFlight[key], a.serial == serial, filter(key) else { continue }
            _ = remove(key)
            return true
        }
        return false
    }

    private mutating func remove(_ key: Key) -> Assembly? {
        guard let a = inFlight.removeValue(forKey: key) else { return nil }
        heldBytes -= a.buffer.count
        perSender[key.sender]! -= 1
        if perSender[key.sender] == 0 { perSender[key.sender] = nil }
        return a
    }

    /// Skips stale entries at the front and reclaims the array when most of it is stale.
    private mutating func compactOrder() {
        while orderHead < order.count, inFlight[order[orderHead].0]?.serial != order[orderHead].1 { orderHead += 1 }
        if orderHead > 64 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}

extension PieceVerifier.Assembly {
    /// Copies the bytes not yet received. Returns whether the piece is now complete, and whether an
    /// overlap differed from the bytes held (which are kept).
    mutating func insert(_ block: UnsafeRawBufferPointer, at begin: Int) -> (complete: Bool, conflict: Bool) {
        let new = begin..<(begin + block.count)
        var cursor = new.lowerBound
        var differs = false
        buffer.withUnsafeMutableBytes { buf in
            for r in ranges {
                if r.upperBound <= new.lowerBound { continue }
                if r.lowerBound >= new.upperBound { break }
                // The gap before this held range is new bytes; the overlap must match what is held.
                if cursor < r.lowerBound { Self.copy(block, from: cursor - begin, to: buf, at: cursor, count: r.lowerBound - cursor) }
                let lo = max(r.lowerBound, new.lowerBound), hi = min(r.upperBound, new.upperBound)
                if !Self.equal(block, from: lo - begin, buf, at: lo, count: hi - lo) { differs = true }
                cursor = max(cursor, r.upperBound)
            }
            if cursor < new.upperBound {
                Self.copy(block, from: cursor - begin, to: buf, at: cursor, count: new.upperBound - cursor)
            }
        }
        merge(new)
        return (received == buffer.count, differs)
    }

    /// Adds `new` to the sorted ranges in place, joining those it overlaps or touches.
    private mutating func merge(_ new: Range<Int>) {
        var i = 0
        while i < ranges.count, ranges[i].upperBound < new.lowerBound { i += 1 }
        var lo = new.lowerBound, hi = new.upperBound, absorbed = 0
        var j = i
        while j < ranges.count, ranges[j].lowerBound <= hi {
            lo = min(lo, ranges[j].lowerBound)
            hi = max(hi, ranges[j].upperBound)
            absorbed += ranges[j].count
            j += 1
        }
        ranges.replaceSubrange(i..<j, with: CollectionOfOne(lo..<hi))
        received += (hi - lo) - absorbed
    }

    private static func copy(_ src: UnsafeRawBufferPointer, from: Int, to dst: UnsafeMutableRawBufferPointer, at: Int, count: Int) {
        guard count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: dst[at..<(at + count)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[from..<(from + count)]))
    }

    private static func equal(_ a: UnsafeRawBufferPointer, from: Int, _ b: UnsafeMutableRawBufferPointer, at: Int, count: Int) -> Bool {
        UnsafeRawBufferPointer(rebasing: a[from..<(from + count)]).elementsEqual(UnsafeRawBufferPointer(rebasing: b[at..<(at + count)]))
    }
}
