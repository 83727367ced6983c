// One direction of a peer wire connection: BEP 3 handshake, then length-prefixed messages
// (BEP 3, 5, 6, 10, 52; lengths checked in PeerWireFraming.swift).
//
// A state machine that follows the framing for the whole stream without buffering payload: it
// carries "bytes left in this message" across calls and only shifts the few header bytes
// (length, id, piece index and begin) into integers. Piece payload is reported as pointers into the
// caller's bytes. Only extended messages (id 20) are gathered, up to `maxBufferedExtendedPayload`,
// because the bencode parser needs them whole.
import WireBytes

public struct PeerWireStream {
    public enum Phase: Equatable, Sendable {
        /// Reading the 68-byte handshake.
        case handshake
        /// Following message framing.
        case messages
        /// Bytes were lost where a header was due; framing is unknown (see TCPStreamClassifier resync).
        case lostSync
        /// The bytes broke the grammar (not a handshake, bad length, unknown id).
        case failed
    }

    /// Extended messages up to this size are gathered and handed to `.extendedMessage`; larger
    /// ones are skipped (BEP 9 metadata pieces are 16 KiB, BEP 10 handshakes much smaller).
    public static let maxBufferedExtendedPayload = 64 * 1024

    private enum Mode: UInt8 { case handshake, header, skip, piece, extended, lostSync, failed }

    private var mode: Mode
    private var handshakeAcc = PeerWireHandshakeAccumulator()
    // Header in progress: 0..<4 length, 4 id, 5..<13 piece index and begin.
    private var headerPos = 0
    private var length: UInt32 = 0
    private var id: UInt8 = 0
    private var pieceIndex: UInt32 = 0
    private var pieceOffset: UInt32 = 0
    /// Bytes left in the current message body.
    private var remaining = 0
    // Extended message being gathered (allocated on first use, then reused).
    private var extBuffer: [UInt8] = []
    private var extGathering = false

    /// The handshake, once seen.
    public private(set) var handshake: PeerWireHandshake?
    /// Complete or started messages whose header validated (keep-alives included).
    public private(set) var messageCount = 0
    /// Piece payload bytes seen (not counting bytes lost in gaps).
    public private(set) var pieceBytes = 0

    /// `expectHandshake: false` starts at a message boundary (mid-stream capture, resync, tests).
    public init(expectHandshake: Bool = true) {
        mode = expectHandshake ? .handshake : .header
    }

    public var phase: Phase {
        switch mode {
        case .handshake: .handshake
        case .header, .skip, .piece, .extended: .messages
        case .lostSync: .lostSync
        case .failed: .failed
        }
    }

    /// True between messages (nothing of the next header read yet).
    public var isAtMessageBoundary: Bool { mode == .header && headerPos == 0 }

