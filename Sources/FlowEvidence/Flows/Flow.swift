// One bidirectional flow: what the flow table knows about it, plus the caller's per-flow context
// (stream reassemblers, classifiers, evidence state). A class so that a flow is allocated once, when
// it is created, and per-packet updates touch it in place.
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

public final class Flow<Context> {
    /// Creation order in the run, from 0: stable across runs, used for deterministic tie-breaks.
    public let id: Int
    public let key: FlowKey
    /// `src` sent the first packet seen (DESIGN.md flow contract).
    public let src: IPAddress, srcPort: UInt16
    public let dst: IPAddress, dstPort: UInt16
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
    public var context: Context

    // The least-recently-active queue this flow is in (intrusive doubly linked list).
    var queue: FlowQueueKind
    // Unowned: the table's dictionary owns every listed flow, and a flow leaves both together.
    unowned(unsafe) var older: Flow?
    unowned(unsafe) var newer: Flow?

    init(id: Int, key: FlowKey, src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16,
         timestamp: Timestamp, frame: FrameRef, queue: FlowQueueKind, context: Context) {
        self.id = id; self.key = key; self.src = src; self.srcPort = srcPort; self.dst = dst; self.dstPort = dstPort
        self.firstSeen = timestamp; self.lastSeen = timestamp; self.firstFrame = frame; self.lastFrame = frame
        self.queue = queue; self.context = context
    }

    public var packets: Int { packetsFromSrc + packetsFromDst }
    public var bytes: Int64 { bytesFromSrc + bytesFromDst }
    /// TCP saw a RST or a FIN: only the last segments are still expected.
    public var isClosing: Bool { sawRST || finFromSrc || finFromDst }
}
