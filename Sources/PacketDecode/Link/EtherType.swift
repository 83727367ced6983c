// EtherType dispatch shared by Ethernet, Linux SLL/SLL2, VLAN tags and PPPoE.
// IEEE 802.3 clause 3.2.6: a Length/Type value >= 0x0600 is an EtherType; smaller values are an 802.3
// length (LLC follows), which never carries IP here. IEEE Registration Authority EtherType numbers.
import WireBytes

/// Where the network layer begins and how to recognise it.
enum NetworkKind { case ipv4, ipv6, versionNibble }

/// Outcome of a link-layer parse: the network header's kind and offset, or where and why it stopped.
enum LinkParse {
    case network(NetworkKind, at: Int)
    case stop(DecodeLayer, DecodeStop.Reason, at: Int)
}

enum EtherType {
    static let ipv4: UInt16 = 0x0800
    static let ipv6: UInt16 = 0x86DD
    static let vlan: UInt16 = 0x8100        // IEEE 802.1Q C-tag
    static let qinq: UInt16 = 0x88A8        // IEEE 802.1ad S-tag
    static let qinqLegacy: UInt16 = 0x9100  // pre-standard QinQ, still seen in captures
    static let pppoeSession: UInt16 = 0x8864 // RFC 2516
    static let minimumType: UInt16 = 0x0600

    /// Follows VLAN tags and PPPoE from an EtherType whose payload begins at `offset`.
    static func dispatch(_ type: UInt16, _ frame: UnsafeRawBufferPointer, at offset: Int, limits: DecoderLimits) -> LinkParse {
        var type = type, offset = offset, tags = 0
        while true {
            switch type {
            case ipv4: return .network(.ipv4, at: offset)
            case ipv6: return .network(.ipv6, at: offset)
            case vlan, qinq, qinqLegacy:
                tags += 1
                guard tags <= limits.maxVLANTags else { return .stop(.vlan, .vlanDepthExceeded, at: offset) }
                guard let next = VLANTag.innerType(frame, at: offset) else { return .stop(.vlan, .truncatedLinkHeader, at: offset) }
                type = next
                offset += VLANTag.length
            case pppoeSession:
                return PPPoESession.parse(frame, at: offset)
            case MPLS.unicast, MPLS.multicast:
                return MPLS.parse(frame, at: offset, limits: limits)
            default:
                return .stop(.link, .nonIPPayload, at: offset)
            }
        }
    }
}
