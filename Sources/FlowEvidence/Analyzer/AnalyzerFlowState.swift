// Per-flow state of the analyzer: one reassembler and one stream classifier per TCP direction, or one
// datagram classifier for UDP, plus what the classifier found. One object per flow (TCPFlowState or
// UDPFlowState), whose parts needed for a while are allocated when needed. A class with separate
// stored properties, so that a reassembler can deliver into the classifier of the same flow without
// overlapping access.
//
// Memory (issue 6: a million live flows): a TCP flow's state is 87 bytes (a 96-byte heap block) until
// it settles, none while its only packets are its opening SYN (FlowContext.openingSYN); a UDP flow
// still probed with nothing found has none (FlowContext.probingUDP), else 52 bytes (64). On demand,
// in one out-of-line FlowParts: the connection's opening (proxy handshake, MSE detector) while it is
// read, each direction's stream classifier while it decides; findings at the first; out-of-order
// buffers at the first loss.
import WireBytes
import PacketDecode
import BitTorrentClassifier

/// A value kept out of line: per-flow parts that are large (hundreds of bytes) but needed by few
/// flows or for a few packets only cost a pointer in the flows that do not need them.
final class OutOfLine<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// A TCP flow's per-direction parts (`AnalyzerFlowState.tcp`, until released). Each direction's
/// stream classifier (about 530 bytes) is allocated at its first byte and released once it wants no
/// more bytes, keeping only its final state: most flows of a busy link are decided `other` within
/// their first segments.
final class TCPFlowState: AnalyzerFlowState {
    /// A direction's classifier state once released (it wanted no more bytes); nil before.
    /// Declared first: one byte each, they fill the base class's last bytes.
    private var finalFromSrc: StreamState?, finalFromDst: StreamState?
    var reassemblerFromSrc: TCPReassembler
    var reassemblerFromDst: TCPReassembler
    // The live stream classifiers are in `FlowParts` (a pointer less in every TCP flow's state).
    private var streamFromSrc: OutOfLine<TCPStreamClassifier>? { tunnelParts?.streamFromSrc }
    private var streamFromDst: OutOfLine<TCPStreamClassifier>? { tunnelParts?.streamFromDst }

    init(bufferLimit: Int) {
        reassemblerFromSrc = TCPReassembler(bufferLimit: bufferLimit)
        reassemblerFromDst = TCPReassembler(bufferLimit: bufferLimit)
        super.init(isTCP: true)
    }

    /// Makes this state the one of a flow kept as `FlowContext.openingSYN` (FlowFinalizer's reusable
    /// scratch state): a new TCP flow's state after its SYN (FlowAnalyzer.process's first packet).
    func load(openingSYN seq: UInt32, bufferLimit: Int) {
        clear(isTCP: true)
        finalFromSrc = nil; finalFromDst = nil
        reassemblerFromSrc = TCPReassembler(bufferLimit: bufferLimit)
        reassemblerFromDst = TCPReassembler(bufferLimit: bufferLimit)
        startMSE()
        var none = NoConsumer()
        reassemblerFromSrc.segment(seq: seq, flags: [.syn], payload: UnsafeRawBufferPointer(start: nil, count: 0), consumer: &none)
    }

    /// What `FlowContext.openingSYN` keeps of this state, when that is all it has: the SYN's
    /// sequence number; nil otherwise.
    var openingSYN: UInt32? {
        guard hasOnlyClassifier, probesTunnel, mseUndecided, !tcpReleased, finalFromSrc == nil, finalFromDst == nil,
              reassemblerFromDst.nextSequence == nil, reassemblerFromDst.counters == TCPReassembler.Counters() else { return nil }
        return reassemblerFromSrc.onlySYNSequence
    }

    /// A consumer for a segment without payload (never called).
    private struct NoConsumer: StreamConsumer {
        mutating func deliver(_ bytes: UnsafeRawBufferPointer) {}
        mutating func gap(_ byteCount: Int) {}
        var wantsBytes: Bool { true }
    }

    /// Drops the per-direction parts (AnalyzerFlowState.releaseTCP).
    fileprivate func releaseDirections() {
        if tunnelParts != nil {
            tunnelParts!.streamFromSrc = nil; tunnelParts!.streamFromDst = nil
            releaseTunnelPartsIfEmpty()
        }
        reassemblerFromSrc = TCPReassembler(bufferLimit: 1); reassemblerFromDst = TCPReassembler(bufferLimit: 1)
    }

