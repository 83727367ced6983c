// One bidirectional flow: what the flow table knows about it, plus the caller's per-flow context
// (stream reassemblers, classifiers, evidence state). A value stored in the table's record array, so
// that per-packet updates touch one contiguous record and no reference counting happens per packet.
import WireBytes
import PacketDecode

/// Why a flow was finalised.
public enum FlowEndReason: String, Sendable, CaseIterable {
    /// TCP closed by FIN or RST, then idle for the closing timeout (or replaced by a new SYN).
    case closed
    /// No packet for the idle timeout of its kind.
    case idleTimeout = "idle_timeout"
    /// The table was full and this flow made room for a new one.
    case evicted
    /// The input ended while the flow was live.
    case endOfInput = "end_of_input"
}

/// A flow's booleans in one byte.
struct FlowFlags: OptionSet {
    let rawValue: UInt8
    static let srcIsA = FlowFlags(rawValue: 1), sawSYN = FlowFlags(rawValue: 2), finFromSrc = FlowFlags(rawValue: 4)
    static let finFromDst = FlowFlags(rawValue: 8), sawRST = FlowFlags(rawValue: 16), settled = FlowFlags(rawValue: 32)
}

public struct Flow<Context> {
    // Stored properties in an order without padding (a million live records, issue 6): the key's
    // 45 bytes, then the flags byte, then 8-byte fields; frame references packed in 8 bytes each.
    public let key: FlowKey
    private var flags: FlowFlags
    /// Creation order in the run, from 0: stable across runs, used for deterministic tie-breaks.
    public let id: Int
    public let firstSeen: Timestamp
    public internal(set) var lastSeen: Timestamp
    private let firstFramePacked: UInt64
    private var lastFramePacked: UInt64
    public internal(set) var packetsFromSrc = 0, packetsFromDst = 0
    /// Transport payload bytes per direction, as the IP/UDP length fields announce them (snap-length cuts included).
    public internal(set) var bytesFromSrc: Int64 = 0, bytesFromDst: Int64 = 0
    public var context: Context

    @inline(__always) private func flag(_ f: FlowFlags) -> Bool { flags.contains(f) }
    @inline(__always) private mutating func setFlag(_ f: FlowFlags, _ on: Bool) {
        if on { flags.insert(f) } else { flags.remove(f) }
    }

    /// Whether `src` (the side that sent the first packet seen, DESIGN.md flow contract) is `key.a`.
    var srcIsA: Bool { flag(.srcIsA) }
    public var src: IPAddress { srcIsA ? key.a : key.b }
    public var srcPort: UInt16 { srcIsA ? key.aPort : key.bPort }
    public var dst: IPAddress { srcIsA ? key.b : key.a }
    public var dstPort: UInt16 { srcIsA ? key.bPort : key.aPort }
    public var ipProtocol: UInt8 { key.proto }
    public var firstFrame: FrameRef { Self.unpack(firstFramePacked) }
    public internal(set) var lastFrame: FrameRef {
        get { Self.unpack(lastFramePacked) }
        set { lastFramePacked = Self.pack(newValue) }
    }
    public internal(set) var sawSYN: Bool { get { flag(.sawSYN) } set { setFlag(.sawSYN, newValue) } }
    public internal(set) var finFromSrc: Bool { get { flag(.finFromSrc) } set { setFlag(.finFromSrc, newValue) } }
    public internal(set) var finFromDst: Bool { get { flag(.finFromDst) } set { setFlag(.finFromDst, newValue) } }
    public internal(set) var sawRST: Bool { get { flag(.sawRST) } set { setFlag(.sawRST, newValue) } }
    /// The caller's mark (FlowTable.markSettled).
    public internal(set) var settled: Bool { get { flag(.settled) } set { setFlag(.settled, newValue) } }

    init(id: Int, key: FlowKey, srcIsA: Bool, timestamp: Timestamp, frame: FrameRef, context: Context) {
        self.id = id; self.key = key; self.flags = srcIsA ? .srcIsA : []
        self.firstSeen = timestamp; self.lastSeen = timestamp
        self.firstFramePacked = Self.pack(frame); self.lastFramePacked = firstFramePacked
        self.context = context
    }

    /// Frame references as stored in a flow record: the capture's index in the run above its frame
    /// number. 2^40 frames need a capture of at least 16 TiB (a 16-byte record header per frame,
    /// pcap and pcapng alike); 2^24 captures is more files than a run of torscan is given.
    public static var maxFrameNumber: Int { (1 << 40) - 1 }
    public static var maxCaptureIndex: Int { (1 << 24) - 1 }

    @inline(__always) static func pack(_ f: FrameRef) -> UInt64 {
        precondition(f.frame >= 0 && f.frame <= maxFrameNumber && f.captureIndex >= 0 && f.captureIndex <= maxCaptureIndex,
                     "frame reference beyond Flow.maxFrameNumber or Flow.maxCaptureIndex")
        return UInt64(f.captureIndex) << 40 | UInt64(f.frame)
    }
    @inline(__always) static func unpack(_ p: UInt64) -> FrameRef {
        FrameRef(captureIndex: Int(p >> 40), frame: Int(p & ((1 << 40) - 1)))
    }

    public var packets: Int { packetsFromSrc + packetsFromDst }
    public var bytes: Int64 { bytesFromSrc + bytesFromDst }
    /// TCP saw a RST or a FIN: only the last segments are still expected.
    public var isClosing: Bool { sawRST || finFromSrc || finFromDst }
    /// The idle-timeout class the flow is in now.
    var timeoutKind: FlowQueueKind {
        key.proto != IPProtocolNumber.tcp ? .datagram : (isClosing ? .tcpClosing : .tcpEstablished)
    }
}
