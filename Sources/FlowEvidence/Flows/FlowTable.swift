// Bidirectional flows keyed by (addresses, ports, protocol), with idle timeouts and a bound on live
// flows (DESIGN.md: "FlowTable (bidirectional 5-tuple, idle eviction, bounded memory)").
//
// Each flow sits in one of three least-recently-active queues (established TCP, closing TCP,
// datagram); within a queue every flow has the same timeout, so the queue's head is always the next
// to expire and expiry costs O(1) per packet. The table is not reset between the files of a run:
// the caller feeds them in order of first timestamp and flows continue across them.
import WireBytes
import PacketDecode

/// Creates per-flow context and receives finalised flows.
public protocol FlowLifecycle {
    associatedtype Context
    /// `src` sent the flow's first packet.
    mutating func makeContext(key: FlowKey, src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16) -> Context
    mutating func flowEnded(_ flow: Flow<Context>, reason: FlowEndReason)
}

public struct FlowCounts: Sendable, Equatable {
    public var created = 0
    public var live = 0
    public var peakLive = 0
    /// Finalised flows by reason.
    public var ended: [FlowEndReason: Int] = [:]
    /// Packets whose timestamp was earlier than the latest already seen (merged or reordered captures).
    public var timestampRegressions = 0
    public init() {}
    public var evicted: Int { ended[.evicted, default: 0] }
    public var timedOut: Int { ended[.idleTimeout, default: 0] }
}

public struct FlowTable<Context> {
    /// Live flows kept at most (each costs a few hundred bytes plus its context). One million flows
    /// bounds memory at a few GiB in the worst case while covering a busy proxy's capture.
    public static var defaultMaxFlows: Int { 1_000_000 }

    public let timeouts: FlowTimeouts
    public let maxFlows: Int
    public private(set) var counts = FlowCounts()
    /// The latest packet timestamp seen: the table's clock.
    public private(set) var now: Timestamp? = nil

    private var flows: [FlowKey: Flow<Context>] = [:]
    private var queues = [FlowQueue<Context>](repeating: FlowQueue(), count: FlowQueueKind.allCases.count)
    private var nextID = 0

    public init(timeouts: FlowTimeouts = FlowTimeouts(), maxFlows: Int = FlowTable.defaultMaxFlows) {
        self.timeouts = timeouts
        self.maxFlows = max(1, maxFlows)
    }

    public var liveFlows: Int { flows.count }

    /// Moves the clock forward to `t`: tables that each hold some flows of one run keep the run's
    /// clock (FlowAnalyzerShards). Flows expire at the next `packet` or `expire`.
    public mutating func advanceClock(to t: Timestamp) {
        if now.map({ t > $0 }) ?? true { now = t }
    }