    /// One segment of the flow: its acknowledgment first (which may release the other direction's
    /// held bytes), then its own bytes, each to the direction's stream consumers (StreamFeed). Returns
    /// whether no consumer of either direction wants more bytes. A method of the state, so that the
    /// state is held once for the call, not retained around each use (issue 6's instruction count).
    /// The feeds are built in place: a sink returned by a function is copied.
    func segment(_ tcp: TCPInfo, payload: UnsafeRawBufferPointer, cutBytes: Int, fromSrc: Bool, sink: EvidenceSink) -> Bool {
        if tcp.flags.ack {
            let o = sink.origin
            let back = EventOrigin(flowID: o.flowID, sender: o.receiver, receiver: o.sender, timestamp: o.timestamp, frame: o.frame)
            var feed = StreamFeed(state: self, fromSrc: !fromSrc,
                                  sink: EvidenceSink(aggregator: sink.aggregator, state: self, origin: back, senderIsSrc: !fromSrc,
                                                     srcPort: sink.srcPort, dstPort: sink.dstPort))
            if fromSrc { reassemblerFromDst.acknowledged(upTo: tcp.ack, consumer: &feed) }
            else { reassemblerFromSrc.acknowledged(upTo: tcp.ack, consumer: &feed) }
        }
        var feed = StreamFeed(state: self, fromSrc: fromSrc, sink: sink)
        if fromSrc { reassemblerFromSrc.segment(seq: tcp.seq, flags: tcp.flags, payload: payload, cutBytes: cutBytes, consumer: &feed) }
        else { reassemblerFromDst.segment(seq: tcp.seq, flags: tcp.flags, payload: payload, cutBytes: cutBytes, consumer: &feed) }
        return !feed.wantsBytes && !wantsBytes(fromSrc: !fromSrc)
    }

    /// `segment` for a segment that cannot reach a stream consumer, nil for one that may: no byte of
    /// it goes to a consumer (it is empty, or its direction's consumers want no more bytes), and its
    /// acknowledgment releases no held bytes to one. The reassemblers then do what they would do with
    /// the feeds: track sequence numbers and acknowledgments. So the feeds and their sinks are not
    /// built: most segments of a flow still being classified are bare ACKs, or bytes of a direction
    /// already decided while the other has not spoken yet (issue 6: half the packets of the
    /// benchmark capture reach the analyzer).
    func segmentWithoutConsumers(_ tcp: TCPInfo, payload: UnsafeRawBufferPointer, cutBytes: Int, fromSrc: Bool) -> Bool? {
        let opening = probesTunnel || mseUndecided   // (StreamFeed.wantsBytes: both directions' feeds want bytes then)
        if tcp.flags.ack, fromSrc ? reassemblerFromDst.hasRanges : reassemblerFromSrc.hasRanges, opening || wantsBytes(fromSrc: !fromSrc) {
            return nil
        }
        if payload.count > 0, opening || wantsBytes(fromSrc: fromSrc) { return nil }
        var none = SequenceOnly()
        if tcp.flags.ack {
            if fromSrc { reassemblerFromDst.acknowledged(upTo: tcp.ack, consumer: &none) }
            else { reassemblerFromSrc.acknowledged(upTo: tcp.ack, consumer: &none) }
        }
        if fromSrc { reassemblerFromSrc.segment(seq: tcp.seq, flags: tcp.flags, payload: payload, cutBytes: cutBytes, consumer: &none) }
        else { reassemblerFromDst.segment(seq: tcp.seq, flags: tcp.flags, payload: payload, cutBytes: cutBytes, consumer: &none) }
        return !opening && !wantsBytes(fromSrc: fromSrc) && !wantsBytes(fromSrc: !fromSrc)
    }

    /// The consumer of `segmentWithoutConsumers`: wants no bytes, so a reassembler only tracks
    /// sequence numbers (it calls nothing else on a consumer that wants no bytes).
    private struct SequenceOnly: StreamConsumer {
        mutating func deliver(_ bytes: UnsafeRawBufferPointer) { preconditionFailure("a consumer that wants no bytes got some") }
        mutating func gap(_ byteCount: Int) { preconditionFailure("a consumer that wants no bytes was told of a gap") }
        var wantsBytes: Bool { false }
    }

