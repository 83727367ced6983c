// Why a packet's decoding stopped before its payload (DESIGN.md rule 5, etherparse's lax decoding):
// the layers before `layer` were decoded and their fields are valid; nothing at or after it is.

public enum DecodeLayer: String, Sendable, CaseIterable {
    case link, vlan, pppoe, ipv4, ipv6, ipv6Extension = "ipv6_extension", fragment, tcp, udp, payload
}

public struct DecodeStop: Hashable, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        // Link layers.
        case unknownLinkType = "unknown_link_type"
        case truncatedLinkHeader = "truncated_link_header"
        case nonIPPayload = "non_ip_payload"                 // ARP, LLDP, PPP LCP, ...: not an error
        case vlanDepthExceeded = "vlan_depth_exceeded"
        case badPPPoEHeader = "bad_pppoe_header"
        // IP.
        case badIPVersion = "bad_ip_version"
        case truncatedIPv4Header = "truncated_ipv4_header"
        case badIPv4HeaderLength = "bad_ipv4_header_length"
        case badIPv4TotalLength = "bad_ipv4_total_length"
        case truncatedIPv6Header = "truncated_ipv6_header"
        case truncatedIPv6ExtensionHeader = "truncated_ipv6_extension_header"
        case ipv6NestedFragment = "ipv6_nested_fragment"         // a Fragment header inside reassembled data
        case ipv6ExtensionLimit = "ipv6_extension_limit"
        case noNextHeader = "no_next_header"                 // IPv6 next header 59: nothing follows, by design
        // Fragments that cannot be stored or delivered.
        case fragmentCutBySnaplen = "fragment_cut_by_snaplen"
        case fragmentDropped = "fragment_dropped"
        // Transport.
        case truncatedTCPHeader = "truncated_tcp_header"
        case truncatedTCPOptions = "truncated_tcp_options"
        case badTCPDataOffset = "bad_tcp_data_offset"
        case truncatedUDPHeader = "truncated_udp_header"
        case badUDPLength = "bad_udp_length"
        // The headers are complete but fewer payload bytes were captured than the length fields announce.
        case payloadCutBySnaplen = "payload_cut_by_snaplen"
    }

    public var layer: DecodeLayer
    public var reason: Reason
    /// Byte offset in the frame (or in the reassembled datagram) where the layer that stopped begins.
    public var offset: Int

    @inlinable public init(layer: DecodeLayer, reason: Reason, offset: Int) {
        self.layer = layer; self.reason = reason; self.offset = offset
    }

    public var description: String { "\(layer.rawValue):\(reason.rawValue)@\(offset)" }
}
