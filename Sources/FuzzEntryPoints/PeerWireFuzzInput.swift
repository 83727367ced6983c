// Entry point of the FuzzPeerWire libFuzzer target (replayed by FuzzReplayTests).
//
// Input layout: byte 0 = n, then n control bytes, then the stream bytes. Control bytes are applied
// in order to one TCPStreamClassifier: c < 0x80 feeds the next (c + 1) * 8 stream bytes as one
// segment; c >= 0x80 reports a gap of (c & 0x3F) + 1 bytes (times 1024 when bit 0x40 is set). The
// stream bytes left after the controls are fed as one last segment. A seed with n = 0 is a real
// TCP payload fed whole. The stream bytes are also given to ExtensionMessages.inspect as one BEP 10
// message (first byte = extended id).
import BitTorrentClassifier
import WireBytes

/// Feeds one input. Returns the events produced.
@discardableResult
public func peerWireFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard let n = bytes.u8(at: 0) else { return 0 }
    let controls = bytes.slice(1, Int(n))
    var data = ByteCursor(bytes, offset: 1 + controls.count)
    var tcp = TCPStreamClassifier()
    var sink = ClassifierInvariantSink()
    for c in controls {
        if c < 0x80 {
            feed(&tcp, data.take((Int(c) + 1) * 8) ?? data.take(data.remaining)!, sink: &sink)
        } else {
            let count = (Int(c & 0x3F) + 1) * (c & 0x40 != 0 ? 1024 : 1)
            let before = tcp.state, eventsBefore = sink.events
            tcp.gap(count)
            precondition(sink.events == eventsBefore, "a gap emits nothing")
            checkTransition(before, tcp.state)
        }
    }
    feed(&tcp, data.rest, sink: &sink)

    let stream = bytes.slice(1 + controls.count, bytes.count - 1 - controls.count)
    if let id = stream.u8(at: 0) {
        var ext = ClassifierInvariantSink()
        ext.chunk = stream
        let result = ExtensionMessages.inspect(extendedID: id, payload: stream.slice(1, stream.count - 1), sink: &ext)
        if result == .match { precondition(ext.recognised >= 1, "a matched extension message reports something") }
    }
    return sink.events
}

private func feed(_ tcp: inout TCPStreamClassifier, _ segment: UnsafeRawBufferPointer, sink: inout ClassifierInvariantSink) {
    let before = tcp.state, wanted = tcp.wantsBytes, eventsBefore = sink.events
    sink.chunk = segment
    tcp.consume(segment, sink: &sink)
    sink.chunk = nil
    if !wanted { precondition(sink.events == eventsBefore && tcp.state == before, "events after the stream was given up") }
    checkTransition(before, tcp.state)
}

/// A decided stream never becomes undecided again, and a peer wire or HTTP tracker stream stays one
/// (a broken message or a gap in a peer wire stream starts a resync, it does not relabel the stream).
private func checkTransition(_ before: StreamState, _ after: StreamState) {
    if before != .undecided { precondition(after != .undecided, "stream went back to undecided") }
    if before == .peerWire { precondition(after == .peerWire, "a peer wire stream was relabelled") }
    if before == .httpTracker || before == .other { precondition(after == before, "a final stream state changed") }
}