    /// Whether the direction's classifier still wants bytes (not released): asked for every segment,
    /// answered without touching the classifier (one more object per packet).
    @inline(__always) func wantsBytes(fromSrc: Bool) -> Bool { (fromSrc ? finalFromSrc : finalFromDst) == nil }

    /// The direction's classifier state (final once released).
    func state(fromSrc: Bool) -> StreamState {
        (fromSrc ? streamFromSrc : streamFromDst)?.value.state ?? (fromSrc ? finalFromSrc : finalFromDst) ?? .undecided
    }

    /// Feeds the direction's classifier; then, when `endProbing`, TCPStreamClassifier.endProbingFromFirstByte.
    func consume<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, fromSrc: Bool, endProbing: Bool, sink: inout S) {
        if let c = fromSrc ? streamFromSrc : streamFromDst {
            c.value.consume(bytes, endingProbing: endProbing, sink: &sink)
            releaseIfDone(c, fromSrc: fromSrc)
            return
        }
        guard (fromSrc ? finalFromSrc : finalFromDst) == nil else { return }
        // The direction's first bytes go to a classifier on the stack: most streams are decided by
        // them and never need one out of line (an allocation and a release per direction, issue 6).
        var fresh = TCPStreamClassifier()
        fresh.consume(bytes, endingProbing: endProbing, sink: &sink)
        if !fresh.wantsBytes {
            if fromSrc { finalFromSrc = fresh.state } else { finalFromDst = fresh.state }
            return
        }
        let c = OutOfLine(fresh)
        if fromSrc { parts().streamFromSrc = c } else { parts().streamFromDst = c }
    }

    func gap<S: ClassifierSink>(_ byteCount: Int, fromSrc: Bool, sink: inout S) {
        guard let c = classifier(fromSrc: fromSrc) else { return }
        c.value.gap(byteCount, sink: &sink)
        releaseIfDone(c, fromSrc: fromSrc)
    }

    /// The live classifier, created at the direction's first byte; nil once released.
    private func classifier(fromSrc: Bool) -> OutOfLine<TCPStreamClassifier>? {
        if let c = fromSrc ? streamFromSrc : streamFromDst { return c }
        guard (fromSrc ? finalFromSrc : finalFromDst) == nil else { return nil }
        let c = OutOfLine(TCPStreamClassifier())
        if fromSrc { parts().streamFromSrc = c } else { parts().streamFromDst = c }
        return c
    }

    private func releaseIfDone(_ c: OutOfLine<TCPStreamClassifier>, fromSrc: Bool) {
        guard !c.value.wantsBytes else { return }
        if fromSrc { finalFromSrc = c.value.state; tunnelParts!.streamFromSrc = nil }
        else { finalFromDst = c.value.state; tunnelParts!.streamFromDst = nil }
        releaseTunnelPartsIfEmpty()
    }
}

/// A UDP flow's state: its classifier, inline.
final class UDPFlowState: AnalyzerFlowState {
    fileprivate var udp = UDPFlowClassifier()

    init(isIPv6: Bool) {
        udp.isIPv6 = isIPv6
        super.init(isTCP: false)
    }

    /// Makes this state the one of a flow kept as `FlowContext.probingUDP` (FlowFinalizer's reusable
    /// scratch state): nothing found, no flow parts, the classifier restored.
    func load(probingUDP c: UInt32) {
        clear(isTCP: false)
        udp = UDPFlowClassifier(compactState: c)
    }

    /// What `FlowContext.probingUDP` keeps of this state, when that is all it has (nothing found, no
    /// flow parts, the classifier's `compactState`); nil otherwise.
    var probingUDP: UInt32? { hasOnlyClassifier ? udp.compactState : nil }
}

