// MPLS label stack (RFC 3032 section 2.1, EtherTypes 0x8847 unicast / 0x8848 multicast): 4-byte
// entries (label 20 bits, traffic class 3, bottom-of-stack S 1, TTL 8) until S = 1. What follows the
// stack is not named by MPLS itself; as routers and Wireshark do, the first nibble picks IPv4 (4) or
// IPv6 (6). Anything else (a pseudowire control word, Ethernet over MPLS) carries no IP we decode.
import WireBytes

enum MPLS {
    static let unicast: UInt16 = 0x8847
    static let multicast: UInt16 = 0x8848
    static let entryLength = 4

    static func parse(_ frame: UnsafeRawBufferPointer, at start: Int, limits: DecoderLimits) -> LinkParse {
        var offset = start
        for _ in 0..<limits.maxMPLSLabels {
            guard let entry = frame.u32be(at: offset) else { return .stop(.link, .truncatedLinkHeader, at: offset) }
            offset += entryLength
            guard entry & 0x100 != 0 else { continue }
            switch frame.u8(at: offset).map({ $0 >> 4 }) {
            case 4: return .network(.ipv4, at: offset)
            case 6: return .network(.ipv6, at: offset)
            case nil: return .stop(.link, .truncatedLinkHeader, at: offset)
            default: return .stop(.link, .nonIPPayload, at: offset)
            }
        }
        return .stop(.link, .vlanDepthExceeded, at: offset)
    }
}
