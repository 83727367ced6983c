// Entry point of the FuzzHTTPTracker libFuzzer target (replayed by FuzzReplayTests).
//
// Input layout: byte 0 = selector, the rest = the head of one HTTP stream. Selector bit 0: a
// response (HTTPTrackerDetector.inspectResponse) instead of a request (inspectRequest); bit 1: the
// detector sees every prefix (as TCPStreamClassifier does while bytes arrive; inputs up to
// `maxPrefixSweep` bytes) instead of only the whole; bit 2: the rest is a response body for
// inspectResponseBody (complete when bit 3 is set).
import BitTorrentClassifier
import WireBytes

/// Prefix sweeps are quadratic: longer inputs are inspected whole.
let maxPrefixSweep = 1_024

/// Inspects one input. Returns the events produced.
@discardableResult
public func httpTrackerFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard let selector = bytes.u8(at: 0) else { return 0 }
    let head = bytes.slice(1, bytes.count - 1)
    var sink = ClassifierInvariantSink()
    func inspect(_ b: UnsafeRawBufferPointer) -> ProbeResult {
        if selector & 4 != 0 { return HTTPTrackerDetector.inspectResponseBody(b, complete: selector & 8 != 0, sink: &sink) }
        return selector & 1 != 0 ? HTTPTrackerDetector.inspectResponse(b, sink: &sink) : HTTPTrackerDetector.inspectRequest(b, sink: &sink)
    }
    let sweep = selector & 2 != 0 && head.count <= maxPrefixSweep
    for end in (sweep ? 0 : head.count)...head.count {
        let eventsBefore = sink.events
        let result = inspect(head.slice(0, end))
        if result == .match { precondition(sink.recognised >= 1 && sink.events > eventsBefore, "a match reports what it matched") }
        if end == 0 { precondition(result != .match, "an empty stream matched") }
    }
    return sink.events
}