/// A flow's analyzer context in the flow table: its state, or for a UDP flow whose classifier is still
/// probing with nothing found (most UDP flows: DNS, QUIC, ...) the classifier's few bits instead of an
/// object: 8 bytes either way. Such a flow's packets are processed in a reusable state
/// (`FlowFinalizer.scratch`), which the flow keeps once it holds more than those bits.
///
/// The state is held unmanaged: the record owns one reference, taken when the state is stored
/// (`owning`) and given back when the flow ends or its state is replaced (`releaseState`), so that
/// reading or moving a record costs no reference counting (atomic retains and releases were 11% of a
/// one-thread run's time in perf, issue 6). The shared placeholders of settled flows are stored
/// without a reference. A table dropped without `finish` leaks its live flows' states.
enum FlowContext {
    case state(Unmanaged<AnalyzerFlowState>)
    /// UDPFlowClassifier.compactState.
    case probingUDP(UInt32)
    /// A TCP flow whose packets so far are its opening SYN (sent again, maybe), without payload: the
    /// SYN's sequence number (TCPFlowState.openingSYN). Port scans open millions of these.
    case openingSYN(UInt32)
}

extension FlowContext {
    /// A context owning one reference to `s` (none for the shared placeholders of settled flows).
    static func owning(_ s: AnalyzerFlowState) -> FlowContext {
        .state(s.isPlaceholder ? .passUnretained(s) : .passRetained(s))
    }

    /// Gives back the reference the context owns: once, when its flow ended or its state was replaced.
    func releaseState() {
        guard case .state(let u) = self, !u._withUnsafeGuaranteedRef({ $0.isPlaceholder }) else { return }
        u.release()
    }
}

/// The parts of a flow's state needed for a while, out of line (one pointer in every flow's state):
/// what a proxy handshake on the flow needs and found (SOCKS4/4a/5, HTTP CONNECT), the MSE shape
/// detector, and a TCP flow's live stream classifiers (each out of line again: most flows need one).
final class FlowParts {
    var streamFromSrc: OutOfLine<TCPStreamClassifier>?
    var streamFromDst: OutOfLine<TCPStreamClassifier>?
    /// The MSE shape detector while it measures (from the first byte it is fed) or after it found the
    /// shape; nil before the first byte and once it ruled the shape out.
    var mse: MSEShapeDetector?
    var detector: TunnelDetector?
    /// `mse`, `detector` and `failure` are set: stored, because testing a large optional copies it
    /// (kept in step by AnalyzerFlowState, and by didSet where setting is rare).
    var hasMSE = false, hasDetector = false
    var tunnel: TunnelInfo? { didSet { hasTunnel = tunnel != nil } }
    /// `tunnel` is set (stored: asked for every classifier event, and testing the optional copies it).
    private(set) var hasTunnel = false
    var failure: TunnelFailure? { didSet { hasFailure = failure != nil } }
    private(set) var hasFailure = false
    var relayTarget: String?
    /// The pointers first: testing a large optional copies it.
    var isEmpty: Bool {
        streamFromSrc == nil && streamFromDst == nil && relayTarget == nil && !hasMSE && !hasDetector && !hasTunnel && !hasFailure
    }
}

/// What every flow's analyzer state has; a flow's state is a TCPFlowState or a UDPFlowState
/// (`FlowFinalizer.makeContext`). The flow's endpoints are not repeated here: the flow record has
/// them, and sinks carry them.
class AnalyzerFlowState {
    /// Created at the first finding (most flows have none).
    final var findings: FlowFindings {
        if let f = foundSoFar { return f }
        let f = FlowFindings()
        foundSoFar = f
        return f
    }
    private final var foundSoFar: FlowFindings?
    /// `findings` for reading only: a shared empty one when nothing was found, so that reading a
    /// flow's findings as it ends allocates nothing (most flows: issue 6).
    final var findingsToRead: FlowFindings { foundSoFar ?? Self.nothingFound }
    /// Never mutated (read only through `findingsToRead`), so sharing it across worker threads is safe.
    private nonisolated(unsafe) static let nothingFound = FlowFindings()
    fileprivate final var tunnelParts: FlowParts?
    final let isTCP: Bool
    /// TCP flows until the proxy-handshake detector has decided.
    final private(set) var probesTunnel: Bool
    /// An MSE detector was started (`startMSE`): the SYN, or the tunnel's first byte, was seen.
    private final var hasMSE = false
    /// The MSE detector exists and still wants bytes (stored: asked for every segment).
    final private(set) var mseUndecided = false
    /// `releaseTCP` was called.
    fileprivate final var tcpReleased = false

    fileprivate init(isTCP: Bool) {
        self.isTCP = isTCP
        probesTunnel = isTCP
    }

