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

public struct Flow<Context> {
    /// Creation order in the run, from 0: stable across runs, used for deterministic tie-breaks.
    public let id: Int
    public let key: FlowKey
    /// Whether `src` (the side that sent the first packet seen, DESIGN.md flow contract) is `key.a`.
    let srcIsA: Bool
    public var src: IPAddress { srcIsA ? key.a : key.b }
    public var srcPort: UInt16 { srcIsA ? key.aPort : key.bPort }
    public var dst: IPAddress { srcIsA ? key.b : key.a }
    public var dstPort: UInt16 { srcIsA ? key.bPort : key.aPort }
    public var ipProtocol: UInt8 { key.proto }
    public let firstSeen: Timestamp
    public internal(set) var lastSeen: Timestamp
    public let firstFrame: FrameRef
    public internal(set) var lastFrame: FrameRef
    public internal(set) var packetsFromSrc = 0, packetsFromDst = 0
    /// Transport payload bytes per direction, as the IP/UDP length fields announce them (snap-length cuts included).
    public internal(set) var bytesFromSrc: Int64 = 0, bytesFromDst: Int64 = 0
    public internal(set) var sawSYN = false
    public internal(set) var finFromSrc = false, finFromDst = false, sawRST = false
    /// The caller's mark (FlowTable.markSettled).
    public internal(set) var settled = false
    public var context: Context

    init(id: Int, key: FlowKey, srcIsA: Bool, timestamp: Timestamp, frame: FrameRef, context: Context) {
        self.id = id; self.key = key; self.srcIsA = srcIsA
        self.firstSeen = timestamp; self.lastSeen = timestamp; self.firstFrame = frame; self.lastFrame = frame
        self.context = context
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
