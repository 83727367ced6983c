import Testing
import WireBytes
import PacketDecode
@testable import FlowEvidence

/// Records finalised flows; the context is the creation index.
struct Recorder: FlowLifecycle {
    var ended: [(id: Int, reason: FlowEndReason, src: IPAddress, packets: Int)] = []
    var made = 0
    mutating func makeContext(key: FlowKey, src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16) -> Int { made += 1; return made }
    mutating func flowEnded(_ flow: Flow<Int>, reason: FlowEndReason) {
        ended.append((flow.id, reason, flow.src, flow.packets))
    }
}

@Suite struct FlowTableTests {
    let a = IPAddress("10.0.0.9")!, b = IPAddress("10.0.0.1")!, c = IPAddress("192.168.1.5")!

    @discardableResult
    func send(_ t: inout FlowTable<Int>, _ r: inout Recorder, _ from: IPAddress, _ fp: UInt16, _ to: IPAddress, _ tp: UInt16,
              at s: Int64, proto: UInt8 = IPProtocolNumber.tcp, flags: TCPFlags? = [.ack], bytes: Int = 10, frame: Int = 1) -> (Flow<Int>, Bool) {
        let p = t.packet(src: from, srcPort: fp, dst: to, dstPort: tp, ipProtocol: proto, tcpFlags: proto == IPProtocolNumber.tcp ? flags : nil,
                           payloadBytes: bytes, timestamp: Timestamp(seconds: s, nanos: 0), frame: FrameRef(captureIndex: 0, frame: frame), handler: &r)
        return (t.flow(id: p.id)!, p.fromSrc)
    }

    @Test func bothDirectionsShareOneFlowWhoseSrcSentFirst() {
        var t = FlowTable<Int>(), r = Recorder()
        // a (10.0.0.9) sorts after b, yet it sent first: it is src.
        let (f1, d1) = send(&t, &r, a, 5000, b, 6881, at: 0, flags: [.syn], bytes: 0, frame: 1)
        let (f2, d2) = send(&t, &r, b, 6881, a, 5000, at: 1, flags: [.syn, .ack], bytes: 0, frame: 2)
        let (f3, d3) = send(&t, &r, a, 5000, b, 6881, at: 2, bytes: 68, frame: 3)
        #expect(f1.id == f2.id && f2.id == f3.id)
        let f = f3
        #expect(d1 && !d2 && d3)
        #expect(f.src == a && f.srcPort == 5000 && f.dst == b && f.dstPort == 6881)
        #expect(f.packetsFromSrc == 2 && f.packetsFromDst == 1 && f.bytesFromSrc == 68)
        #expect(f.firstFrame.frame == 1 && f.lastFrame.frame == 3)
        #expect(f.lastSeen == Timestamp(seconds: 2, nanos: 0))
        #expect(t.liveFlows == 1 && r.made == 1)
    }

    @Test func portsAndProtocolSeparateFlows() {
        var t = FlowTable<Int>(), r = Recorder()
        send(&t, &r, a, 5000, b, 6881, at: 0)
        send(&t, &r, a, 5001, b, 6881, at: 0)
        send(&t, &r, a, 5000, b, 6881, at: 0, proto: IPProtocolNumber.udp)
        #expect(t.liveFlows == 3)
    }

    @Test func udpFlowTimesOutAfterItsIdleTimeout() {
        var t = FlowTable<Int>(), r = Recorder()
        send(&t, &r, a, 6881, b, 6881, at: 0, proto: IPProtocolNumber.udp)
        send(&t, &r, c, 1, b, 2, at: 120, proto: IPProtocolNumber.udp)       // exactly 120 s: still live
        #expect(r.ended.isEmpty)
        send(&t, &r, c, 1, b, 2, at: 121, proto: IPProtocolNumber.udp)
        #expect(r.ended.map(\.reason) == [.idleTimeout])
        // The same key later is a new flow, whose src is whoever speaks first now.
        let (f, fromSrc) = send(&t, &r, b, 6881, a, 6881, at: 200, proto: IPProtocolNumber.udp)
        #expect(f.src == b && fromSrc && f.id == 2)
        #expect(t.counts.timedOut == 1)
    }