    /// Back to a new flow's base state (UDPFlowState.load, TCPFlowState.load); `isTCP` is the state's.
    fileprivate final func clear(isTCP: Bool) {
        // Tested first: assigning nil calls the runtime's release even on nil (every probed datagram).
        if foundSoFar != nil { foundSoFar = nil }
        if tunnelParts != nil { tunnelParts = nil }
        probesTunnel = isTCP; hasMSE = false; mseUndecided = false; tcpReleased = false
    }

    /// Nothing found, no flow parts (UDPFlowState.probingUDP).
    fileprivate final var hasOnlyClassifier: Bool { foundSoFar == nil && tunnelParts == nil }

    /// The state of a TCP flow (`isTCP`).
    @inline(__always) private final var tcpState: TCPFlowState { unsafeDowncast(self, to: TCPFlowState.self) }
    /// The state of a UDP flow (`!isTCP`).
    @inline(__always) private final var udpState: UDPFlowState { unsafeDowncast(self, to: UDPFlowState.self) }

    /// TCP flows only: a reassembler and a stream classifier per direction; nil once the flow is
    /// settled (`releaseTCP`): nothing on it can be learned any more.
    final var tcp: TCPFlowState? { hasTCPParts ? tcpState : nil }
    /// `tcp` is not nil (read without taking a reference).
    private final var hasTCPParts: Bool { isTCP && !tcpReleased }

