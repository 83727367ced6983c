// Peer wire message framing: BEP 3 (https://www.bittorrent.org/beps/bep_0003.html), BEP 5 (port),
// BEP 6 Fast extension, BEP 10 extension protocol, BEP 52 hash messages.
//
// BEP 3: "All later integers sent in the protocol are encoded as four bytes big-endian. [...]
// messages [...] take the form of a length prefix followed by a single byte message type.
// Messages of length zero are keepalives". The length counts the id byte.
// Every message except bitfield, piece, extended and hashes has one fixed length; a message whose
// length disagrees, or an id nobody defines, means we are not (or no longer) reading peer wire.

/// Peer wire message ids (open: unknown ids stay representable).
public struct PeerWireMessageID: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let choke = Self(rawValue: 0), unchoke = Self(rawValue: 1)
    public static let interested = Self(rawValue: 2), notInterested = Self(rawValue: 3)
    public static let have = Self(rawValue: 4), bitfield = Self(rawValue: 5)
    public static let request = Self(rawValue: 6), piece = Self(rawValue: 7), cancel = Self(rawValue: 8)
    public static let port = Self(rawValue: 9)                                   // BEP 5
    public static let suggest = Self(rawValue: 13), haveAll = Self(rawValue: 14)  // BEP 6
    public static let haveNone = Self(rawValue: 15), reject = Self(rawValue: 16), allowedFast = Self(rawValue: 17)
    public static let extended = Self(rawValue: 20)                              // BEP 10
    public static let hashRequest = Self(rawValue: 21), hashes = Self(rawValue: 22), hashReject = Self(rawValue: 23)  // BEP 52
    /// Not on the wire: the id reported for a zero-length keep-alive.
    public static let keepAlive = Self(rawValue: 255)
}

public enum PeerWireFraming {
    /// Largest block a piece message may carry. BEP 3 says requests are "generally a power of two
    /// unless it gets truncated by the end of the file", all current clients use 16 KiB and reject
    /// requests above 128 KiB (libtorrent, Transmission), so 2^17 is the ceiling.
    public static let maxBlockLength = 1 << 17
    /// piece = id + index + begin + block.
    public static let maxPieceMessageLength = maxBlockLength + 9
    /// Bitfield: one bit per piece; 2^23 pieces is beyond any real torrent.
    public static let maxBitfieldMessageLength = (1 << 20) + 1
    /// Extended messages (BEP 10): ut_metadata pieces are 16 KiB plus a small dictionary; handshakes
    /// are a few hundred bytes. Anything above 1 MiB is not a BEP 10 message.
    public static let maxExtendedMessageLength = 1 << 20
    /// BEP 52 hash request / reject: id + pieces root (32) + base layer, index, length, proof layers (4 each).
    public static let hashRequestLength = 49
    /// BEP 52 hashes: the request fields then 32-byte hashes; 2^16 hashes bounds it.
    public static let maxHashesMessageLength = hashRequestLength + 32 * (1 << 16)

    /// True when `length` (which counts the id byte) is legal for message `id`.
    @inline(__always)
    public static func isValid(id: UInt8, length: UInt32) -> Bool {
        let n = Int(length)
        switch id {
        case 0, 1, 2, 3, 14, 15: return n == 1
        case 4, 13, 17: return n == 5
        case 6, 8, 16: return n == 13
        case 9: return n == 3
        case 5: return n >= 2 && n <= maxBitfieldMessageLength
        case 7: return n > 9 && n <= maxPieceMessageLength
        case 20: return n >= 2 && n <= maxExtendedMessageLength
        case 21, 23: return n == hashRequestLength
        case 22: return n >= hashRequestLength && n <= maxHashesMessageLength && (n - hashRequestLength) % 32 == 0
        default: return false
        }
    }

    /// True for ids this file knows (the rest are `peerWireUnknownMessage`).
    @inline(__always)
    public static func isKnown(id: UInt8) -> Bool {
        switch id {
        case 0...9, 13...17, 20...23: return true
        default: return false
        }
    }
}