    @Test func establishedTCPWaitsLongerThanClosingTCP() {
        var t = FlowTable<Int>(), r = Recorder()
        send(&t, &r, a, 1, b, 2, at: 0)                        // established
        send(&t, &r, a, 3, b, 4, at: 0)
        send(&t, &r, b, 4, a, 3, at: 10, flags: [.fin, .ack])  // closing since t=10
        send(&t, &r, c, 9, b, 9, at: 40, proto: IPProtocolNumber.udp)
        #expect(r.ended.isEmpty)
        send(&t, &r, c, 9, b, 9, at: 41, proto: IPProtocolNumber.udp)
        #expect(r.ended.map(\.reason) == [.closed] && r.ended[0].id == 1)
        send(&t, &r, c, 9, b, 9, at: 300, flags: [.ack])
        #expect(!r.ended.contains { $0.id == 0 })
        send(&t, &r, c, 9, b, 9, at: 301, flags: [.ack])
        #expect(r.ended.contains { $0.id == 0 && $0.reason == .idleTimeout })
    }

    @Test func timeoutsAreConfigurable() {
        var t = FlowTable<Int>(timeouts: FlowTimeouts(tcpEstablished: 5, tcpClosing: 1, udp: 2)), r = Recorder()
        send(&t, &r, a, 1, b, 2, at: 0)
        send(&t, &r, a, 1, b, 2, at: 0, proto: IPProtocolNumber.udp)
        send(&t, &r, a, 7, b, 7, at: 0, flags: [.rst])
        send(&t, &r, c, 1, c, 2, at: 3, proto: IPProtocolNumber.udp)
        #expect(Set(r.ended.map(\.id)) == [1, 2])
        send(&t, &r, c, 1, c, 2, at: 5, proto: IPProtocolNumber.udp)
        #expect(!r.ended.contains { $0.id == 0 })
        send(&t, &r, c, 1, c, 2, at: 6, proto: IPProtocolNumber.udp)
        #expect(r.ended.last?.id == 0)
    }

    @Test func aNewSYNOnAClosedConnectionStartsANewFlow() {
        var t = FlowTable<Int>(), r = Recorder()
        send(&t, &r, a, 1, b, 2, at: 0, flags: [.syn])
        send(&t, &r, a, 1, b, 2, at: 1, flags: [.rst])
        let (f, _) = send(&t, &r, a, 1, b, 2, at: 2, flags: [.syn])
        #expect(r.ended.map(\.reason) == [.closed])
        #expect(f.id == 1 && f.packets == 1)
        // A retransmitted SYN on an open connection is not a new flow.
        send(&t, &r, a, 1, b, 2, at: 3, flags: [.syn])
        #expect(t.counts.created == 2)
    }

    /// Eviction takes the flow queued first (FlowTable's timer queues) that was not active since it
    /// was queued; an active one goes to the back of the queue instead.
    @Test func fullTableEvictsClosingFlowsFirstThenTheLeastRecentlyQueuedIdleOne() {
        var t = FlowTable<Int>(maxFlows: 3), r = Recorder()
        send(&t, &r, a, 1, b, 1, at: 0)                                  // id 0, active again at 5
        send(&t, &r, a, 2, b, 2, at: 1, flags: [.fin])                   // id 1, closing
        send(&t, &r, a, 3, b, 3, at: 2, proto: IPProtocolNumber.udp)     // id 2
        send(&t, &r, a, 1, b, 1, at: 5)
        send(&t, &r, a, 4, b, 4, at: 6)                                  // id 3; evicts 1 (closing)
        send(&t, &r, a, 5, b, 5, at: 7)                                  // id 4; evicts 2 (idle since 2; 0 was active: requeued at 7)
        send(&t, &r, a, 6, b, 6, at: 8)                                  // evicts 3 (queued at 6, idle since)
        #expect(r.ended.map(\.id) == [1, 2, 3])
        #expect(r.ended.allSatisfy { $0.reason == .evicted })
        #expect(t.counts.evicted == 3 && t.liveFlows == 3 && t.counts.peakLive == 3)
    }

