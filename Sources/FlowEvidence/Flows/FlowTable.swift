// Bidirectional flows keyed by (addresses, ports, protocol), with idle timeouts and a bound on live
// flows (DESIGN.md: "FlowTable (bidirectional 5-tuple, idle eviction, bounded memory)").
//
// When a flow ends is decided by its own packets and the run's clock only: a packet whose flow has
// been idle longer than its timeout (300 s established TCP, 30 s after FIN/RST, 120 s UDP) ends that
// flow and starts a new one; at the end of input a flow counts as timed out when the last clock is
// past its timeout; and when the run's clock goes back (a file that begins before it), every flow
// idle at the clock before is ended first (`restartClock`). So flow splitting and end reasons do not
// depend on which other flows share the table, and N tables of a sharded run give what one table
// gives (FlowAnalyzerShards).
//
// Memory: idle flows are swept from three FIFO timer queues (established TCP, closing TCP, datagram;
// TimerQueue.swift), one entry per flow, queued with the clock at the time. The sweep looks at queue
// heads only, so a packet costs no list surgery; a flow active since it was queued waits in a timer
// wheel (TimerWheel.swift) for the second it will have been idle for its timeout, so an idle flow
// leaves memory within about a second of its expiry. Records live in chunks of values (no
// per-packet reference counting); FlowIndex maps keys to slots.
//
// The table is not reset between the files of a run: the caller feeds them in order of first
// timestamp and flows continue across them.
import WireBytes
import PacketDecode
import CPrefetch

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
    /// The most flows this table held at once (idle flows stay until a sweep): memory, not a
    /// report's figure, as N tables' peaks differ from one table's (the reports use `open`).
    public var peakLive = 0
    /// When each flow was open (OpenFlowPeak): the reports' `peak_live_flows`, the same for any split.
    public var open = OpenFlowPeak()
    /// Finalised flows by reason.
    public var ended: [FlowEndReason: Int] = [:]
    /// Packets whose timestamp was earlier than the latest already seen (merged or reordered captures).
    public var timestampRegressions = 0
    public init() {}
    public var evicted: Int { ended[.evicted, default: 0] }
    public var timedOut: Int { ended[.idleTimeout, default: 0] }
}

/// What `FlowTable.packet` tells the caller about the packet's flow. The context is fetched apart
/// (`context(of:)`): a caller that marked the flow settled does not touch it (one cache miss less).
public struct FlowPacket {
    public let id: Int
    /// Packets of the flow so far, this one included (1: the packet created the flow).
    public let packets: Int
    /// Whether the packet's sender is the flow's `src`.
    public let fromSrc: Bool
    /// Set by the caller with `markSettled`: its context needs no more packets.
    public let settled: Bool
    let slot: Int
}

public final class FlowTable<Context> {
    /// Live flows kept at most. At about 200 bytes per flow in the table plus the context a flow
    /// still needs, a million flows fit in a few hundred MB.
    public static var defaultMaxFlows: Int { 1_000_000 }

    public let timeouts: FlowTimeouts
    /// The table's limit on live flows: the run's (`--max-flows`); with a shared `budget`, the sum
    /// over the tables sharing it is bounded too.
    public let maxFlows: Int
    private let budget: FlowBudget?
    /// The live count this table last added to `budget`.
    private var publishedLive = 0
    public var counts: FlowCounts {
        var c = tally
        for reason in FlowEndReason.allCases where endedByReason[reason.index] > 0 { c.ended[reason] = endedByReason[reason.index] }
        return c
    }
    private var tally = FlowCounts()
    /// Ended flows by `FlowEndReason.index`: an array, not FlowCounts' dictionary, as a flow
    /// ends (no hashing per flow).
    private var endedByReason = [Int](repeating: 0, count: FlowEndReason.allCases.count)
    /// The latest packet timestamp seen: the table's clock.
    public private(set) var now: Timestamp? = nil

