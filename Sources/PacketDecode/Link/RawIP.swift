// Raw IP link types (https://www.tcpdump.org/linktypes.html): LINKTYPE_RAW = 101 (also written with
// the platform DLT_RAW numbers 12 and 14) begins with an IPv4 or IPv6 header, told apart by the
// version nibble; LINKTYPE_IPV4 = 228 and LINKTYPE_IPV6 = 229 begin with that version only.
import WireBytes

enum RawIP {
    static func parse(_ linkType: LinkType) -> LinkParse {
        switch linkType {
        case .ipv4: .network(.ipv4, at: 0)
        case .ipv6: .network(.ipv6, at: 0)
        default: .network(.versionNibble, at: 0)
        }
    }
}
