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
    static let aIsV6 = FlowFlags(rawValue: 64), bIsV6 = FlowFlags(rawValue: 128)
}

public struct Flow<Context> {
    // 112 bytes, a million live records (issue 6): the key's fields without its padding (its
    // addresses' families are flags), the flags in one byte, the id and the packet counts in 48 bits
    // each (split in 16 + 32 to fill the bytes before the 8-byte fields), frame references packed in
    // 8 bytes each.
    private let aHi: UInt64, aLo: UInt64, bHi: UInt64, bLo: UInt64
    private let aPort: UInt16, bPort: UInt16
    private let proto: UInt8
    private var flags: FlowFlags
    private let idHigh: UInt16
    private let idLow: UInt32
    private var srcPacketsLow: UInt32 = 0, dstPacketsLow: UInt32 = 0
    private var srcPacketsHigh: UInt16 = 0, dstPacketsHigh: UInt16 = 0
    public let firstSeen: Timestamp
    public internal(set) var lastSeen: Timestamp
    private let firstFramePacked: UInt64
    private var lastFramePacked: UInt64
    /// Transport payload bytes per direction, as the IP/UDP length fields announce them (snap-length cuts included).
    public internal(set) var bytesFromSrc: Int64 = 0, bytesFromDst: Int64 = 0
    public var context: Context

    @inline(__always) private func flag(_ f: FlowFlags) -> Bool { flags.contains(f) }
    @inline(__always) private mutating func setFlag(_ f: FlowFlags, _ on: Bool) {
        if on { flags.insert(f) } else { flags.remove(f) }
    }

    /// Creation order in the table, from its first id (0, or its shard's, FlowTable.firstID): stable across
    /// runs, used for deterministic tie-breaks.
    public var id: Int { Int(idHigh) << 32 | Int(idLow) }
    public internal(set) var packetsFromSrc: Int {
        get { Int(srcPacketsHigh) << 32 | Int(srcPacketsLow) }
        set { (srcPacketsHigh, srcPacketsLow) = Self.split48(newValue) }
    }
    public internal(set) var packetsFromDst: Int {
        get { Int(dstPacketsHigh) << 32 | Int(dstPacketsLow) }
        set { (dstPacketsHigh, dstPacketsLow) = Self.split48(newValue) }
    }

    /// Flows of a run and packets of a flow direction are counted in 48 bits: 2^48 is more than
    /// any capture holds (at 100 million packets a second, a month of one flow).
    public static var maxCount: Int { (1 << 48) - 1 }
    @inline(__always) private static func split48(_ v: Int) -> (UInt16, UInt32) {
        precondition(UInt(bitPattern: v) <= UInt(maxCount), "count beyond Flow.maxCount")   // negatives too
        return (UInt16(truncatingIfNeeded: v >> 32), UInt32(truncatingIfNeeded: v))
    }

    /// One more packet from `src` (or `dst`): the 48-bit count without splitting it again.
    @inline(__always) mutating func countPacket(fromSrc: Bool) {
        if fromSrc {
            srcPacketsLow &+= 1
            if srcPacketsLow == 0 { srcPacketsHigh += 1 }   // traps past Flow.maxCount, as the setter does
        } else {
            dstPacketsLow &+= 1
            if dstPacketsLow == 0 { dstPacketsHigh += 1 }
        }
    }

    /// Moves `lastFrame` forward to `frame` when it is later (packed references sort as FrameRefs do).
    @inline(__always) mutating func noteFrame(_ frame: FrameRef) {
        let p = Self.pack(frame)
        if p > lastFramePacked { lastFramePacked = p }
    }

    public var key: FlowKey {
        FlowKey(a: IPAddress(hi: aHi, lo: aLo, isV6: flag(.aIsV6)), aPort: aPort, b: IPAddress(hi: bHi, lo: bLo, isV6: flag(.bIsV6)), bPort: bPort, proto: proto)
    }
    /// Whether this record is the flow of `k`, compared on the stored fields (building `key` first
    /// costs a copy per lookup).
    @inline(__always) func has(key k: FlowKey) -> Bool {
        aLo == k.a.lo && bLo == k.b.lo && aPort == k.aPort && bPort == k.bPort && aHi == k.a.hi && bHi == k.b.hi
            && proto == k.proto && flag(.aIsV6) == k.a.isV6 && flag(.bIsV6) == k.b.isV6
    }

    /// Whether `src` (the side that sent the first packet seen, DESIGN.md flow contract) is `key.a`.
    var srcIsA: Bool { flag(.srcIsA) }
    public var src: IPAddress { srcIsA ? IPAddress(hi: aHi, lo: aLo, isV6: flag(.aIsV6)) : IPAddress(hi: bHi, lo: bLo, isV6: flag(.bIsV6)) }
    public var srcPort: UInt16 { srcIsA ? aPort : bPort }
    public var dst: IPAddress { srcIsA ? IPAddress(hi: bHi, lo: bLo, isV6: flag(.bIsV6)) : IPAddress(hi: aHi, lo: aLo, isV6: flag(.aIsV6)) }
    public var dstPort: UInt16 { srcIsA ? bPort : aPort }
    public var ipProtocol: UInt8 { proto }
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
        (idHigh, idLow) = Self.split48(id)
        aHi = key.a.hi; aLo = key.a.lo; bHi = key.b.hi; bLo = key.b.lo; aPort = key.aPort; bPort = key.bPort; proto = key.proto
        var flags: FlowFlags = srcIsA ? .srcIsA : []
        if key.a.isV6 { flags.insert(.aIsV6) }
        if key.b.isV6 { flags.insert(.bIsV6) }
        self.flags = flags
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
        precondition(UInt(bitPattern: f.frame) <= UInt(maxFrameNumber) && UInt(bitPattern: f.captureIndex) <= UInt(maxCaptureIndex),
                     "frame reference beyond Flow.maxFrameNumber or Flow.maxCaptureIndex")   // negatives too
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
        proto != IPProtocolNumber.tcp ? .datagram : (isClosing ? .tcpClosing : .tcpEstablished)
    }
}