    /// Flow records by slot (FlowRecords.swift), initialised where `occupied`; free slots are listed in `freeSlots`.
    /// Raw storage so that a packet updates its record in place (an array of optionals copied the
    /// record through generic value witnesses: 15% of the run's time in perf).
    private var records = FlowRecords<Context>()
    private var occupied: [Bool] = []
    /// Bumped when a slot is freed, so that timer entries of an ended flow are recognised as stale.
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []
    private var index = FlowIndex(expected: FlowTable.initialCapacity)
    private var timers = [TimerQueue<TimerEntry>](repeating: TimerQueue(), count: FlowQueueKind.allCases.count)
    /// Flows found active at the head of their queue, by the second they will have been idle for
    /// their timeout (TimerWheel.swift).
    private var wheel = TimerWheel()
    private var nextID = 0
    /// The clock at the last sweep. Sweeping at most every `sweepInterval` of capture time (not at
    /// every packet: 4% of a run in perf) changes no flow's end: a packet of an idle flow ends it
    /// itself, and `finish` names the reason from the clock; idle flows only leave memory a little later.
    private var lastSweep = Int64.min
    static var sweepInterval: Int64 { 100_000_000 }   // 100 ms
    /// How many timer entries ahead the sweep asks for a record (`sweep`).
    static var sweepLookahead: Int { 4 }

    private struct TimerEntry {
        var queuedAt: Int64
        var slot: Int32
        var generation: UInt32
    }

    public init(timeouts: FlowTimeouts = FlowTimeouts(), maxFlows: Int = FlowTable.defaultMaxFlows, budget: FlowBudget? = nil,
                firstID: Int = 0) {
        self.timeouts = timeouts
        self.maxFlows = max(1, maxFlows)
        self.budget = budget
        self.firstID = firstID
        nextID = firstID
    }

    /// The id of the table's first flow (FlowTable.firstID(shard:)).
    public let firstID: Int

    /// Flow ids of shard `k`: from k * 2^36 (Flow keeps 48 bits: 4,096 shards of 2^36 flows each).
    public static func firstID(shard k: Int) -> Int {
        precondition(k >= 0 && k < 1 << 12, "FlowTable: at most 4,096 shards")
        return k << 36
    }

    /// The index's first size (it doubles as flows come): small, as a run with threads has 8 tables
    /// per thread (Pipeline), most of them holding a few flows in a short capture.
    static var initialCapacity: Int { 64 }

    deinit {
        for s in occupied.indices where occupied[s] { records.pointer(s).deinitialize(count: 1) }
        records.deallocate()
    }

    public var liveFlows: Int { index.count }

    /// The live flow with this id (tests and diagnostics; a linear search).
    public func flow(id: Int) -> Flow<Context>? {
        occupied.indices.lazy.filter { self.occupied[$0] }.map { self.records[$0] }.first { $0.id == id }
    }

    /// Sets the clock to the run's clock `t` (FlowAnalyzerShards; the pipeline restarts it when a
    /// file begins before it). Idle flows are swept at the next `packet` or `expire`.
    public func setClock(_ t: Timestamp) {
        now = t
    }

    /// Accounts one packet and returns its flow (created if needed). A flow idle past its timeout
    /// ends first, so the packet starts a new flow with the same key. `tcpFlags` is nil for non-TCP packets.
    ///
    /// Inlined into `packet(_:payloadBytes:timestamp:frame:handler:)`, the per-packet caller's entry.
    @inline(__always)
    public func packet<H: FlowLifecycle>(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16,
                                                 ipProtocol: UInt8, tcpFlags: TCPFlags?, payloadBytes: Int,
                                                 timestamp: Timestamp, frame: FrameRef,
                                                 handler: inout H) -> FlowPacket where H.Context == Context {
        if let n = now, timestamp < n { tally.timestampRegressions += 1 } else { now = timestamp }
        let clock = now!.nanoseconds
        if lastSweep <= clock &- Self.sweepInterval || clock < lastSweep {
            sweep(clock: clock, handler: &handler)
            lastSweep = clock
        }

        let (key, srcIsA) = FlowKey.of(src: src, srcPort: srcPort, dst: dst, dstPort: dstPort, ipProtocol: ipProtocol)
        let tag = index.hash(key)
        var slot = index.find(tag: tag) { self.records[$0].has(key: key) }
        if let s = slot {
            let r = records.pointer(s)   // one address computation for the record's fields below
            let closing = r.pointee.isClosing
            if clock &- r.pointee.lastSeen.nanoseconds > timeouts.nanoseconds(r.pointee.timeoutKind) {
                endIdle(slot: s, handler: &handler)
                slot = nil
            } else if let f = tcpFlags, f.contains(.syn), !f.contains(.ack), closing {
                // A new connection reusing the ports of a closed one.
                end(slot: s, reason: .closed, openUntil: clock, handler: &handler)
                slot = nil
            }
        }
        let s: Int
        if let found = slot {
            s = found
        } else {
            if index.count >= maxFlows || (budget.map { $0.total >= $0.limit } ?? false) { evictOne(clock: clock, handler: &handler) }
            s = create(key: key, tag: tag, srcIsA: srcIsA, src: src, srcPort: srcPort, dst: dst, dstPort: dstPort,
                       timestamp: timestamp, frame: frame, clock: clock, handler: &handler)
        }
        return update(slot: s, srcIsA: srcIsA, tcpFlags: tcpFlags, payloadBytes: payloadBytes, timestamp: timestamp,
                      frame: frame, clock: clock)
    }

