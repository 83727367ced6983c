// Named capture anomalies (DESIGN.md rule 4): counted, reported in the run summary, never printed per packet.

public enum CaptureAnomaly: String, CaseIterable, Sendable, Comparable {
    /// The file ends inside the pcap file header or the first pcapng Section Header Block.
    case truncatedFileHeader = "truncated_file_header"
    /// The file ends inside a record or block.
    case truncatedRecord = "truncated_record"
    /// pcapng block length below 12, not a multiple of 4, above the limit, trailing copy differs,
    /// or too short for the block's fixed fields.
    case badBlockLength = "bad_block_length"
    /// pcapng SHB byte-order magic is neither 0x1A2B3C4D nor its swap.
    case badByteOrderMagic = "bad_byte_order_magic"
    /// pcap record whose captured length exceeds `CaptureLimits.maxPcapCapturedLength`: framing lost.
    case badRecordLength = "bad_record_length"
    /// Captured length above the snap length (pcap: cut to the snap length, as libpcap does).
    case caplenExceedsSnaplen = "caplen_exceeds_snaplen"
    /// Captured length above the original length (kept as is).
    case caplenExceedsOriglen = "caplen_exceeds_origlen"
    /// A packet block names an interface with no Interface Description Block (skipped).
    case unknownInterface = "unknown_interface"
    /// A packet block before any Interface Description Block in its section (skipped).
    case packetBeforeInterface = "packet_before_interface"
    /// Found the next plausible record after bytes that were not one; see `garbage_bytes`.
    case resynchronised
    /// Bytes skipped while resynchronising (counted per byte).
    case garbageBytes = "garbage_bytes"
    /// pcap sub-second field at or above one second (kept as is, as libpcap does).
    case timestampFractionOutOfRange = "timestamp_fraction_out_of_range"
    /// A timestamp beyond Int64 nanoseconds (year 2262): clamped.
    case timestampOverflow = "timestamp_overflow"
    /// if_tsresol above 10^-18 / 2^-63: the interface's timestamps are unusable (treated as microseconds).
    case badTimestampResolution = "bad_timestamp_resolution"
    /// The gzip or zstd stream is corrupt; reading stopped there.
    case decompressionError = "decompression_error"
    /// read(2) failed.
    case readError = "read_error"

    public static func < (a: CaptureAnomaly, b: CaptureAnomaly) -> Bool { a.rawValue < b.rawValue }

    /// Anomalies that mean the file is damaged (others are oddities of well-formed files).
    public var isDamage: Bool {
        switch self {
        case .caplenExceedsSnaplen, .caplenExceedsOriglen, .timestampFractionOutOfRange, .timestampOverflow,
             .garbageBytes, .unknownInterface, .packetBeforeInterface, .badTimestampResolution: false
        default: true
        }
    }
}

/// Counts by anomaly, in a fixed-size table (no allocation when counting on the hot path).
public struct CaptureAnomalies: Sendable, Equatable {
    @usableFromInline var counts = [Int](repeating: 0, count: CaptureAnomaly.allCases.count)

    public init() {}

    @inlinable public subscript(_ a: CaptureAnomaly) -> Int {
        get { counts[CaptureAnomaly.allCases.firstIndex(of: a)!] }
    }

    @usableFromInline mutating func add(_ a: CaptureAnomaly, _ n: Int = 1) {
        counts[CaptureAnomaly.allCases.firstIndex(of: a)!] &+= n
    }

    public var total: Int { counts.reduce(0, &+) }

    /// Non-zero counts, sorted by name (deterministic output).
    public var nonZero: [(CaptureAnomaly, Int)] {
        CaptureAnomaly.allCases.sorted().compactMap { self[$0] > 0 ? ($0, self[$0]) : nil }
    }
}

/// Limits, with the source that justifies each (DESIGN.md rule 5).
public enum CaptureLimits {
    /// libpcap's MAXIMUM_SNAPLEN (pcap-int.h): larger pcap captured lengths are corrupt headers.
    public static let maxPcapCapturedLength = 262_144
    /// libpcap's MAX_BLOCKSIZE for pcapng (sf-pcapng.c): larger blocks are corrupt.
    public static let maxBlockLength = 16 * 1024 * 1024
    /// Stream buffer: starts here, grows to hold one record, never beyond `maxStreamBuffer`.
    public static let initialStreamBuffer = 1 << 20
    public static let maxStreamBuffer = maxBlockLength + (1 << 16)
    /// Damage messages kept per file; later damage is still counted in the anomalies.
    public static let maxDamageMessages = 100
    /// Resynchronisation: a pcap record header is plausible only within this many seconds of
    /// the previous record (captures are in time order; a day covers clock steps).
    public static let resyncMaxTimeJumpSeconds: Int64 = 86_400
}
