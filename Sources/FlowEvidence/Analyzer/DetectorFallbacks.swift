// Detectors the classifier's dispatchers do not call yet: DHT (BEP 5) in UDPFlowClassifier and the HTTP
// tracker (BEP 3/23) in TCPStreamClassifier. The flow layer calls them itself, and only while the
// dispatcher has not claimed the flow for that protocol (label `.dht` / state `.httpTracker`), so that
// nothing is counted twice once a dispatcher calls them.
import WireBytes
import BitTorrentClassifier

enum DetectorFallbacks {
    /// One UDP datagram, after UDPFlowClassifier saw it. KRPC messages start with 'd' (0x64), which no
    /// uTP header can (type 6 does not exist, BEP 29), so a flow that carries both stays consistent.
    static func datagram(_ d: UnsafeRawBufferPointer, label: UDPFlowLabel, sink: inout EvidenceSink) {
        guard label != .dht, DHTDetector.probe(d) else { return }
        DHTDetector.inspect(d, sink: &sink)
    }

    /// The first bytes of a TCP direction, after TCPStreamClassifier saw them. A tracker request fits
    /// one segment in practice (a few hundred bytes); one that does not is counted, not reassembled.
    static func streamStart(_ bytes: UnsafeRawBufferPointer, state: StreamState, findings: FlowFindings, sink: inout EvidenceSink) -> Bool {
        guard state != .httpTracker else { return true }
        if bytes.matches("GET ") {
            return HTTPTrackerDetector.inspectRequest(bytes, sink: &sink) != .needMore
        }
        if bytes.matches("HTTP/1."), findings.kinds.contains(.trackerHTTP) {
            _ = HTTPTrackerDetector.inspectResponse(bytes, sink: &sink)
        }
        return true
    }
}