    @Test func finishEndsEveryFlowInCreationOrder() {
        var t = FlowTable<Int>(), r = Recorder()
        for p in (1...5).reversed() { send(&t, &r, a, UInt16(p), b, 80, at: Int64(10 - p)) }
        t.finish(handler: &r)
        #expect(r.ended.map(\.id) == [0, 1, 2, 3, 4])
        #expect(r.ended.allSatisfy { $0.reason == .endOfInput })
        #expect(t.liveFlows == 0 && t.counts.ended[.endOfInput] == 5)
    }

    @Test func anEarlierTimestampIsCountedAndDoesNotExpireAnything() {
        var t = FlowTable<Int>(), r = Recorder()
        send(&t, &r, a, 1, b, 1, at: 1000, proto: IPProtocolNumber.udp)
        send(&t, &r, a, 2, b, 2, at: 10, proto: IPProtocolNumber.udp)
        #expect(t.counts.timestampRegressions == 1 && r.ended.isEmpty)
        #expect(t.now == Timestamp(seconds: 1000, nanos: 0))
    }
    @Test func flowsContinueAcrossTheFilesOfARun() {
        var t = FlowTable<Int>(), r = Recorder()
        let first = t.packet(src: a, srcPort: 1, dst: b, dstPort: 2, ipProtocol: IPProtocolNumber.tcp, tcpFlags: [.syn], payloadBytes: 0,
                             timestamp: Timestamp(seconds: 10, nanos: 0), frame: FrameRef(captureIndex: 0, frame: 900), handler: &r)
        let next = t.packet(src: b, srcPort: 2, dst: a, dstPort: 1, ipProtocol: IPProtocolNumber.tcp, tcpFlags: [.syn, .ack], payloadBytes: 0,
                            timestamp: Timestamp(seconds: 11, nanos: 0), frame: FrameRef(captureIndex: 1, frame: 1), handler: &r)
        #expect(first.id == next.id && next.packets == 2)
        let flow = t.flow(id: next.id)!
        #expect(flow.firstFrame == FrameRef(captureIndex: 0, frame: 900))
        #expect(flow.lastFrame == FrameRef(captureIndex: 1, frame: 1))
    }

    /// The run's clock restarts (a file that begins before it): flows idle at the run's clock before
    /// the restart (200 s, which this table never saw: other shards' packets took the run there) end,
    /// in creation order; the others stay. Then the sweeps go on at the earlier clock: the flow kept
    /// was queued at 100 s before, and its entry would stop its queue until the clock came back past it.
    @Test func aClockRestartEndsTheFlowsIdleBeforeItAndSweepsGoOn() {
        var t = FlowTable<Int>(), r = Recorder()
        send(&t, &r, a, 1, b, 2, at: 10, proto: IPProtocolNumber.udp)          // idle at 200 (120 s timeout)
        send(&t, &r, a, 3, b, 4, at: 11, proto: IPProtocolNumber.udp)          // idle too, created after
        send(&t, &r, c, 5, b, 6, at: 100, proto: IPProtocolNumber.udp)         // live at 200
        #expect(r.ended.isEmpty && t.liveFlows == 3)
        t.restartClock(from: Timestamp(seconds: 200, nanos: 0), to: Timestamp(seconds: 20, nanos: 0), handler: &r)
        #expect(r.ended.map(\.id) == [0, 1] && r.ended.allSatisfy { $0.reason == .idleTimeout })
        #expect(t.liveFlows == 1 && t.now == Timestamp(seconds: 20, nanos: 0))
        // A flow of the new file, idle at 152 s: the sweep then ends it, though it was queued after
        // the flow kept (live until 220 s).
        send(&t, &r, b, 7, c, 8, at: 30, proto: IPProtocolNumber.udp)
        send(&t, &r, b, 9, c, 10, at: 152, proto: IPProtocolNumber.udp)
        #expect(r.ended.map(\.id) == [0, 1, 3])
        #expect(t.liveFlows == 2)
    }
}

/// The timer queues are swept lazily; these pin down what users see regardless of sweep timing.
@Suite struct FlowTableTimingTests {
    let a = IPAddress("10.0.0.9")!, b = IPAddress("10.0.0.1")!, c = IPAddress("192.168.1.5")!