    /// `tcp?.wantsBytes(fromSrc:)`, `tcp?.segment(...)` and `tcp?.consume(...)` without taking a
    /// reference to the state (asked and fed per segment).
    final func tcpWantsBytes(fromSrc: Bool) -> Bool {
        hasTCPParts && tcpState.wantsBytes(fromSrc: fromSrc)
    }
    /// TCPFlowState.segmentWithoutConsumers: nil when the segment may reach a consumer, or when the
    /// flow is settled (or not TCP).
    final func tcpSegmentWithoutConsumers(_ tcp: TCPInfo, payload: UnsafeRawBufferPointer, cutBytes: Int, fromSrc: Bool) -> Bool? {
        guard hasTCPParts else { return nil }
        return tcpState.segmentWithoutConsumers(tcp, payload: payload, cutBytes: cutBytes, fromSrc: fromSrc)
    }
    /// TCPFlowState.segment, nil when the flow is settled (or not TCP).
    final func tcpSegment(_ tcp: TCPInfo, payload: UnsafeRawBufferPointer, cutBytes: Int, fromSrc: Bool, sink: EvidenceSink) -> Bool? {
        guard hasTCPParts else { return nil }
        return tcpState.segment(tcp, payload: payload, cutBytes: cutBytes, fromSrc: fromSrc, sink: sink)
    }
    final func tcpConsume<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, fromSrc: Bool, endProbing: Bool, sink: inout S) {
        guard hasTCPParts else { return }
        tcpState.consume(bytes, fromSrc: fromSrc, endProbing: endProbing, sink: &sink)
    }

    /// Releases the per-direction TCP parts (FlowFinalizer.settleIfDone).
    final func releaseTCP() {
        guard let t = tcp else { return }
        tcpReleased = true
        t.releaseDirections()
    }

    /// Settled with nothing found, nothing to label and no tunnel: the flow's row needs only what the
    /// flow table keeps, so the analyzer swaps this state for a shared placeholder (`settled(isTCP:)`).
    final var isForgettable: Bool {
        guard foundSoFar == nil, tunnelParts == nil, !probesTunnel, !mseUndecided else { return false }
        // (A likely-MSE detector keeps `tunnelParts`.)
        return isTCP ? tcpReleased : udpState.udp.label == .other
    }

    /// The shared state of forgotten flows: never mutated (settled flows skip the analyzer, and
    /// FlowFinalizer.flowEnded checks for it first), so sharing it across worker threads is safe.
    nonisolated(unsafe) static let settledTCP: AnalyzerFlowState = TCPFlowState(bufferLimit: 1)
    nonisolated(unsafe) static let settledUDP: AnalyzerFlowState = UDPFlowState(isIPv6: false)
    final var isPlaceholder: Bool { self === Self.settledTCP || self === Self.settledUDP }

    // MARK: UDP

    /// Feeds a UDP flow's datagram (payload) to its classifier.
    final func consume<S: ClassifierSink>(datagram: UnsafeRawBufferPointer, fromInitiator: Bool, sink: inout S) {
        guard !isTCP else { return }
        udpState.udp.consume(datagram, fromInitiator: fromInitiator, sink: &sink)
    }

    /// The UDP classifier's label (`other` for TCP flows).
    final var datagramLabel: UDPFlowLabel { isTCP ? .other : udpState.udp.label }

    // MARK: MSE (encrypted BitTorrent by the shape of its key exchange; TCP flows whose SYN was seen)

    /// Starts measuring the key exchange from the next byte (a fresh MSEShapeDetector). TCP flows only.
    final func startMSE() {
        guard isTCP else { return }
        hasMSE = true
        mseUndecided = true
        if let p = tunnelParts, p.hasMSE { p.mse = nil; p.hasMSE = false; releaseTunnelPartsIfEmpty() }
    }

    final func mseConsume(_ bytes: UnsafeRawBufferPointer, fromInitiator: Bool) {
        guard mseUndecided, bytes.count > 0 else { return }
        if tunnelParts?.hasMSE != true {
            // The detector's first bytes, on the stack: most flows' first bytes rule the shape out (the
            // responder spoke first, a run longer than Y + Pad, bytes that are not random), and then the
            // flow needs no FlowParts for it (an allocation and a release per flow, issue 6).
            var first = MSEShapeDetector(sawConnectionStart: true)
            first.consume(bytes, fromInitiator: fromInitiator)
            if case .notMSE = first.verdict { mseUndecided = false; return }
            let p = parts()
            p.mse = first; p.hasMSE = true
            mseUpdated(p)
            return
        }
        let p = measuringMSE()
        p.mse!.consume(bytes, fromInitiator: fromInitiator)
        mseUpdated(p)
    }

    final func mseMissing(_ byteCount: Int, fromInitiator: Bool) {
        guard mseUndecided, byteCount > 0 else { return }
        let p = measuringMSE()
        p.mse!.missing(byteCount, fromInitiator: fromInitiator)
        mseUpdated(p)
    }

    /// The flow ended: the detector judges its open run (MSEShapeDetector.finish).
    final func mseFinish() {
        // A detector fed nothing has nothing to judge.
        guard mseUndecided, let p = tunnelParts, p.hasMSE else { return }
        p.mse!.finish()
        mseUpdated(p)
    }

    /// MSEShapeDetector.labellingEvidence (after `mseFinish`).
    final var mseLabellingEvidence: MSEEvidence? { tunnelParts?.mse?.labellingEvidence }

    /// The detector was started and ruled the MSE shape out.
    final var mseRuledOut: Bool { hasMSE && !mseUndecided && tunnelParts?.hasMSE != true }

    /// The parts holding the detector being fed.
    private final func measuringMSE() -> FlowParts {
        let p = parts()
        if !p.hasMSE { p.mse = MSEShapeDetector(sawConnectionStart: true); p.hasMSE = true }
        return p
    }

    private final func mseUpdated(_ p: FlowParts) {
        mseUndecided = p.mse!.isUndecided
        if case .notMSE = p.mse!.verdict {   // nothing more to learn from it
            p.mse = nil; p.hasMSE = false
            releaseTunnelPartsIfEmpty()
        }
    }

    // MARK: Tunnels

    /// Proxy handshake at the start of a TCP connection (SOCKS4/4a/5, HTTP CONNECT); nil once decided
    /// that the flow is direct. `tunnel` is the open tunnel.
    /// The detector is allocated at the flow's first payload byte (a SYN-only flow needs none).
    final var tunnelDetector: TunnelDetector? {
        get { probesTunnel ? (tunnelParts?.detector ?? TunnelDetector()) : nil }
        _modify {
            if probesTunnel {
                let p = parts()
                if !p.hasDetector { p.detector = TunnelDetector(); p.hasDetector = true }
                yield &p.detector
                if p.detector == nil {
                    p.hasDetector = false
                    probesTunnel = false
                    releaseTunnelPartsIfEmpty()
                }
            } else {
                var none: TunnelDetector? = nil
                yield &none
            }
        }
    }
    /// A detector was made (the flow's first bytes could start a proxy handshake).
    final var hasTunnelDetector: Bool { tunnelParts?.hasDetector == true }
    /// The flow is direct, decided before any detector was made (TunnelDetector.cannotOpen).
    final func endTunnelProbe() {
        probesTunnel = false
    }
    /// The detector's state, read without copying the detector (the getter above copies it whole).
    final var tunnelDetectorState: TunnelState? {
        guard probesTunnel, let p = tunnelParts, p.hasDetector else { return probesTunnel ? .probing : nil }
        return p.detector?.state
    }
    /// Takes the detector out of the flow (the flow no longer probes for a proxy handshake), without a copy.
    final func takeTunnelDetector() -> TunnelDetector? {
        guard probesTunnel else { return nil }
        var taken: TunnelDetector? = nil
        swap(&taken, &tunnelDetector)   // in place through _modify, which then releases what is empty
        return taken
    }
    /// The flow is a proxy's client leg: a tunnel is open on it, or it carries SOCKS5 UDP relay datagrams.
    final var isProxyLeg: Bool {
        guard let p = tunnelParts else { return false }
        return p.hasTunnel || p.relayTarget != nil
    }
    final var tunnel: TunnelInfo? {
        get { tunnelParts?.tunnel }
        _modify { yield &parts().tunnel; releaseTunnelPartsIfEmpty() }
    }
    /// A proxy handshake that opened nothing (refused, or a command other than CONNECT).
    final var tunnelFailure: TunnelFailure? {
        get { tunnelParts?.failure }
        _modify { yield &parts().failure; releaseTunnelPartsIfEmpty() }
    }
    /// A UDP flow between a SOCKS5 client and its relay: the first datagram's target.
    final var relayTarget: String? {
        get { tunnelParts?.relayTarget }
        _modify { yield &parts().relayTarget; releaseTunnelPartsIfEmpty() }
    }

    fileprivate final func parts() -> FlowParts {
        if let p = tunnelParts { return p }
        let p = FlowParts()
        tunnelParts = p
        return p
    }
    fileprivate final func releaseTunnelPartsIfEmpty() {
        if tunnelParts?.isEmpty == true { tunnelParts = nil }
    }
}

