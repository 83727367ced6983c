// Confidence levels of an evidence row, strongest first (DESIGN.md output contract).

public enum Confidence: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    /// This IP asked a tracker, the DHT or LSD for the infohash.
    case announce = 1
    /// This IP sent a peer-wire handshake naming the infohash.
    case handshake = 2
    /// This IP sent or received piece data for the infohash.
    case transfer = 3
    /// Payload this IP sent matched the torrent's piece hash.
    case verified = 4

    public static func < (a: Confidence, b: Confidence) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .announce: "announce"
        case .handshake: "handshake"
        case .transfer: "transfer"
        case .verified: "verified"
        }
    }
}