    // Prefetching (issue 6). A packet's lookup waits for two cache misses, its index bucket and then
    // its record, and a packet's work is too long for the processor to reach the next packets' misses
    // on its own: with the flows of the benchmark capture in a table, each packet waited for both.
    // So the caller (PrefetchRing, in TorscanCore) asks for the bucket of a flow some packets before
    // its packet is processed, and for its record half as many packets later, when the bucket has
    // arrived. Neither step changes anything but timing.

    /// Step one: asks for the index bucket of the flow of an Ethernet frame's bytes and returns the
    /// flow's tag, or nil when the frame gives no hint (FlowHint).
    @inline(__always)
    public func prefetchBucket(ethernetFrame frame: UnsafeRawBufferPointer) -> UInt32? {
        if let h = FlowHint.ethernetIPv4(frame) { return prefetchBucket(h) }
        guard let h = FlowHint.ethernetIPv6(frame) else { return nil }
        return prefetchBucket(src: h.src, srcPort: h.srcPort, dst: h.dst, dstPort: h.dstPort, ipProtocol: h.ipProtocol)
    }

    /// Step one for an IPv4 hint.
    @inline(__always)
    public func prefetchBucket(_ h: FlowHint) -> UInt32 {
        // The flow key's order (FlowKey.of): the lower address first, or the lower port.
        let tag = h.src < h.dst || (h.src == h.dst && h.srcPort <= h.dstPort)
            ? index.hashIPv4(a: h.src, aPort: h.srcPort, b: h.dst, bPort: h.dstPort, proto: h.ipProtocol)
            : index.hashIPv4(a: h.dst, aPort: h.dstPort, b: h.src, bPort: h.srcPort, proto: h.ipProtocol)
        index.prefetchBucket(tag: tag)
        return tag
    }

    /// Step one for a packet's endpoints as sent (an IPv6 hint, or a worker's decoded packet).
    @inline(__always)
    public func prefetchBucket(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16, ipProtocol: UInt8) -> UInt32 {
        let tag = index.hash(FlowKey.of(src: src, srcPort: srcPort, dst: dst, dstPort: dstPort, ipProtocol: ipProtocol).key)
        index.prefetchBucket(tag: tag)
        return tag
    }

    /// The tag a lookup of `key` uses (tests: a prefetch must ask for the lookup's bucket).
    func lookupTag(_ key: FlowKey) -> UInt32 { index.hash(key) }

    /// The slot whose record step two asks for after a hint with `tag`, nil when none (tests).
    func prefetchedSlot(tag: UInt32) -> Int? { index.likelySlot(tag: tag) }

    /// The slot of the live flow with `key` (tests).
    func slot(of key: FlowKey) -> Int? { index.find(tag: index.hash(key)) { self.records[$0].has(key: key) } }

    /// Step two: asks for the record of the flow whose bucket step one asked for (by its tag), if
    /// the bucket names one.
    @inline(__always)
    public func prefetchRecord(tag: UInt32) {
        guard let s = index.likelySlot(tag: tag) else { return }
        prefetchRecord(slot: s)
    }

    /// Asks for the record in slot `s` (any slot ever used: its memory stays mapped).
    @inline(__always) private func prefetchRecord(slot s: Int) {
        let r = UnsafeRawPointer(records.pointer(s))
        torscan_prefetch(r)
        torscan_prefetch(r + 64)   // a 112-byte record spans two or three lines
    }

    /// `packet(src:...)` for a decoded packet, passed by reference: the pipeline's call. Passing its
    /// fields one by one (two addresses, ports, flags, ...) took 51 instructions a packet at the call.
    @inline(never)
    public func packet<H: FlowLifecycle>(_ p: borrowing DecodedPacket, payloadBytes: Int, timestamp: Timestamp, frame: FrameRef,
                                         handler: inout H) -> FlowPacket where H.Context == Context {
        packet(src: p.src, srcPort: p.srcPort, dst: p.dst, dstPort: p.dstPort, ipProtocol: p.ipProtocol, tcpFlags: p.tcp?.flags,
               payloadBytes: payloadBytes, timestamp: timestamp, frame: frame, handler: &handler)
    }

