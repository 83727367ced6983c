// Entry point of the FuzzTunnel libFuzzer target (replayed by FuzzReplayTests): one TCP connection's
// first segments through TunnelDetector (SOCKS4/5, HTTP CONNECT) and MSEShapeDetector (BEP 8 shape),
// and the whole input through SOCKS5UDPHeader.parse (RFC 1928 section 7).
//
// Input layout: byte 0 bit 0 = the capture saw the connection start (for MSEShapeDetector); then
// segments, each a 2-byte big-endian header (top bit: sent by the client/initiator, low 15 bits:
// length) and its bytes (the last takes what is left).
import BitTorrentClassifier
import WireBytes

/// Feeds every segment of one input. Returns the number of segments whose bytes the tunnel detector took.
@discardableResult
public func tunnelFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard let selector = bytes.u8(at: 0) else { return 0 }
    var tunnel = TunnelDetector()
    var mse = MSEShapeDetector(sawConnectionStart: selector & 1 != 0)
    var taken = 0
    for (fromClient, segment) in DirectedRecords(bytes, offset: 1) {
        let before = tunnel.state
        let n = tunnel.consume(segment, fromClient: fromClient)
        precondition(n >= 0 && n <= segment.count, "consumed count outside the segment")
        if n > 0 { taken += 1 }
        switch tunnel.state {
        case .notATunnel: precondition(n == 0, "a flow that is no tunnel keeps its bytes")
        case .probing: precondition(n == segment.count, "probing holds every byte")
        case .failed, .open: break
        }
        switch before {
        case .open, .notATunnel: precondition(tunnel.state == before && n == 0, "a decided tunnel changed")
        case .probing, .failed: break
        }
        let verdict = mse.verdict
        mse.consume(segment, fromInitiator: fromClient)
        if case .undecided = verdict {} else { precondition(mse.verdict == verdict, "an MSE verdict changed") }
    }
    for fromClient in [false, true] {
        precondition(tunnel.takeDeferredBytes(fromClient: fromClient).count <= TunnelLimits.maxHandshakeBytes)
        precondition(tunnel.takeDeferredBytes(fromClient: fromClient).isEmpty, "deferred bytes are given once")
    }
    tunnel.stopProbing()
    if case .probing = tunnel.state { preconditionFailure("stopProbing left the detector probing") }
    mse.finish()
    if case .likelyMSE(let e) = mse.verdict { precondition((2...3).contains(e.stepsMatched) && e.initiatorDHBytes >= MSELimits.minDHRun) }

    if let h = SOCKS5UDPHeader.parse(bytes) {
        precondition(h.payloadOffset >= 7 && h.payloadOffset <= bytes.count, "SOCKS5 UDP DATA outside the datagram")
    }
    return taken
}
