// Link-layer header types, as numbered by tcpdump.org's LINKTYPE_ registry
// (https://www.tcpdump.org/linktypes.html). An open struct so unknown values survive into reports.

public struct LinkType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: LinkType, b: LinkType) -> Bool { a.rawValue < b.rawValue }

    public static let null = LinkType(0)            // BSD loopback, host-order AF_ family
    public static let ethernet = LinkType(1)
    public static let rawDLT12 = LinkType(12)       // DLT_RAW on most BSDs
    public static let rawDLT14 = LinkType(14)       // DLT_RAW on OpenBSD
    public static let ppp = LinkType(9)
    public static let raw = LinkType(101)           // LINKTYPE_RAW
    public static let loop = LinkType(108)          // OpenBSD loopback, network-order AF_ family
    public static let linuxSLL = LinkType(113)
    public static let ipv4 = LinkType(228)
    public static let ipv6 = LinkType(229)
    public static let nflog = LinkType(239)
    public static let linuxSLL2 = LinkType(276)

    /// The tcpdump.org name (LINKTYPE_ without prefix, lowercased), or the number.
    public var description: String {
        switch rawValue {
        case 0: "null"
        case 1: "ethernet"
        case 9: "ppp"
        case 12, 14, 101: "raw"
        case 108: "loop"
        case 113: "linux_sll"
        case 228: "ipv4"
        case 229: "ipv6"
        case 239: "nflog"
        case 276: "linux_sll2"
        default: "linktype_\(rawValue)"
        }
    }
}