    @inline(__always)
    private func update(slot s: Int, srcIsA: Bool, tcpFlags: TCPFlags?, payloadBytes: Int, timestamp: Timestamp,
                                 frame: FrameRef, clock: Int64) -> FlowPacket {
        // Mutated in place through one pointer: no copy of the record, no retain of its context, and
        // the record's address computed once (through `records[s]`, each field access computed it).
        let r = records.pointer(s)
        let fromSrc = r.pointee.srcIsA == srcIsA
        let wasClosing = r.pointee.isClosing
        r.pointee.countPacket(fromSrc: fromSrc)
        if fromSrc { r.pointee.bytesFromSrc += Int64(payloadBytes) } else { r.pointee.bytesFromDst += Int64(payloadBytes) }
        if timestamp > r.pointee.lastSeen { r.pointee.lastSeen = timestamp }
        r.pointee.noteFrame(frame)
        if let flags = tcpFlags {
            if flags.contains(.syn) { r.pointee.sawSYN = true }
            if flags.contains(.rst) { r.pointee.sawRST = true }
            if flags.contains(.fin) { if fromSrc { r.pointee.finFromSrc = true } else { r.pointee.finFromDst = true } }
            if !wasClosing, r.pointee.isClosing { enqueue(slot: s, kind: .tcpClosing, clock: clock) }
        }
        return FlowPacket(id: r.pointee.id, packets: r.pointee.packets, fromSrc: fromSrc, settled: r.pointee.settled, slot: s)
    }

    private func create<H: FlowLifecycle>(key: FlowKey, tag: UInt32, srcIsA: Bool, src: IPAddress, srcPort: UInt16,
                                                   dst: IPAddress, dstPort: UInt16, timestamp: Timestamp, frame: FrameRef,
                                                   clock: Int64, handler: inout H) -> Int where H.Context == Context {
        let flow = Flow(id: nextID, key: key, srcIsA: srcIsA, timestamp: timestamp, frame: frame,
                        context: handler.makeContext(key: key, src: src, srcPort: srcPort, dst: dst, dstPort: dstPort))
        nextID += 1
        let s: Int
        if let free = freeSlots.popLast() {
            s = free
        } else {
            s = occupied.count
            records.reserve(slot: s)
            occupied.append(false)
            generations.append(0)
        }
        records.pointer(s).initialize(to: flow)
        occupied[s] = true
        index.insert(tag: tag, slot: s)
        enqueue(slot: s, kind: flow.timeoutKind, clock: clock)
        tally.created += 1
        tally.live = index.count
        tally.peakLive = max(tally.peakLive, tally.live)
        publishLive()
        return s
    }

    /// Adds the change of the live count to the shared budget once it reaches the budget's step.
    @inline(__always) private func publishLive() {
        guard let b = budget else { return }
        let change = index.count - publishedLive
        if change >= b.step || change <= -b.step {
            b.add(change)
            publishedLive = index.count
        }
    }

    private func enqueue(slot: Int, kind: FlowQueueKind, clock: Int64) {
        timers[kind.rawValue].append(TimerEntry(queuedAt: clock, slot: Int32(slot), generation: generations[slot]))
    }

    /// The context of the flow a `packet` call just returned (valid until the next call).
    public func context(of p: FlowPacket) -> Context { records[p.slot].context }

    /// Replaces the context of the flow a `packet` call just returned.
    public func replaceContext(of p: FlowPacket, with context: Context) { records[p.slot].context = context }

    /// The caller needs no more packets of this flow: later `packet` calls say `settled`.
    public func markSettled(_ p: FlowPacket) { records[p.slot].settled = true }

    /// Finalises every live flow (end of input), in creation order: timed out when the clock is
    /// past the flow's timeout, else `endOfInput`.
    public func finish<H: FlowLifecycle>(handler: inout H) where H.Context == Context {
        let clock = now?.nanoseconds ?? 0
        for slot in liveSlotsInCreationOrder() {
            let s = Int(slot)
            if isIdle(slot: s, at: clock) { endIdle(slot: s, handler: &handler) } else { end(slot: s, reason: .endOfInput, openUntil: clock &+ 1, handler: &handler) }
        }
    }

