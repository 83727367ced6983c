// Recognises peer wire messages (BEP 3 framing, https://www.bittorrent.org/beps/bep_0003.html)
// in a stream whose handshake was not captured: the capture started mid-connection, or bytes were
// lost and framing must be found again.
//
// Conservative on purpose: a candidate is a header of a `have` (length 5), `request` (length 13,
// block-aligned) or `piece` (block-aligned begin, sane length); from there the bytes must keep
// parsing as `requiredRun` consecutive well-formed messages, at least one of them a piece or have
// (a run of requests alone is what Windows Delivery Optimization's look-alike produces). No
// infohash ever comes from here; the verdict only labels the flow.
import WireBytes

public struct PeerWireMidstreamRecognizer {
    public enum Verdict: Equatable, Sendable { case undecided, peerWire }

    /// Consecutive valid messages (keep-alives not counted) before the verdict on a stream that
    /// never showed a handshake.
    public static let requiredRun = 3
    /// The same after a gap in a stream already known to be peer wire: only framing is in doubt.
    public static let requiredRunAfterGap = 2
    /// Message and block headers kept for `replay` (the run that led to the verdict).
    public static let maxReplayedEvents = 64
    /// Candidates tried per call, so a pathological buffer cannot make scanning quadratic.
    public static let maxCandidatesPerCall = 64
    /// BEP 3: "block size [...] all current implementations use 2^14 (16 kiB)"; begins are multiples of it.
    static let blockAlignment: UInt32 = 1 << 14

    public private(set) var verdict: Verdict = .undecided
    /// The tentative stream; after `.peerWire`, the stream to keep feeding.
    public private(set) var stream = PeerWireStream(expectHandshake: false)
    private var tracking = false
    private var run = RunCounter()
    private let required: Int

    public init(afterGap: Bool = false) {
        required = afterGap ? Self.requiredRunAfterGap : Self.requiredRun
    }

    /// Feeds in-order bytes. Events of the messages that led to the verdict are held back (they were
    /// tentative); after `.peerWire`, `replay` emits their headers and `stream` takes the next bytes.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        guard verdict == .undecided else { return }
        var start = 0
        var candidates = 0
        if tracking {
            let used = stream.consume(bytes, sink: &run)
            if stream.phase == .messages { decide(); return }
            tracking = false
            start = used
        }
        while start < bytes.count, candidates < Self.maxCandidatesPerCall {
            guard let k = Self.findCandidate(bytes, from: start) else { return }
            candidates += 1
            stream = PeerWireStream(expectHandshake: false)
            run = RunCounter()
            let rest = bytes.slice(k, bytes.count - k)
            _ = stream.consume(rest, sink: &run)
            if stream.phase == .messages {
                tracking = true
                decide()
                return
            }
            start = k + 1
        }
    }

    private mutating func decide() {
        if run.messages >= required && run.strong > 0 { verdict = .peerWire }
    }

    /// After `.peerWire`: the `peerMessage` and `pieceBlock` events of the recognised run (their
    /// piece payload bytes were in earlier buffers and are not replayed).
    public func replay<S: ClassifierSink>(into sink: inout S) {
        guard verdict == .peerWire else { return }
        for e in run.held { sink.receive(e.event) }
    }

    /// First offset at or after `from` holding a plausible have/request/piece header.
    static func findCandidate(_ b: UnsafeRawBufferPointer, from: Int) -> Int? {
        var k = from
        while let len = b.u32be(at: k), let id = b.u8(at: k + 4) {
            switch (id, len) {
            case (4, 5):
                return k
            case (6, 13):
                if let begin = b.u32be(at: k + 9), begin % blockAlignment == 0,
                   let blockLen = b.u32be(at: k + 13), blockLen > 0, Int(blockLen) <= PeerWireFraming.maxBlockLength { return k }
            case (7, _):
                if len > 9, Int(len) <= PeerWireFraming.maxPieceMessageLength,
                   let begin = b.u32be(at: k + 9), begin % blockAlignment == 0 { return k }
            default:
                break
            }
            k += 1
        }
        return nil
    }

    /// Counts what the tentative stream saw.
    struct RunCounter: ClassifierSink {
        enum Held { case message(UInt8, UInt32), block(UInt32, UInt32, UInt32)
            var event: ClassifierEvent {
                switch self {
                case .message(let id, let len): .peerMessage(id: id, length: len)
                case .block(let i, let b, let l): .pieceBlock(index: i, begin: b, length: l)
                }
            }
        }
        var messages = 0
        var strong = 0
        var held: [Held] = []
        mutating func receive(_ event: ClassifierEvent) {
            if case .pieceBlock(let i, let b, let l) = event, held.count < maxReplayedEvents { held.append(.block(i, b, l)) }
            guard case .peerMessage(let id, let len) = event else { return }
            if held.count < maxReplayedEvents { held.append(.message(id, len)) }
            guard id != PeerWireMessageID.keepAlive.rawValue else { return }
            messages += 1
            if id == PeerWireMessageID.piece.rawValue || id == PeerWireMessageID.have.rawValue { strong += 1 }
        }
    }
}
