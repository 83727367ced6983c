// Link-layer header types, as numbered by tcpdump.org's LINKTYPE_ registry
// (https://www.tcpdump.org/linktypes.html). An open struct so unknown values survive into reports.

public struct LinkType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: LinkType, b: LinkType) -> Bool { a.rawValue < b.rawValue }
    // Inlinable constants, not stored globals: a global `let` is read through an accessor call
    // from other modules, once per frame here (issue 6).

    @inlinable public static var null: LinkType { LinkType(0) }            // BSD loopback, host-order AF_ family
    @inlinable public static var ethernet: LinkType { LinkType(1) }
    @inlinable public static var rawDLT12: LinkType { LinkType(12) }       // DLT_RAW on most BSDs
    @inlinable public static var rawDLT14: LinkType { LinkType(14) }       // DLT_RAW on OpenBSD
    @inlinable public static var ppp: LinkType { LinkType(9) }
    @inlinable public static var raw: LinkType { LinkType(101) }           // LINKTYPE_RAW
    @inlinable public static var loop: LinkType { LinkType(108) }          // OpenBSD loopback, network-order AF_ family
    @inlinable public static var linuxSLL: LinkType { LinkType(113) }
    @inlinable public static var ipv4: LinkType { LinkType(228) }
    @inlinable public static var ipv6: LinkType { LinkType(229) }
    @inlinable public static var nflog: LinkType { LinkType(239) }
    @inlinable public static var linuxSLL2: LinkType { LinkType(276) }

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