    /// The live flows' slots, by creation (flow id). 32-bit slots sorted in place: with a million live
    /// flows this list is the run's peak of memory.
    private func liveSlotsInCreationOrder() -> [UInt32] {
        var live: [UInt32] = []
        live.reserveCapacity(index.count)
        for s in occupied.indices where occupied[s] { live.append(UInt32(s)) }
        live.sort { records[Int($0)].id < records[Int($1)].id }
        return live
    }

    /// Whether the flow in slot `s` has been idle longer than its timeout at `clock`.
    @inline(__always) private func isIdle(slot s: Int, at clock: Int64) -> Bool {
        clock &- records[s].lastSeen.nanoseconds > timeouts.nanoseconds(records[s].timeoutKind)
    }

    /// Ends an idle flow: closed if it was closing, else timed out, open until its timeout passed.
    private func endIdle<H: FlowLifecycle>(slot s: Int, handler: inout H) where H.Context == Context {
        end(slot: s, reason: records[s].isClosing ? .closed : .idleTimeout, openUntil: idleSince(slot: s), handler: &handler)
    }

    /// Empty timer queues and wheel.
    private func resetTimers() {
        timers = [TimerQueue<TimerEntry>](repeating: TimerQueue(), count: FlowQueueKind.allCases.count)
        wheel = TimerWheel()
    }

    /// Gives back the flows' storage once none is live (after `finish`), keeping the counts: the end
    /// of the run (linking, evidence rows, reports) then does not add to a table sized for the run's
    /// busiest moment, which would make the run's peak memory grow with what the run found (issue 6).
    /// The table stays usable: it grows again as flows are created.
    public func releaseStorage() {
        // (No slot used since the last release: nothing to give back, e.g. a shard ended by its thread.)
        guard index.count == 0, !occupied.isEmpty else { return }
        records.deallocate()   // every slot is free: nothing to deinitialize
        records = FlowRecords()
        occupied = []
        generations = []
        freeSlots = []
        index = FlowIndex(expected: Self.initialCapacity)
        resetTimers()
    }

    /// The run's clock goes back to `low` from `high` (a capture that begins before the latest
    /// timestamp so far, Pipeline). Every flow idle at `high` ends first, in creation order, as a
    /// sweep at `high` would have ended it: whether a sweep did depends on what else the table holds
    /// (a table that got no packet then did not sweep; a first-in first-out queue headed by an entry
    /// queued at a later clock stops early), and a flow that survives the restart takes the packets
    /// of the new file, so every table must end the same flows here whatever it holds: with several
    /// threads, every shard (one table each) does this at once. The timers are then queued again at
    /// `low`, one entry per live flow: entries queued at later clocks would otherwise stop the
    /// queues' sweeps until the clock comes back past them.
    public func restartClock<H: FlowLifecycle>(from high: Timestamp, to low: Timestamp, handler: inout H) where H.Context == Context {
        var kept: [UInt32] = []
        for slot in liveSlotsInCreationOrder() {
            if isIdle(slot: Int(slot), at: high.nanoseconds) { endIdle(slot: Int(slot), handler: &handler) } else { kept.append(slot) }
        }
        resetTimers()
        for slot in kept { enqueue(slot: Int(slot), kind: records[Int(slot)].timeoutKind, clock: low.nanoseconds) }
        now = low
        lastSweep = low.nanoseconds
    }

    /// Finalises the flows found idle longer than their timeout at the table's clock (see the sweep).
    public func expire<H: FlowLifecycle>(handler: inout H) where H.Context == Context {
        guard let now else { return }
        sweep(clock: now.nanoseconds, handler: &handler)
    }

