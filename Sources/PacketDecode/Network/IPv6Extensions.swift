// IPv6 extension-header chain (RFC 8200 section 4): Hop-by-Hop Options (0), Routing (43) and
// Destination Options (60) share the layout next header (1), Hdr Ext Len (1, 8-octet units not
// counting the first 8); Fragment (44, section 4.5) is 8 bytes: next header, reserved,
// offset (13 bits, 8-octet units) + 2 reserved bits + M flag, identification (4). Authentication
// Header (51, RFC 4302 section 2.2) counts its Payload Len in 4-octet units minus 2.
// An atomic fragment (offset 0, M = 0) is processed as a whole packet (RFC 6946).
import WireBytes

struct IPv6FragmentHeader {
    /// Next header of the fragmentable part.
    var nextHeader: UInt8
    /// Offset of this fragment's data in the original fragmentable part, bytes.
    var offset: Int
    var more: Bool
    var identification: UInt32
}

struct IPv6ExtensionWalk {
    /// The first header number after the chain (or the one where it stopped).
    var proto: UInt8
    /// Offset of that header, from the start of the IPv6 header.
    var offset: Int
    /// Set when a (non-atomic) Fragment header ended the walk; `offset` is then the fragmentable part.
    var fragment: IPv6FragmentHeader?
    var stop: DecodeStop.Reason?
}

enum IPv6Extensions {
    static let hopByHop: UInt8 = 0, routing: UInt8 = 43, fragment: UInt8 = 44, destinationOptions: UInt8 = 60
    static let authentication: UInt8 = 51, noNextHeader: UInt8 = 59
    static let fragmentHeaderLength = 8

    /// Walks from `nextHeader` at `start` within `b` (bytes from the IPv6 header up to its end).
    static func walk(_ b: UnsafeRawBufferPointer, nextHeader: UInt8, at start: Int, limit: Int, allowFragment: Bool = true) -> IPv6ExtensionWalk {
        var nh = nextHeader, off = start, count = 0
        while true {
            let length: Int
            switch nh {
            case hopByHop, routing, destinationOptions, authentication:
                guard count < limit else { return IPv6ExtensionWalk(proto: nh, offset: off, stop: .ipv6ExtensionLimit) }
                guard let next = b.u8(at: off), let len = b.u8(at: off + 1) else {
                    return IPv6ExtensionWalk(proto: nh, offset: off, stop: .truncatedIPv6ExtensionHeader)
                }
                length = nh == authentication ? (Int(len) + 2) * 4 : (Int(len) + 1) * 8
                guard b.has(off, length) else { return IPv6ExtensionWalk(proto: nh, offset: off, stop: .truncatedIPv6ExtensionHeader) }
                nh = next
            case fragment:
                guard count < limit else { return IPv6ExtensionWalk(proto: nh, offset: off, stop: .ipv6ExtensionLimit) }
                guard b.has(off, fragmentHeaderLength) else {
                    return IPv6ExtensionWalk(proto: nh, offset: off, stop: .truncatedIPv6ExtensionHeader)
                }
                let next = b.u8(at: off)!, field = b.u16be(at: off + 2)!
                let header = IPv6FragmentHeader(nextHeader: next, offset: Int(field & 0xfff8), more: field & 1 != 0,
                                                identification: b.u32be(at: off + 4)!)
                length = fragmentHeaderLength
                if header.offset != 0 || header.more {
                    guard allowFragment else { return IPv6ExtensionWalk(proto: nh, offset: off, stop: .ipv6NestedFragment) }
                    return IPv6ExtensionWalk(proto: next, offset: off + length, fragment: header)
                }
                nh = next
            default:
                return IPv6ExtensionWalk(proto: nh, offset: off)
            }
            count += 1
            off += length
        }
    }
}
