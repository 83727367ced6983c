// PPPoE session stage (RFC 2516 section 4, EtherType 0x8864): VER (4 bits) = 1, TYPE (4 bits) = 1,
// CODE = 0x00, SESSION_ID (2), LENGTH (2, the PPP payload length), then the PPP Protocol field
// (RFC 1661 section 2): 0x0021 IPv4 (RFC 1332), 0x0057 IPv6 (RFC 5072). Other protocols (LCP, IPCP...)
// carry no IP.
import WireBytes

enum PPPoESession {
    static let headerLength = 6
    static let pppIPv4: UInt16 = 0x0021
    static let pppIPv6: UInt16 = 0x0057

    static func parse(_ frame: UnsafeRawBufferPointer, at offset: Int) -> LinkParse {
        guard let verType = frame.u8(at: offset), let code = frame.u8(at: offset + 1),
              let proto = frame.u16be(at: offset + headerLength)
        else { return .stop(.pppoe, .truncatedLinkHeader, at: offset) }
        guard verType == 0x11, code == 0x00 else { return .stop(.pppoe, .badPPPoEHeader, at: offset) }
        let ip = offset + headerLength + 2
        switch proto {
        case pppIPv4: return .network(.ipv4, at: ip)
        case pppIPv6: return .network(.ipv6, at: ip)
        default: return .stop(.pppoe, .nonIPPayload, at: ip)
        }
    }
}
