// ut_metadata: peers send the info dictionary (BEP 9, https://www.bittorrent.org/beps/bep_0009.html).
//
// BEP 9: "The metadata is handled in blocks of 16KiB (16384 Bytes). The metadata blocks are indexed
// starting at 0. All blocks are 16KiB except the last block which may be smaller." "The bencoded
// messages have a key "msg_type" which value is an integer corresponding to the type of message. They
// also have a key "piece", which indicates which part of the metadata this message refers to."
// request = 0, data = 1, reject = 2. "The data message adds another entry to the dictionary,
// "total_size" [...] The metadata piece is appended to the bencoded dictionary, it is not a part of
// the dictionary, but it is a part of the message". Unrecognised msg_type values are ignored.
import WireBytes

public enum UTMetadata {
    /// BEP 9 block size.
    public static let blockSize = 16_384
    /// Largest info dictionary we assemble. BEP 9 sets no limit; libtorrent refuses metadata above
    /// 4 MiB by default (max_metadata_size); 8 MiB leaves room for huge multi-file torrents.
    public static let maximumMetadataSize = 8 << 20

    /// Recognises a ut_metadata dictionary; nil when `dict` is something else.
    static func inspect<S: ClassifierSink>(_ dict: BencodeItem, payload: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult? {
        guard let type = dict["msg_type"]?.integer, let piece = dict["piece"]?.integer(in: 0...Int64(maximumMetadataSize / blockSize)) else {
            return nil
        }
        switch type {
        case 0:
            guard dict.end == payload.count else { return nil }
            sink.receive(.metadataRequest(piece: piece))
        case 1:
            let data = payload.slice(dict.end, payload.count - dict.end)
            guard let total = dict["total_size"]?.integer(in: 1...Int64(maximumMetadataSize)),
                  data.count == expectedBlockLength(piece: piece, totalSize: total) else {
                sink.receive(.malformed(.metadataBadPiece))
                return .noMatch
            }
            sink.receive(.metadataPiece(piece: piece, totalSize: total, bytes: data))
        case 2:
            sink.receive(.metadataReject(piece: piece))
        default:
            return .noMatch   // BEP 9: unknown message types are ignored
        }
        return .match
    }

    /// Length of block `piece` of a `totalSize`-byte info dictionary, or nil when out of range.
    public static func expectedBlockLength(piece: Int, totalSize: Int) -> Int? {
        guard piece >= 0, totalSize > 0, let offset = piece *? blockSize, offset < totalSize else { return nil }
        return min(blockSize, totalSize - offset)
    }
}

/// Collects the blocks of one info dictionary (per flow, owned by the flow layer). The flow layer
/// checks SHA-1 (v1) / SHA-256 (v2) of `completeInfo` against the infohash; this module has no crypto.
public struct MetadataAssembler: Sendable {
    public enum AddResult: Equatable, Sendable {
        case accepted
        case complete
        /// The block contradicts earlier ones (other total size), is out of range, or too large.
        case rejected
    }

    public private(set) var totalSize: Int?
    private var buffer: [UInt8] = []
    private var received: [Bool] = []
    private var missing = 0

    public init() {}

    /// Adds one `data` block. Allocates the buffer once, on the first block.
    public mutating func add(piece: Int, totalSize: Int, bytes: UnsafeRawBufferPointer) -> AddResult {
        guard totalSize > 0, totalSize <= UTMetadata.maximumMetadataSize,
              let length = UTMetadata.expectedBlockLength(piece: piece, totalSize: totalSize), bytes.count == length else {
            return .rejected
        }
        if let known = self.totalSize {
            guard known == totalSize else { return .rejected }
        } else {
            self.totalSize = totalSize
            buffer = [UInt8](repeating: 0, count: totalSize)
            let blocks = (totalSize + UTMetadata.blockSize - 1) / UTMetadata.blockSize
            received = [Bool](repeating: false, count: blocks)
            missing = blocks
        }
        let offset = piece * UTMetadata.blockSize
        buffer.withUnsafeMutableBytes { dst in
            dst.baseAddress!.advanced(by: offset).copyMemory(from: bytes.baseAddress!, byteCount: length)
        }
        if !received[piece] { received[piece] = true; missing -= 1 }
        return missing == 0 ? .complete : .accepted
    }

    public var isComplete: Bool { totalSize != nil && missing == 0 }

    /// The whole info dictionary once every block arrived.
    public var completeInfo: [UInt8]? { isComplete ? buffer : nil }

    /// Forget everything (e.g. after a hash mismatch).
    public mutating func reset() { self = MetadataAssembler() }
}