    /// Accounts one packet and returns its flow (created if needed) and whether its sender is the
    /// flow's `src`. Expires idle flows first, so a flow that went idle is finalised before a packet
    /// with the same key starts a new one. `tcpFlags` is nil for non-TCP packets.
    public mutating func packet<H: FlowLifecycle>(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16,
                                                 ipProtocol: UInt8, tcpFlags: TCPFlags?, payloadBytes: Int,
                                                 timestamp: Timestamp, frame: FrameRef,
                                                 handler: inout H) -> (flow: Flow<Context>, fromSrc: Bool) where H.Context == Context {
        if let n = now, timestamp < n { counts.timestampRegressions += 1 } else { now = timestamp }
        expire(handler: &handler)

        let (key, _) = FlowKey.of(src: src, srcPort: srcPort, dst: dst, dstPort: dstPort, ipProtocol: ipProtocol)
        var flow = flows[key]
        if let old = flow, let f = tcpFlags, f.contains(.syn), !f.contains(.ack), old.isClosing {
            // A new connection reusing the ports of a closed one.
            end(old, reason: .closed, handler: &handler)
            flow = nil
        }
        if flow == nil {
            if flows.count >= maxFlows { evictOne(handler: &handler) }
            let queue: FlowQueueKind = ipProtocol == IPProtocolNumber.tcp ? .tcpEstablished : .datagram
            let f = Flow(id: nextID, key: key, src: src, srcPort: srcPort, dst: dst, dstPort: dstPort,
                         timestamp: timestamp, frame: frame, queue: queue,
                         context: handler.makeContext(key: key, src: src, srcPort: srcPort, dst: dst, dstPort: dstPort))
            nextID += 1
            flows[key] = f
            queues[queue.rawValue].append(f)
            counts.created += 1
            counts.live = flows.count
            counts.peakLive = max(counts.peakLive, counts.live)
            flow = f
        }
        let f = flow!
        let fromSrc = f.src == src && f.srcPort == srcPort
        if fromSrc { f.packetsFromSrc += 1; f.bytesFromSrc += Int64(payloadBytes) } else { f.packetsFromDst += 1; f.bytesFromDst += Int64(payloadBytes) }
        if timestamp > f.lastSeen { f.lastSeen = timestamp }
        if frame > f.lastFrame { f.lastFrame = frame }
        if let flags = tcpFlags {
            if flags.contains(.syn) { f.sawSYN = true }
            if flags.contains(.rst) { f.sawRST = true }
            if flags.contains(.fin) { if fromSrc { f.finFromSrc = true } else { f.finFromDst = true } }
        }
        let target: FlowQueueKind = f.queue == .datagram ? .datagram : (f.isClosing ? .tcpClosing : .tcpEstablished)
        queues[f.queue.rawValue].remove(f)
        f.queue = target
        queues[target.rawValue].append(f)
        return (f, fromSrc)
    }

    /// Finalises every live flow (end of input), in creation order.
    public mutating func finish<H: FlowLifecycle>(handler: inout H) where H.Context == Context {
        for f in flows.values.sorted(by: { $0.id < $1.id }) { end(f, reason: .endOfInput, handler: &handler) }
    }

    /// Finalises flows idle longer than their timeout at the table's clock.
    public mutating func expire<H: FlowLifecycle>(handler: inout H) where H.Context == Context {
        guard let now else { return }
        for raw in 0..<queues.count {   // not `allCases`: that builds an array on every packet
            let kind = FlowQueueKind(rawValue: raw)!
            let limit = timeouts.nanoseconds(kind)
            while let oldest = queues[kind.rawValue].oldest, now.nanoseconds &- oldest.lastSeen.nanoseconds > limit {
                end(oldest, reason: kind == .tcpClosing ? .closed : .idleTimeout, handler: &handler)
            }
        }
    }

    /// Makes room for one flow: a closing TCP flow first, else the least recently active one.
    private mutating func evictOne<H: FlowLifecycle>(handler: inout H) where H.Context == Context {
        var victim = queues[FlowQueueKind.tcpClosing.rawValue].oldest
        if victim == nil {
            for kind in [FlowQueueKind.tcpEstablished, .datagram] {
                guard let c = queues[kind.rawValue].oldest else { continue }
                if let v = victim, (v.lastSeen, v.id) <= (c.lastSeen, c.id) { continue }
                victim = c
            }
        }
        if let v = victim { end(v, reason: .evicted, handler: &handler) }
    }

    private mutating func end<H: FlowLifecycle>(_ flow: Flow<Context>, reason: FlowEndReason, handler: inout H) where H.Context == Context {
        queues[flow.queue.rawValue].remove(flow)
        flows[flow.key] = nil
        counts.live = flows.count
        counts.ended[reason, default: 0] += 1
        handler.flowEnded(flow, reason: reason)
    }
}

/// Flows of one timeout class, least recently active first (intrusive list: no allocation).
struct FlowQueue<Context> {
    unowned(unsafe) var oldest: Flow<Context>? = nil
    unowned(unsafe) var newest: Flow<Context>? = nil

    mutating func append(_ f: Flow<Context>) {
        f.older = newest
        f.newer = nil
        if let n = newest { n.newer = f } else { oldest = f }
        newest = f
    }

    mutating func remove(_ f: Flow<Context>) {
        if let o = f.older { o.newer = f.newer } else { oldest = f.newer }
        if let n = f.newer { n.older = f.older } else { newest = f.older }
        f.older = nil
        f.newer = nil
    }
}