/// A flow's endpoints (`src` sent its first packet), for what needs them while the flow is processed.
struct FlowEnds {
    let src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16

    init(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16) {
        self.src = src; self.srcPort = srcPort; self.dst = dst; self.dstPort = dstPort
    }
    init<C>(_ flow: Flow<C>) {
        self.init(src: flow.src, srcPort: flow.srcPort, dst: flow.dst, dstPort: flow.dstPort)
    }
}

/// Routes classifier events of one flow direction to the aggregator, and collects the listening
/// endpoints that corroborate encrypted flows.
/// Unowned references: a sink lives only during one packet's (or one flow end's) processing, while
/// the analyzer owns the box and the flow table owns the state; strong references cost a retain and a
/// release for every sink and feed made per packet (a fifth of the run's time in perf, issue 6).
struct EvidenceSink: ClassifierSink {
    unowned(unsafe) let aggregator: AggregatorBox
    unowned(unsafe) let state: AnalyzerFlowState
    /// Its sender and receiver are the flow's endpoints (src and dst, or dst and src: `senderIsSrc`).
    let origin: EventOrigin
    let senderIsSrc: Bool
    /// The flow's ports (its addresses are the origin's).
    let srcPort: UInt16, dstPort: UInt16

    var src: IPAddress { senderIsSrc ? origin.sender : origin.receiver }
    var dst: IPAddress { senderIsSrc ? origin.receiver : origin.sender }
    var ends: FlowEnds { FlowEnds(src: src, srcPort: srcPort, dst: dst, dstPort: dstPort) }

    /// A sink for one direction of a flow: `origin`'s sender is the flow's `src` when `senderIsSrc`.
    init(aggregator: AggregatorBox, state: AnalyzerFlowState, origin: EventOrigin, senderIsSrc: Bool, srcPort: UInt16, dstPort: UInt16) {
        self.aggregator = aggregator; self.state = state; self.origin = origin; self.senderIsSrc = senderIsSrc
        self.srcPort = srcPort; self.dstPort = dstPort
    }