    func send(_ t: FlowTable<Int>, _ r: inout Recorder, _ from: IPAddress, _ fp: UInt16, _ to: IPAddress, _ tp: UInt16,
              at s: Int64, nanos: Int64 = 0, proto: UInt8 = IPProtocolNumber.udp) -> FlowPacket {
        t.packet(src: from, srcPort: fp, dst: to, dstPort: tp, ipProtocol: proto, tcpFlags: proto == IPProtocolNumber.tcp ? [.ack] : nil,
                 payloadBytes: 10, timestamp: Timestamp(seconds: s, nanos: nanos), frame: FrameRef(captureIndex: 0, frame: Int(s)), handler: &r)
    }

    /// A flow active after it was queued is not ended by the sweep that finds it at the head of its
    /// queue; it waits in the timer wheel and leaves at the first sweep past the second in which it
    /// has been idle for its timeout (not one whole timeout after that sweep, as it did before the wheel).
    @Test func anActiveFlowSurvivesTheSweepAndLeavesOnceReallyIdle() {
        let t = FlowTable<Int>(timeouts: FlowTimeouts(tcpEstablished: 300, tcpClosing: 30, udp: 100))
        var r = Recorder()
        _ = send(t, &r, a, 1, b, 2, at: 0)          // queued at 0
        _ = send(t, &r, a, 1, b, 2, at: 90)         // active, still queued at 0
        _ = send(t, &r, c, 1, b, 2, at: 150)        // sweep: the first flow is active since: into the wheel, due at 190
        #expect(r.ended.isEmpty && t.liveFlows == 2)
        _ = send(t, &r, c, 1, b, 2, at: 190)        // idle exactly 100 s: not yet
        #expect(r.ended.isEmpty)
        _ = send(t, &r, c, 1, b, 2, at: 191)        // the wheel's second 190 has passed: idle 101 s
        #expect(r.ended.map(\.id) == [0] && r.ended[0].reason == .idleTimeout && t.liveFlows == 1)
        // Open from 0 to 190 (its last packet plus the timeout), whatever the sweep: with flow 1, 2 at once.
        t.finish(handler: &r)
        #expect(t.counts.open.peak == 2)
    }

    /// The table holds the flows still open, not idle ones waiting for their queue's head: 3,000
    /// two-datagram flows, one started every 0.1 s, each with its second datagram 0.5 s later. At
    /// every 10 s the table holds no more flows than are open plus those that expired in the last
    /// two seconds. (With re-queueing at the back of the queue, idle flows stayed up to one more
    /// timeout: about twice the open flows.)
    @Test func theTableHoldsTheOpenFlows() {
        let t = FlowTable<Int>(timeouts: FlowTimeouts(tcpEstablished: 300, tcpClosing: 30, udp: 100))
        var r = Recorder()
        var events: [(at: Int64, flow: Int)] = []
        for i in 0..<3_000 { events += [(Int64(i) * 100_000_000, i), (Int64(i) * 100_000_000 + 500_000_000, i)] }
        events.sort { ($0.at, $0.flow) < ($1.at, $1.flow) }
        var lastSeen = [Int64?](repeating: nil, count: 3_000)
        var checked = 0
        let timeout: Int64 = 100_000_000_000
        for (k, e) in events.enumerated() {
            _ = t.packet(src: IPAddress(v4: 0x0A00_0000 | UInt32(e.flow)), srcPort: 5353, dst: b, dstPort: 53, ipProtocol: IPProtocolNumber.udp,
                         tcpFlags: nil, payloadBytes: 40, timestamp: Timestamp(nanoseconds: e.at), frame: FrameRef(captureIndex: 0, frame: k + 1),
                         handler: &r)
            lastSeen[e.flow] = e.at
            guard e.at % 10_000_000_000 == 0, e.at > 0 else { continue }
            let idle = lastSeen.compactMap { $0.map { e.at - $0 } }
            let open = idle.filter { $0 <= timeout }.count
            let recent = idle.filter { $0 > timeout && $0 <= timeout + 2_000_000_000 }.count
            #expect(t.liveFlows <= open + recent, "at \(e.at / 1_000_000_000) s: \(t.liveFlows) in the table, \(open) open")
            checked += 1
        }
        #expect(checked >= 29)
    }