    /// Consumes in-order bytes. Returns how many were consumed: all of them, unless the stream
    /// failed or lost sync, in which case the rest belongs to nobody.
    @discardableResult
    public mutating func consume<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) -> Int {
        let n = bytes.count
        var i = 0
        while i < n {
            switch mode {
            case .handshake:
                let outcome = handshakeAcc.feed(bytes[i])
                if outcome == .noMatch { mode = .failed; return i }
                i += 1
                if outcome == .complete {
                    guard let h = handshakeAcc.handshake else { mode = .failed; return i }
                    handshake = h
                    sink.receive(.handshake(h))
                    startHeader()
                }
            case .header:
                if !readHeaderByte(bytes[i], sink: &sink) { return i + 1 }
                i += 1
            case .skip:
                let take = min(remaining, n - i)
                i += take
                remaining -= take
                if remaining == 0 { startHeader() }
            case .piece:
                let take = min(remaining, n - i)
                sink.receive(.pieceBytes(index: pieceIndex, offset: pieceOffset, bytes: bytes.slice(i, take)))
                pieceOffset = pieceOffset &+ UInt32(truncatingIfNeeded: take)
                pieceBytes += take
                i += take
                remaining -= take
                if remaining == 0 { startHeader() }
            case .extended:
                let take = min(remaining, n - i)
                if extGathering {
                    if extBuffer.isEmpty && take == remaining {
                        // Whole message in the caller's bytes: no copy.
                        emitExtended(bytes.slice(i, take), sink: &sink)
                    } else {
                        extBuffer.append(contentsOf: bytes.slice(i, take))
                        if take == remaining {
                            extBuffer.withUnsafeBytes { emitExtended($0, sink: &sink) }
                            extBuffer.removeAll(keepingCapacity: true)
                        }
                    }
                }
                i += take
                remaining -= take
                if remaining == 0 { startHeader() }
            case .lostSync, .failed:
                return i
            }
        }
        return n
    }

    /// The flow layer lost `byteCount` bytes of this direction. Inside a payload being skipped or
    /// streamed, framing survives; anywhere else it is lost.
    public mutating func gap(_ byteCount: Int) {
        guard byteCount > 0 else { return }
        switch mode {
        case .skip, .piece, .extended:
            guard byteCount <= remaining else { mode = .lostSync; return }
            remaining -= byteCount
            if mode == .piece { pieceOffset = pieceOffset &+ UInt32(truncatingIfNeeded: byteCount) }
            if mode == .extended { extGathering = false; extBuffer.removeAll(keepingCapacity: true) }
            if remaining == 0 { startHeader() }
        case .failed:
            break
        case .handshake, .header, .lostSync:
            mode = .lostSync
        }
    }

    /// Lost bytes of unknown count (a uTP packet that never arrived).
    public mutating func loseSync() {
        if mode != .failed { mode = .lostSync }
    }

    // MARK: - Header

    @inline(__always) private mutating func startHeader() {
        mode = .header
        headerPos = 0
        length = 0
        pieceIndex = 0
        pieceOffset = 0
    }

    /// Returns false when the stream failed on this byte.
    @inline(__always)
    private mutating func readHeaderByte<S: ClassifierSink>(_ b: UInt8, sink: inout S) -> Bool {
        let p = headerPos
        headerPos = p + 1
        if p < 4 {
            length = length << 8 | UInt32(b)
            if p == 3 {
                if length == 0 {
                    messageCount += 1
                    sink.receive(.peerMessage(id: PeerWireMessageID.keepAlive.rawValue, length: 0))
                    startHeader()
                } else if Int(length) > PeerWireFraming.maxHashesMessageLength {
                    return fail(.peerWireBadLength, sink: &sink)
                }
            }
            return true
        }
        if p == 4 {
            id = b
            guard PeerWireFraming.isKnown(id: b) else { return fail(.peerWireUnknownMessage, sink: &sink) }
            guard PeerWireFraming.isValid(id: b, length: length) else { return fail(.peerWireBadLength, sink: &sink) }
            messageCount += 1
            sink.receive(.peerMessage(id: b, length: length))
            remaining = Int(length) - 1
            switch PeerWireMessageID(rawValue: b) {
            case .piece:
                break  // 8 more header bytes
            case .extended:
                mode = .extended
                extGathering = remaining <= Self.maxBufferedExtendedPayload
                if !extGathering { sink.receive(.malformed(.peerWireExtendedTooLarge)) }
                extBuffer.removeAll(keepingCapacity: true)
            default:
                if remaining == 0 { startHeader() } else { mode = .skip }
            }
            return true
        }
        if p < 9 { pieceIndex = pieceIndex << 8 | UInt32(b) } else { pieceOffset = pieceOffset << 8 | UInt32(b) }
        if p == 12 {
            remaining = Int(length) - 9
            sink.receive(.pieceBlock(index: pieceIndex, begin: pieceOffset, length: length - 9))
            mode = .piece
        }
        return true
    }

    private mutating func fail<S: ClassifierSink>(_ anomaly: ClassifierAnomaly, sink: inout S) -> Bool {
        sink.receive(.malformed(anomaly))
        mode = .failed
        return false
    }

    private func emitExtended<S: ClassifierSink>(_ payload: UnsafeRawBufferPointer, sink: inout S) {
        guard let extID = payload.u8(at: 0) else { return }
        let body = payload.slice(1, payload.count - 1)
        sink.receive(.extendedMessage(extendedID: extID, payload: body))
        // BEP 10 payloads are bencoded: the extension parser turns them into handshake/metadata/PEX events.
        _ = ExtensionMessages.inspect(extendedID: extID, payload: body, sink: &sink)
    }
}
