// Entry point of the FuzzUTP libFuzzer target (replayed by FuzzReplayTests): one UDP flow through
// UDPFlowClassifier (uTP BEP 29, UDP tracker BEP 15, LSD BEP 14, DHT BEP 5).
//
// Input layout: byte 0 bit 0 = IPv6 flow; then datagrams, each a 2-byte big-endian header (top bit:
// sent by the initiator, low 15 bits: length) and its bytes (the last takes what is left).
import BitTorrentClassifier
import WireBytes

/// Feeds every datagram of one input. Returns the events produced.
@discardableResult
public func udpFlowFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard let selector = bytes.u8(at: 0) else { return 0 }
    var flow = UDPFlowClassifier()
    flow.isIPv6 = selector & 1 != 0
    var sink = ClassifierInvariantSink()
    var datagrams = 0
    for (fromInitiator, d) in DirectedRecords(bytes, offset: 1) {
        let before = flow.label, eventsBefore = sink.events
        sink.chunk = d
        flow.consume(d, fromInitiator: fromInitiator, sink: &sink)
        datagrams += 1
        if before != .undecided { precondition(flow.label != .undecided, "a labelled flow became undecided") }
        if before == .other { precondition(flow.label == .other && sink.events == eventsBefore, "events after the flow was given up") }
        if flow.label == .undecided { precondition(datagrams < UDPFlowClassifier.maxProbeDatagrams, "probing past its budget") }
        if let h = UTPHeader.parse(d) { precondition(h.payloadOffset >= UTPHeader.fixedLength && h.payloadOffset <= d.count) }
    }
    return sink.events
}