    /// A sink for the other direction of the same flow, or for the same one at another time and frame.
    func forDirection(fromSrc: Bool, timestamp: Timestamp, frame: FrameRef) -> EvidenceSink {
        let origin = fromSrc
            ? EventOrigin(flowID: origin.flowID, sender: src, receiver: dst, timestamp: timestamp, frame: frame)
            : EventOrigin(flowID: origin.flowID, sender: dst, receiver: src, timestamp: timestamp, frame: frame)
        return EvidenceSink(aggregator: aggregator, state: state, origin: origin, senderIsSrc: fromSrc, srcPort: srcPort, dstPort: dstPort)
    }

    mutating func receive(_ event: ClassifierEvent) {
        aggregator.value.record(event, origin: aggregator.tag(origin, state: state, ends: ends), flow: state.findings, senderIsSrc: senderIsSrc)
        if aggregator.collectsCorroboration { collectCorroboration(event) }
    }

    /// Listening endpoints known from cleartext BitTorrent, for MSECorroboration (its wiring notes).
    private func collectCorroboration(_ event: ClassifierEvent) {
        switch event {
        case .handshake(let h):
            // The accepting side of a cleartext peer connection listens on its port.
            let listener = PeerEndpoint(address: dst.bytes, port: dstPort)
            aggregator.corroboration.cleartextPeers.insert(listener)
            aggregator.corroboration.torrents[listener, default: []].insert(h.infoHash)
        case .extendedHandshake(let eh):
            if let p = eh.listenPort { aggregator.corroboration.cleartextPeers.insert(PeerEndpoint(address: origin.sender.bytes, port: p)) }
        case .dht(let m) where m.kind == .query && m.method == "announce_peer":
            let port = m.impliedPort ? (senderIsSrc ? srcPort : dstPort) : m.port
            if let port {
                let listener = PeerEndpoint(address: origin.sender.bytes, port: port)
                aggregator.corroboration.dhtAnnounced.insert(listener)
                if let h = m.infoHash { aggregator.corroboration.torrents[listener, default: []].insert(h) }
            }
        case .httpTrackerRequest(let r) where r.kind == .announce:
            if let p = r.port {
                let listener = PeerEndpoint(address: origin.sender.bytes, port: p)
                aggregator.corroboration.trackerAnnounced.insert(listener)
                aggregator.corroboration.torrents[listener, default: []].formUnion(r.infoHashes)
            }
        case .udpTracker(let m) where m.action == .announceRequest:
            if let p = m.port {
                let listener = PeerEndpoint(address: origin.sender.bytes, port: p)
                aggregator.corroboration.trackerAnnounced.insert(listener)
                aggregator.corroboration.torrents[listener, default: []].formUnion(m.infoHashes)
            }
        case .pex(let added, _):
            aggregator.corroboration.listedPeers.formUnion(added)
        default:
            break
        }
    }
}

/// What all flows of a run share, by reference between the analyzer and the sinks it hands out: the
/// evidence aggregator, the endpoints that corroborate encrypted flows, and the SOCKS5 UDP relays.
final class AggregatorBox {
    var value: EvidenceAggregator
    var corroboration = MSECorroboration()
    /// Only the encrypted label of flow rows uses `corroboration` (FlowFinalizer.labelEncryptedFlows):
    /// a run that keeps no flow rows does not collect it, so that memory does not grow with the
    /// capture's BitTorrent endpoints (issue 6).
    var collectsCorroboration = true
    /// SOCKS5 UDP relays opened by UDP ASSOCIATE, and the client each serves.
    var udpRelays: [RelayEndpoint: IPAddress] = [:]
    /// Addresses that accepted a proxy handshake (tunnel server side): their flows' rows are kept for
    /// linking proxy legs even when not every flow row is (AnalyzerOptions.keepsAllFlowRows).
    var proxies = AddressSet()
    /// SOCKS5 UDP fragments seen (not reassembled, RFC 1928 section 7 allows dropping them).
    var relayFragments = 0
    /// Tunnels and ended flows, for linking proxy legs at the end (ProxyAttribution).
    var attribution = ProxyAttribution()
    init(_ value: EvidenceAggregator) { self.value = value }
}

extension TunnelTarget {
    /// The target as an address, nil for a domain name.
    var address: IPAddress? {
        switch self {
        case .ipv4(let b), .ipv6(let b): IPAddress(bytes: b)
        case .domain: nil
        }
    }
}
