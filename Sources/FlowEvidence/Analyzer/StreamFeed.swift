// Delivers one TCP direction's reassembled bytes: first to the proxy-handshake detector (SOCKS4/4a/5,
// HTTP CONNECT; TunnelDetector's wiring notes), then to that direction's stream classifier, directly
// or, once a tunnel is open, from the first tunnelled byte. MSE's
// key-exchange shape is measured from the first byte of the connection, or of the tunnel.
import WireBytes
import PacketDecode
import BitTorrentClassifier

/// Created for TCP flows only, whose state always has `tcp`.
/// The state is not retained (a feed lives only during one packet's processing, as a sink): it is held
/// unmanaged and used through `_withUnsafeGuaranteedRef`, because an unowned(unsafe) one was retained
/// and released around each use (issue 6: atomic reference counting was 6% of a run's time).
struct StreamFeed: StreamConsumer {
    private let stateRef: Unmanaged<AnalyzerFlowState>
    let fromSrc: Bool
    var sink: EvidenceSink

    init(state: AnalyzerFlowState, fromSrc: Bool, sink: EvidenceSink) {
        stateRef = .passUnretained(state); self.fromSrc = fromSrc; self.sink = sink
    }

    var wantsBytes: Bool {
        stateRef._withUnsafeGuaranteedRef { state in
            state.probesTunnel || state.mseUndecided || state.tcpWantsBytes(fromSrc: fromSrc)
        }
    }

    mutating func deliver(_ bytes: UnsafeRawBufferPointer) {
        let ref = stateRef
        ref._withUnsafeGuaranteedRef { deliver(bytes, state: $0) }
    }

    private mutating func deliver(_ bytes: UnsafeRawBufferPointer, state: AnalyzerFlowState) {
        guard state.probesTunnel else { return Self.classify(bytes, state: state, fromSrc: fromSrc, sink: &sink) }
        if !state.hasTunnelDetector, TunnelDetector.cannotOpen(with: bytes, fromClient: fromSrc) {
            // What a new detector would decide at once, holding nothing (no detector is made).
            state.endTunnelProbe()
            return Self.classify(bytes, state: state, fromSrc: fromSrc, sink: &sink)
        }
        let n = state.tunnelDetector!.consume(bytes, fromClient: fromSrc)
        switch state.tunnelDetectorState! {
        case .probing:
            return   // held by the detector
        case .failed(let f):
            state.tunnelFailure = f
            return   // a proxy exchange that opened nothing: no payload follows
        case .open(let info):
            state.tunnel = info
            sink.aggregator.tunnelOpened(info, flowID: sink.origin.flowID, ends: sink.ends, at: sink.origin.timestamp,
                                         handshake: state.tunnelDetector!.handshakeBytes)
            sink.aggregator.proxies.insert(sink.dst)
            SOCKS5UDPRelay.register(info, proxy: sink.dst, client: sink.src, in: sink.aggregator)
            // The key exchange of an encrypted connection starts at the first tunnelled byte.
            state.startMSE()
            replayDeferred(state)
            Self.classify(bytes.slice(n, bytes.count - n), state: state, fromSrc: fromSrc, sink: &sink)
        case .notATunnel:
            replayDeferred(state)
            Self.classify(bytes, state: state, fromSrc: fromSrc, sink: &sink)
        }
    }

    mutating func gap(_ byteCount: Int) {
        let ref = stateRef
        ref._withUnsafeGuaranteedRef { state in
            if state.probesTunnel { stopProbing(state) }
            state.mseMissing(byteCount, fromInitiator: fromSrc)
            state.tcp!.gap(byteCount, fromSrc: fromSrc, sink: &sink)
        }
    }

    /// The flow ended or lost bytes while the handshake was still being read: classify what was held.
    mutating func stopProbing() {
        let ref = stateRef
        ref._withUnsafeGuaranteedRef { stopProbing($0) }
    }

    private mutating func stopProbing(_ state: AnalyzerFlowState) {
        guard state.probesTunnel else { return }
        state.tunnelDetector!.stopProbing()
        replayDeferred(state)
    }

    /// Bytes the detector held (pipelined payload, or a direct flow's first bytes), client's first;
    /// then the detector is done with this flow.
    private mutating func replayDeferred(_ state: AnalyzerFlowState) {
        guard var d = state.takeTunnelDetector() else { return }
        for client in [true, false] {
            let held = d.takeDeferredBytes(fromClient: client)
            guard !held.isEmpty else { continue }
            var s = sink.forDirection(fromSrc: client, timestamp: sink.origin.timestamp, frame: sink.origin.frame)
            held.withUnsafeBytes { Self.classify($0, state: state, fromSrc: client, sink: &s) }
        }
    }

    private static func classify(_ bytes: UnsafeRawBufferPointer, state: AnalyzerFlowState, fromSrc: Bool, sink: inout EvidenceSink) {
        guard bytes.count > 0 else { return }
        state.mseConsume(bytes, fromInitiator: fromSrc)
        // Seen from its first byte (MSE is measured from the SYN) and not an MSE key exchange: a
        // direction that did not open with a handshake is not a peer connection.
        state.tcpConsume(bytes, fromSrc: fromSrc, endProbing: state.mseRuledOut, sink: &sink)
    }
}
