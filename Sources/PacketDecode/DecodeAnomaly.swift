// Named, counted decode anomalies (DESIGN.md rule 4: counted for the run summary, never printed per packet).

public enum DecodeAnomaly: String, Sendable, CaseIterable {
    case unknownLinkType = "unknown_link_type"
    case truncatedLinkHeader = "truncated_link_header"
    case vlanDepthExceeded = "vlan_depth_exceeded"
    case badPPPoEHeader = "bad_pppoe_header"
    case badIPVersion = "bad_ip_version"
    case truncatedIPv4Header = "truncated_ipv4_header"
    case badIPv4HeaderLength = "bad_ipv4_header_length"
    case badIPv4TotalLength = "bad_ipv4_total_length"
    case truncatedIPv6Header = "truncated_ipv6_header"
    case ipv6Jumbogram = "ipv6_jumbogram"
    case truncatedIPv6ExtensionHeader = "truncated_ipv6_extension_header"
    case ipv6ExtensionLimit = "ipv6_extension_limit"
    case ipv6NestedFragment = "ipv6_nested_fragment"
    case fragmentCutBySnaplen = "fragment_cut_by_snaplen"
    case fragmentTooLarge = "fragment_too_large"
    case fragmentOverlap = "fragment_overlap"
    case fragmentInconsistentLength = "fragment_inconsistent_length"
    case fragmentTimedOut = "fragment_timed_out"
    case fragmentEvicted = "fragment_evicted"
    case truncatedTCPHeader = "truncated_tcp_header"
    case badTCPDataOffset = "bad_tcp_data_offset"
    case truncatedUDPHeader = "truncated_udp_header"
    case badUDPLength = "bad_udp_length"
}

/// Counts per anomaly. Storage is one array allocated at init, so counting never allocates.
public struct DecodeAnomalies: Sendable, Equatable {
    private var counts: [Int]

    public init() { counts = Array(repeating: 0, count: DecodeAnomaly.allCases.count) }

    @inlinable public subscript(_ a: DecodeAnomaly) -> Int { count(of: a) }

    public func count(of a: DecodeAnomaly) -> Int { counts[a.index] }

    mutating func record(_ a: DecodeAnomaly) { counts[a.index] &+= 1 }

    public var total: Int { counts.reduce(0, +) }

    /// Non-zero counts by snake_case name, in declaration order (deterministic reports).
    public var nonZero: [(name: String, count: Int)] {
        DecodeAnomaly.allCases.compactMap { counts[$0.index] > 0 ? ($0.rawValue, counts[$0.index]) : nil }
    }
}

extension DecodeAnomaly {
    /// Position in `allCases`, computed once (used as an array index).
    var index: Int { DecodeAnomaly.indices[self]! }
    private static let indices: [DecodeAnomaly: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
}
