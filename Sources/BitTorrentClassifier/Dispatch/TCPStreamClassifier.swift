// One direction of a TCP flow: decides which BitTorrent protocol it carries and keeps parsing it.
// Peer wire (BEP 3, https://www.bittorrent.org/beps/bep_0003.html) from a handshake, or from a
// run of messages when the handshake was not captured (PeerWireMidstreamRecognizer).
import WireBytes

public enum StreamState: Equatable, Sendable {
    case undecided
    case peerWire
    case httpTracker
    case other
}

public struct TCPStreamClassifier {
    /// Bytes an undecided stream may take (mid-stream recognition needs a few messages, and a
    /// 16 KiB piece each) before it is declared `.other`.
    public static let maxUndecidedBytes = 256 * 1024
    /// Bytes spent looking for framing again after a gap or a broken message.
    public static let maxResyncBytes = 256 * 1024

    public private(set) var state: StreamState = .undecided
    private var wire = PeerWireStream()
    private var recognizer: PeerWireMidstreamRecognizer?
    private var started = false
    private var probeBytes = 0
    private var gaveUp = false
    private var http: HTTPProbe?

    /// An HTTP stream being probed for a tracker request (client side) or answer (server side):
    /// the detector is stateless, so the head of the stream is gathered, bounded by its limits.
    struct HTTPProbe {
        var isRequest: Bool
        var head: [UInt8] = []
        var limit: Int {
            isRequest ? HTTPTrackerDetector.maximumRequestLineLength + 4_096
                : HTTPTrackerDetector.maximumResponseHeaderLength + HTTPTrackerDetector.maximumResponseBodyLength
        }
    }

    public init() {}

    public var wantsBytes: Bool { state != .other && !gaveUp }

    /// The mid-stream recogniser started at the stream's first byte, with no gap since.
    private var recognizingFromFirstByte = false

    /// For a stream seen from its first byte (the caller saw the SYN) that did not open with a
    /// handshake or HTTP: a cleartext peer connection opens with the handshake (BEP 3), so looking for
    /// peer-wire messages further on is pointless, and the stream is `.other`. The caller asks only once
    /// the MSE shape test has ruled out an encrypted preamble (after which a plaintext handshake or
    /// messages may follow: bittorrent_tcp_miss.pcapng). Saves scanning up to `maxUndecidedBytes` of
    /// every such flow, and the classifier's memory (issue 6).
    public mutating func endProbingFromFirstByte() {
        guard state == .undecided, recognizingFromFirstByte, recognizer != nil else { return }
        recognizer = nil
        state = .other
    }