    /// Pops timer entries queued longer ago than their queue's timeout: their flow has ended (stale
    /// entry), moved to the closing queue, expired (ended here), or was active since (then it waits
    /// in the wheel for the second it will have been idle for its timeout). Then ends the wheel's
    /// flows of the seconds before the clock that are idle, and queues the others again.
    private func sweep<H: FlowLifecycle>(clock: Int64, handler: inout H) where H.Context == Context {
        wheel.sweep(upTo: clock)
        for raw in 0..<timers.count {   // not `allCases`: that builds an array on every packet
            let kind = FlowQueueKind(rawValue: raw)!
            let limit = timeouts.nanoseconds(kind)
            while let head = timers[raw].first, clock &- head.queuedAt > limit {
                // Flows expire in bursts, each with a cold record and index bucket: ask for the record
                // a few entries on, and for the bucket of the one whose record was asked for before.
                if let next = timers[raw].peek(Self.sweepLookahead) { prefetchRecord(slot: Int(next.slot)) }
                if let nearer = timers[raw].peek(Self.sweepLookahead / 2), isCurrent(slot: Int(nearer.slot), generation: nearer.generation) {
                    index.prefetchBucket(tag: index.hash(records[Int(nearer.slot)].key))
                }
                timers[raw].removeFirst()
                let s = Int(head.slot)
                guard isCurrent(slot: s, generation: head.generation), records[s].timeoutKind == kind else { continue }
                if isIdle(slot: s, at: clock) {
                    endIdle(slot: s, handler: &handler)
                } else {
                    wheel.insert(TimerWheel.Entry(slot: head.slot, generation: head.generation), due: idleSince(slot: s))
                }
            }
        }
        while let e = wheel.next() {
            let s = Int(e.slot)
            guard isCurrent(slot: s, generation: e.generation) else { continue }
            if isIdle(slot: s, at: clock) {
                endIdle(slot: s, handler: &handler)
            } else {
                wheel.insert(e, due: idleSince(slot: s))
            }
        }
    }

    /// Makes room for one flow: a closing TCP flow first, else the least recently queued one that
    /// was not active since (an approximation of least recently active that needs no per-packet list).
    private func evictOne<H: FlowLifecycle>(clock: Int64, handler: inout H) where H.Context == Context {
        for kinds in [[FlowQueueKind.tcpClosing], [.tcpEstablished, .datagram]] {
            while true {
                // The queue whose head was queued first.
                var pick: FlowQueueKind?
                for k in kinds {
                    guard let h = timers[k.rawValue].first else { continue }
                    if let p = pick, timers[p.rawValue].first!.queuedAt <= h.queuedAt { continue }
                    pick = k
                }
                guard let kind = pick else { break }
                let head = timers[kind.rawValue].removeFirst()
                let s = Int(head.slot)
                guard isCurrent(slot: s, generation: head.generation), records[s].timeoutKind == kind else { continue }
                if records[s].lastSeen.nanoseconds > head.queuedAt, head.queuedAt < clock {
                    enqueue(slot: s, kind: kind, clock: clock)   // active since queued: not the victim
                    continue
                }
                end(slot: s, reason: .evicted, openUntil: clock, handler: &handler)
                return
            }
        }
        // Only flows active since they were queued are left, in the wheel: the one idle longest.
        while let e = wheel.takeEarliest() {
            let s = Int(e.slot)
            guard isCurrent(slot: s, generation: e.generation) else { continue }
            end(slot: s, reason: .evicted, openUntil: clock, handler: &handler)
            return
        }
    }

    /// Whether a timer entry of `slot` made at `generation` still names the flow in that slot (the
    /// slot is freed, and its generation bumped, when the flow ends).
    @inline(__always) private func isCurrent(slot s: Int, generation: UInt32) -> Bool {
        generations[s] == generation && occupied[s]
    }

    /// The instant an idle flow stopped being open: past its timeout after its last packet (the
    /// first clock at which `packet`, a sweep or `finish` call it idle).
    private func idleSince(slot s: Int) -> Int64 {
        records[s].lastSeen.nanoseconds &+ timeouts.nanoseconds(records[s].timeoutKind) &+ 1
    }

    /// Ends the flow in slot `s`, open from its first packet up to `openUntil` (nanoseconds, excluded).
    private func end<H: FlowLifecycle>(slot s: Int, reason: FlowEndReason, openUntil: Int64, handler: inout H) where H.Context == Context {
        let flow = records.pointer(s).move()
        tally.open.add(opened: flow.firstSeen.nanoseconds, closed: openUntil)
        occupied[s] = false
        index.remove(tag: index.hash(flow.key), slot: s)
        generations[s] &+= 1
        freeSlots.append(s)
        tally.live = index.count
        publishLive()
        endedByReason[reason.index] += 1
        handler.flowEnded(flow, reason: reason)
    }
}

private extension FlowEndReason {
    /// The slot in FlowTable.endedByReason.
    var index: Int {
        switch self {
        case .closed: 0
        case .idleTimeout: 1
        case .evicted: 2
        case .endOfInput: 3
        }
    }
}