    /// A UDP flow (100 s timeout) with packets at 0 and 90 s, put in the wheel (due at 190 s) by the
    /// sweep of another flow's packet at 150 s.
    private func flowInTheWheel() -> (FlowTable<Int>, Recorder) {
        let t = FlowTable<Int>(timeouts: FlowTimeouts(tcpEstablished: 300, tcpClosing: 30, udp: 100))
        var r = Recorder()
        _ = send(t, &r, a, 1, b, 2, at: 0)
        _ = send(t, &r, a, 1, b, 2, at: 90)
        _ = send(t, &r, c, 1, b, 2, at: 150)        // into the wheel, due at 190
        return (t, r)
    }

    /// A flow in the wheel that is active again goes back into the wheel at its new expiry.
    @Test func aFlowActiveAgainWhileInTheWheelWaitsForItsNewExpiry() {
        let (t, recorder) = flowInTheWheel()
        var r = recorder
        _ = send(t, &r, a, 1, b, 2, at: 180)        // active again: due at 280
        _ = send(t, &r, c, 1, b, 2, at: 250)        // the wheel's second 190 passes: queued again for 280
        #expect(r.ended.isEmpty)
        _ = send(t, &r, c, 1, b, 2, at: 282)
        #expect(r.ended.map(\.id) == [0] && r.ended[0].packets == 3)
    }

    /// A packet of a flow idle past its timeout starts a new flow even when the sweep has not ended
    /// the old one yet: splitting depends on the flow's own idleness and the clock only.
    @Test func aPacketAfterTheTimeoutSplitsTheFlowWhateverTheSweep() {
        let (t, recorder) = flowInTheWheel()
        var r = recorder
        let p = send(t, &r, a, 1, b, 2, at: 190, nanos: 500_000_000)   // 100.5 s after its last packet, the wheel not swept yet
        #expect(p.id == 2 && p.packets == 1)
        #expect(r.ended.map(\.id) == [0] && r.ended[0].reason == .idleTimeout && r.ended[0].packets == 2)
    }

    /// At the end of input a flow past its timeout counts as timed out, one still within it as live.
    @Test func finishNamesTheReasonFromTheClock() {
        let t = FlowTable<Int>(timeouts: FlowTimeouts(tcpEstablished: 300, tcpClosing: 30, udp: 100))
        var r = Recorder()
        _ = send(t, &r, a, 1, b, 2, at: 0)
        _ = send(t, &r, a, 1, b, 2, at: 10)
        _ = send(t, &r, c, 1, b, 2, at: 105)        // the sweep moves flow 0 (idle 95 s) into the wheel, due at 110
        _ = send(t, &r, c, 1, b, 2, at: 110, nanos: 500_000_000)   // idle 100.5 s, but its second has not passed: not swept
        #expect(r.ended.isEmpty)
        t.finish(handler: &r)
        let reasons = Dictionary(uniqueKeysWithValues: r.ended.map { ($0.id, $0.reason) })
        #expect(reasons[0] == .idleTimeout && reasons[1] == .endOfInput)
    }

    /// A full table whose queues hold only flows that were active since they were queued evicts from
    /// the wheel: the flow idle longest.
    @Test func aFullTableEvictsFromTheWheelWhenTheQueuesHaveNoVictim() {
        let t = FlowTable<Int>(timeouts: FlowTimeouts(tcpEstablished: 300, tcpClosing: 30, udp: 100), maxFlows: 2)
        var r = Recorder()
        _ = send(t, &r, a, 1, b, 2, at: 0)
        _ = send(t, &r, c, 1, b, 2, at: 0)
        _ = send(t, &r, c, 1, b, 2, at: 50)
        _ = send(t, &r, a, 1, b, 2, at: 60)
        _ = send(t, &r, a, 1, b, 2, at: 101)        // both heads were active since: both into the wheel (due 150, 160)
        #expect(r.ended.isEmpty && t.liveFlows == 2)
        _ = send(t, &r, b, 9, c, 9, at: 102)        // a third flow: the one due first (idle since 50) goes
        #expect(r.ended.map(\.id) == [1] && r.ended[0].reason == .evicted && t.liveFlows == 2)
    }
}