    /// `consume`, then `endProbingFromFirstByte` when `endProbing`. When these are the stream's first
    /// bytes, no mid-stream recogniser is made for them: it would be dropped right after reading them
    /// (issue 6: most TCP flows of a busy link open so, and scanning each first segment for messages
    /// was most of their cost). A handshake after a preamble is still looked for.
    public mutating func consume<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, endingProbing endProbing: Bool, sink: inout S) {
        consume(bytes, searchOnly: endProbing && !started, sink: &sink)
        if endProbing { endProbingFromFirstByte() }
    }

    /// The peer wire handshake of this direction, if seen.
    public var handshake: PeerWireHandshake? { wire.handshake }

    public mutating func consume<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) {
        consume(bytes, searchOnly: false, sink: &sink)
    }

    /// `searchOnly`: first bytes that open with neither a handshake nor HTTP are only searched for a
    /// handshake after a preamble (`consume(_:endingProbing:sink:)`).
    private mutating func consume<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, searchOnly: Bool, sink: inout S) {
        guard wantsBytes, bytes.count > 0 else { return }
        if !started {
            started = true
            if bytes.matches("GET ") || bytes.matches("HTTP/1.") {
                http = HTTPProbe(isRequest: bytes[0] == UInt8(ascii: "G"))
            } else if bytes[0] != 0x13 {
                recognizingFromFirstByte = true
                if searchOnly {
                    if let k = Self.handshakeOffset(in: bytes) { startHandshake(bytes, at: k, sink: &sink) } else { state = .other }
                    return
                }
                wire = PeerWireStream(expectHandshake: false)
                recognizer = PeerWireMidstreamRecognizer()
            }
        }
        if http != nil {
            feedHTTP(bytes, sink: &sink)
            return
        }
        if recognizer != nil {
            feedRecognizer(bytes, sink: &sink)
            return
        }
        let used = wire.consume(bytes, sink: &sink)
        switch wire.phase {
        case .messages:
            state = .peerWire
        case .handshake:
            break
        case .failed where wire.handshake == nil && state == .undecided:
            state = .other  // not a handshake after all (a stream recognised mid-stream resyncs below, as after a gap)
        case .failed, .lostSync:
            startResync()
            feedRecognizer(bytes.slice(used, bytes.count - used), sink: &sink)
        }
    }

    /// Bytes missing from the stream. With a sink, an HTTP request cut by the hole is still read up to
    /// the cut (HTTPTrackerDetector.inspectCutRequest): a snap length of 200 cuts most announces.
    public mutating func gap<S: ClassifierSink>(_ byteCount: Int, sink: inout S) {
        guard wantsBytes, byteCount > 0 else { return }
        if let p = http, p.isRequest {
            http = nil
            let r = p.head.withUnsafeBytes { HTTPTrackerDetector.inspectCutRequest($0, sink: &sink) }
            if r == .match { state = .httpTracker; gaveUp = true } else { state = .other }
            return
        }
        gap(byteCount)
    }

    public mutating func gap(_ byteCount: Int) {
        guard wantsBytes, byteCount > 0 else { return }
        recognizingFromFirstByte = false
        if http != nil { http = nil; state = .other; return }  // an answer (or a request, without a sink) with a hole
        if recognizer != nil {
            recognizer = PeerWireMidstreamRecognizer(afterGap: state == .peerWire)  // the tentative run is broken
            return
        }
        if !started { started = true; wire = PeerWireStream(expectHandshake: false); recognizer = PeerWireMidstreamRecognizer(); return }
        wire.gap(byteCount)
        if wire.phase == .lostSync || wire.phase == .failed {
            if wire.handshake != nil || state == .peerWire { startResync() } else { state = .other }
        }
    }

    private mutating func feedHTTP<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) {
        guard var p = http else { return }
        http = nil   // `p` is now the only owner of its buffer: appending does not copy it (COW)
        p.head.append(contentsOf: bytes.prefix(max(0, p.limit - p.head.count)))
        let full = p.head.count >= p.limit
        let result = p.head.withUnsafeBytes { head in
            p.isRequest ? HTTPTrackerDetector.inspectRequest(head, sink: &sink) : HTTPTrackerDetector.inspectResponse(head, sink: &sink)
        }
        switch result {
        case .match:
            // One announce or answer names the torrent; later keep-alive requests are not followed.
            state = .httpTracker
            http = nil
            gaveUp = true
        case .noMatch:
            state = .other
            http = nil
        case .needMore:
            if full { state = .other; http = nil } else { http = p }
        }
    }

    /// Offset of "\u{13}BitTorrent protocol" inside this buffer (not across calls), if any.
    static func handshakeOffset(in b: UnsafeRawBufferPointer) -> Int? {
        var k = 0
        while k + 20 <= b.count {
            guard let z = b.offset(ofByte: 0x13, from: k), z + 20 <= b.count else { return nil }  // 8 bytes at a time
            if b.matches("\u{13}BitTorrent protocol", at: z) { return z }
            k = z + 1
        }
        return nil
    }

    /// Reads the stream as peer wire from the handshake at offset `k` of `bytes` (after a preamble).
    private mutating func startHandshake<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, at k: Int, sink: inout S) {
        recognizer = nil
        wire = PeerWireStream()
        consume(bytes.slice(k, bytes.count - k), sink: &sink)
    }

    private mutating func startResync() {
        recognizer = PeerWireMidstreamRecognizer(afterGap: true)
        probeBytes = 0
    }

    private mutating func feedRecognizer<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) {
        guard recognizer != nil else { return }
        if state == .undecided, let k = Self.handshakeOffset(in: bytes) {
            // A handshake after a preamble: message stream encryption that negotiated plaintext
            // (bittorrent_tcp_miss.pcapng), or a proxy exchange. The 20-byte literal is specific enough.
            startHandshake(bytes, at: k, sink: &sink)
            return
        }
        // Mutated in place through the optional: no copy of the recognizer (a few hundred bytes) and
        // its buffers stay uniquely referenced (no copy on write).
        recognizer!.consume(bytes)
        if recognizer!.verdict == .peerWire {
            recognizer!.replay(into: &sink)
            wire = recognizer!.stream
            recognizer = nil
            state = .peerWire
            return
        }
        probeBytes += bytes.count
        let limit = state == .peerWire ? Self.maxResyncBytes : Self.maxUndecidedBytes
        if probeBytes > limit {
            if state == .undecided { state = .other } else { gaveUp = true }
        }
    }
}
