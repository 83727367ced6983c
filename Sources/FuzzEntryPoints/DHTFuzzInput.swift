// Entry point of the FuzzDHT libFuzzer target (replayed by FuzzReplayTests): the input is one UDP
// datagram given to DHTDetector (BEP 5 KRPC).
import BitTorrentClassifier
import WireBytes

/// Inspects one datagram. Returns the events it produced.
@discardableResult
public func dhtFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    var sink = ClassifierInvariantSink()
    let result = DHTDetector.inspect(bytes, sink: &sink)
    precondition(sink.events <= 1, "one datagram is at most one KRPC message")
    if result == .match {
        precondition(DHTDetector.probe(bytes) && sink.recognised == 1, "a match reports its message")
        precondition(bytes.count >= DHTDetector.minimumMessageLength)
    }
    if !DHTDetector.probe(bytes) { precondition(sink.events == 0, "events from bytes the probe rejected") }
    return sink.events
}
