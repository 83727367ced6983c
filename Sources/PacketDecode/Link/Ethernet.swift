// Ethernet II / IEEE 802.3 MAC frame (IEEE 802.3 clause 3.1.1): destination (6), source (6),
// Length/Type (2). Captures hold no preamble and usually no FCS; trailing padding (frames shorter
// than 64 bytes) is trimmed later by the IP total length.
import WireBytes

enum Ethernet {
    static let headerLength = 14

    static func parse(_ frame: UnsafeRawBufferPointer, limits: DecoderLimits) -> LinkParse {
        guard let type = frame.u16be(at: 12) else { return .stop(.link, .truncatedLinkHeader, at: 0) }
        guard type >= EtherType.minimumType else { return .stop(.link, .nonIPPayload, at: headerLength) }
        return EtherType.dispatch(type, frame, at: headerLength, limits: limits)
    }
}
