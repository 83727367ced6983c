// Peer wire handshake: BEP 3 (https://www.bittorrent.org/beps/bep_0003.html), with the reserved
// bits of BEP 5, 6, 10 and the v2 hashes of BEP 52.
//
// BEP 3: "The handshake starts with character ninteen (decimal) followed by the string
// 'BitTorrent protocol'. [...] After the fixed headers come eight reserved bytes [...] Next comes
// the 20 byte sha1 hash of the bencoded form of the info value from the metainfo file. [...]
// After the download hash comes the 20-byte peer id".
// BEP 52: v2 peers put the SHA-256 infohash "truncated to 20 bytes" in the same slot, so the wire
// format does not change.
import WireBytes

/// Collects a handshake that may arrive split over many segments. It keeps no byte buffer: the
/// fixed prefix is compared as it arrives and the fields are shifted into words.
public struct PeerWireHandshakeAccumulator: Sendable {
    /// BEP 3: 1 + 19 + 8 + 20 + 20.
    public static let handshakeLength = 68
    static let protocolPrefixLength = 20
    static let infoHashOffset = 28
    static let peerIDOffset = 48

    public enum Outcome: Equatable, Sendable { case needMore, complete, noMatch }

    /// Bytes of the handshake seen so far (0...68).
    public private(set) var position = 0
    private var reserved: UInt64 = 0
    private var hash = (UInt64(0), UInt64(0), UInt32(0))
    private var peer = (UInt64(0), UInt64(0), UInt32(0))

    public init() {}

    /// Feeds one byte. `.noMatch` as soon as the fixed prefix differs.
    @inline(__always)
    public mutating func feed(_ b: UInt8) -> Outcome {
        let p = position
        guard p < Self.handshakeLength else { return .complete }
        if p < Self.protocolPrefixLength {
            guard b == Self.expectedPrefixByte(p) else { return .noMatch }
        } else if p < Self.infoHashOffset {
            reserved = reserved << 8 | UInt64(b)
        } else if p < Self.peerIDOffset {
            Self.shift(&hash, p - Self.infoHashOffset, b)
        } else {
            Self.shift(&peer, p - Self.peerIDOffset, b)
        }
        position = p + 1
        return position == Self.handshakeLength ? .complete : .needMore
    }

    /// The handshake, once 68 bytes were fed.
    public var handshake: PeerWireHandshake? {
        guard position == Self.handshakeLength else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { tmp -> PeerWireHandshake? in
            Self.store(hash, into: tmp, at: 0)
            Self.store(peer, into: tmp, at: 20)
            let raw = UnsafeRawBufferPointer(tmp)
            guard let ih = InfoHash(bytes: raw.slice(0, 20)), let pid = PeerID(bytes: raw.slice(20, 20)) else { return nil }
            return PeerWireHandshake(infoHash: ih, peerID: pid, reserved: reserved)
        }
    }

    @inline(__always) static func expectedPrefixByte(_ p: Int) -> UInt8 {
        // "\u{13}BitTorrent protocol"
        let prefix: StaticString = "\u{13}BitTorrent protocol"
        return prefix.utf8Start[p]
    }

    @inline(__always) private static func shift(_ w: inout (UInt64, UInt64, UInt32), _ i: Int, _ b: UInt8) {
        if i < 8 { w.0 = w.0 << 8 | UInt64(b) } else if i < 16 { w.1 = w.1 << 8 | UInt64(b) } else { w.2 = w.2 << 8 | UInt32(b) }
    }

    private static func store(_ w: (UInt64, UInt64, UInt32), into buf: UnsafeMutableBufferPointer<UInt8>, at base: Int) {
        for i in 0..<8 { buf[base + i] = UInt8(truncatingIfNeeded: w.0 >> UInt64(56 - 8 * i)) }
        for i in 0..<8 { buf[base + 8 + i] = UInt8(truncatingIfNeeded: w.1 >> UInt64(56 - 8 * i)) }
        for i in 0..<4 { buf[base + 16 + i] = UInt8(truncatingIfNeeded: w.2 >> UInt32(24 - 8 * i)) }
    }
}

extension PeerWireHandshake {
    public enum ParseResult: Equatable, Sendable {
        case needMore
        case noMatch
        case match(PeerWireHandshake)
    }

    /// Parses a handshake at the start of `bytes` (contiguous). Bytes after the 68th are ignored.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> ParseResult {
        var acc = PeerWireHandshakeAccumulator()
        for b in bytes.slice(0, PeerWireHandshakeAccumulator.handshakeLength) {
            switch acc.feed(b) {
            case .noMatch: return .noMatch
            case .complete: return acc.handshake.map { .match($0) } ?? .noMatch
            case .needMore: continue
            }
        }
        return .needMore
    }
}
