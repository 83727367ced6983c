// The values the capture layer hands to the pipeline: one record per packet, borrowed bytes.
import WireBytes

/// One packet record. `data` points into the reader's buffer and is valid only during the callback
/// that receives it, unless `CaptureReader.laggingReaders` holds it (DESIGN.md rule 1: no copy per packet).
public struct CaptureRecord {
    /// 1-based within the file, as Wireshark numbers them.
    public var frameNumber: Int
    public var timestamp: Timestamp
    /// False for pcapng Simple Packet Blocks, which carry no timestamp (timestamp is then 0).
    public var hasTimestamp: Bool
    public var linkType: LinkType
    /// Index of the interface in file order (pcapng: across all sections; pcap: always 0).
    public var interfaceID: Int
    public var capturedLength: Int
    public var originalLength: Int
    /// Offset of the record (pcap record header, pcapng block) in the (decompressed) stream.
    public var fileOffset: Int
    public var data: UnsafeRawBufferPointer
    /// The captured bytes of a record `CaptureRecord.lookaheadDistance` records later in the same
    /// read buffer, when the parser found one there (else empty): a hint for prefetching that packet's
    /// flow (issue 6). Not checked as a record is (it may even be garbage after damage): read it for
    /// hints only, never for results. Valid as `data` is.
    public var lookahead: UnsafeRawBufferPointer

    /// How many records ahead `lookahead` is.
    public static var lookaheadDistance: Int { 8 }

    @inlinable public init(frameNumber: Int, timestamp: Timestamp, hasTimestamp: Bool = true, linkType: LinkType,
                           interfaceID: Int, capturedLength: Int, originalLength: Int, fileOffset: Int,
                           data: UnsafeRawBufferPointer, lookahead: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        self.lookahead = lookahead
        self.frameNumber = frameNumber
        self.timestamp = timestamp
        self.hasTimestamp = hasTimestamp
        self.linkType = linkType
        self.interfaceID = interfaceID
        self.capturedLength = capturedLength
        self.originalLength = originalLength
        self.fileOffset = fileOffset
        self.data = data
    }

    /// True when the snap length cut the packet (fewer bytes captured than were on the wire).
    @inlinable public var isTruncatedBySnaplen: Bool { capturedLength < originalLength }
}

public enum ByteOrder: String, Sendable {
    case little, big, mixed
}

/// Timestamp units: 10^-n or 2^-n seconds (pcapng if_tsresol, RFC draft-ietf-opsawg-pcapng §4.2).
public enum TimestampResolution: Hashable, Sendable, CustomStringConvertible {
    case decimal(Int)
    case binary(Int)

    public static let microseconds = TimestampResolution.decimal(6)
    public static let nanoseconds = TimestampResolution.decimal(9)

    public var description: String {
        switch self {
        case .decimal(0): "seconds"
        case .decimal(3): "milliseconds"
        case .decimal(6): "microseconds"
        case .decimal(9): "nanoseconds"
        case .decimal(let n): "10^-\(n)"
        case .binary(let n): "2^-\(n)"
        }
    }
}

/// What the file says about one capture interface (pcap: the file header; pcapng: an IDB).
public struct CaptureInterface: Hashable, Sendable {
    public var linkType: LinkType
    /// Snap length as written in the file (0 = none declared).
    public var snapLength: Int
    public var resolution: TimestampResolution
    /// pcapng if_tsoffset: seconds added to every timestamp of this interface.
    public var timestampOffsetSeconds: Int64
    /// 0-based pcapng section the interface belongs to.
    public var section: Int
}

/// Why a file could not be opened at all. The message names the file.
public struct CaptureOpenError: Error, CustomStringConvertible, Sendable {
    public enum Reason: String, Sendable {
        case missing, directory, unreadable, empty
        case notACapture = "not a capture"
    }
    public var path: String
    public var reason: Reason
    public var detail: String

    public init(path: String, reason: Reason, detail: String = "") {
        self.path = path; self.reason = reason; self.detail = detail
    }

    public var description: String {
        "\(path): \(reason.rawValue)" + (detail.isEmpty ? "" : " (\(detail))")
    }
}

/// One place where the file is damaged, with where it is (DESIGN.md rule 9).
public struct CaptureDamage: Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var anomaly: CaptureAnomaly
    /// Byte offset in the (decompressed) stream.
    public var offset: Int
    /// The frame being read when the damage was found (1-based; the next frame number).
    public var frameNumber: Int
    public var detail: String

    public var description: String {
        "\(path): byte offset \(offset), frame \(frameNumber): \(anomaly.rawValue)" + (detail.isEmpty ? "" : ": \(detail)")
    }
}

/// The result of reading a whole file. `damage` is non-empty exactly when the file is damaged.
public struct CaptureReadResult: Sendable {
    public var packets = 0
    /// Sum of captured lengths.
    public var bytes = 0
    /// Earliest and latest packet timestamps (capinfos' "first/last packet time"; records of
    /// merged captures are not in time order). Simple Packet Blocks have none.
    public var firstTimestamp: Timestamp?
    public var lastTimestamp: Timestamp?
    /// Simple Packet Blocks (no timestamp). capinfos then reports no first/last time at all.
    public var packetsWithoutTimestamp = 0
    /// Packets whose captured length is below their original length.
    public var truncatedBySnaplen = 0
    public var anomalies = CaptureAnomalies()
    /// At most `CaptureLimits.maxDamageMessages` entries; `anomalies` keeps counting past that.
    public var damage: [CaptureDamage] = []
    /// True when `forEachRecord`'s body returned false.
    public var stoppedEarly = false

    public init() {}

    public var isDamaged: Bool { !damage.isEmpty }
}
