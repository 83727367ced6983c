// TCPStreamClassifier.consume(_:endingProbing:sink:) (issue 6): a direction's first bytes, when the
// flow layer already knows that probing ends after them (MSE ruled out on a connection seen from its
// SYN), are only searched for a handshake after a preamble; the mid-stream recogniser is not run on
// bytes it would be dropped after. The outcome must be that of `consume` then
// `endProbingFromFirstByte`, except for a stream that opens with peer-wire messages and no handshake,
// which BEP 3 does not allow ("the handshake ... is the first thing sent"): it is `.other` now.
import Testing
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct EndProbingTests {
    /// Each segment fed both ways: the old sequence (consume, then end probing) and the new call.
    static func both(_ segments: [[UInt8]]) -> (old: (TCPStreamClassifier, RecordingSink), new: (TCPStreamClassifier, RecordingSink)) {
        var old = TCPStreamClassifier(), new = TCPStreamClassifier()
        var oldSink = RecordingSink(), newSink = RecordingSink()
        for s in segments {
            withBytes(s) { b in
                if old.wantsBytes { old.consume(b, sink: &oldSink); old.endProbingFromFirstByte() }
                if new.wantsBytes { new.consume(b, endingProbing: true, sink: &newSink) }
            }
        }
        return ((old, oldSink), (new, newSink))
    }

    static var random: [UInt8] { var g = TestRandomBytes(state: 6); return g.next(1460) }
    /// A real handshake (PeerWireHandshakeTests.frame4) after a PROXY protocol v1 line (a load
    /// balancer's preamble): found by the search for a handshake after a preamble.
    static var preambleThenHandshake: [UInt8] {
        Array("PROXY TCP4 192.0.2.1 198.51.100.2 51413 6881\r\n".utf8) + PeerWireHandshakeTests.frame4
    }

    @Test(arguments: [
        ("random bytes", [random]),
        ("random bytes, then a handshake", [random, PeerWireHandshakeTests.frame4]),
        ("a preamble, then a handshake", [preambleThenHandshake]),
        ("a handshake", [PeerWireHandshakeTests.frame4]),
        ("0x13, not a handshake", [[0x13] + Array(random.prefix(100))]),
        ("an HTTP request", [Array("GET /announce?info_hash=%12%34 HTTP/1.1\r\nHost: t\r\n\r\n".utf8)]),
        ("an HTTP answer", [Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nde".utf8)]),
    ])
    func sameOutcomeAsConsumeThenEnd(_ name: String, _ segments: [[UInt8]]) {
        let (old, new) = Self.both(segments)
        #expect(new.0.state == old.0.state, "\(name)")
        #expect(new.0.wantsBytes == old.0.wantsBytes, "\(name)")
        #expect(new.1.events == old.1.events, "\(name)")
    }

    @Test func preambleThenHandshakeIsPeerWire() {
        let (_, new) = Self.both([Self.preambleThenHandshake])
        #expect(new.0.state == .peerWire && new.1.handshakes.count == 1)
    }

    @Test func randomFirstBytesEndTheStream() {
        let (_, new) = Self.both([Self.random])
        #expect(new.0.state == .other && !new.0.wantsBytes && new.1.events.isEmpty)
    }

    /// The one difference: three `have` messages from the stream's first byte. The recogniser took
    /// them for peer wire (three well-formed messages, one of them a have) before probing ended;
    /// with probing ended they are not a peer connection.
    @Test func messagesWithoutHandshakeFromTheFirstByteAreOther() {
        let haves = message(4, be32(1)) + message(4, be32(2)) + message(4, be32(3))
        let (old, new) = Self.both([haves])
        #expect(old.0.state == .peerWire)
        #expect(new.0.state == .other && !new.0.wantsBytes && new.1.events.isEmpty)
        // Without probing ended (MSE still undecided), the recogniser still reads them.
        var c = TCPStreamClassifier(), sink = RecordingSink()
        withBytes(haves) { c.consume($0, endingProbing: false, sink: &sink) }
        #expect(c.state == .peerWire)
    }

    /// After a gap the stream is no longer read from its first byte: ending probing changes nothing.
    @Test func afterAGapTheRecogniserStillRuns() {
        let haves = message(4, be32(1)) + message(4, be32(2)) + message(4, be32(3))
        var c = TCPStreamClassifier(), sink = RecordingSink()
        c.gap(100)
        withBytes(haves) { c.consume($0, endingProbing: true, sink: &sink) }
        #expect(c.state == .peerWire)
    }
}
