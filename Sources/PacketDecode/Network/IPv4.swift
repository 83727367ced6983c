// IPv4 header (RFC 791 section 3.1): version (4 bits) = 4, IHL (4 bits, 32-bit words, >= 5),
// TOS, total length (header + data, bytes), identification, flags (reserved, DF, MF) + fragment
// offset (13 bits, 8-octet units), TTL, protocol, checksum, source, destination, options (IHL > 5).
import WireBytes

/// A validated IPv4 header: at least `headerLength` bytes are present, so getters read fixed offsets.
struct IPv4Header {
    static let minLength = 20

    let bytes: UnsafeRawBufferPointer
    let headerLength: Int

    /// Nil plus the reason when the header is unusable. `addressesPresent` tells whether src/dst are readable
    /// anyway (a header cut inside its options still names its endpoints).
    static func validate(_ b: UnsafeRawBufferPointer) -> (header: IPv4Header?, failure: DecodeStop.Reason?, addressesPresent: Bool) {
        guard let vihl = b.u8(at: 0) else { return (nil, .truncatedIPv4Header, false) }
        guard vihl >> 4 == 4 else { return (nil, .badIPVersion, false) }
        guard b.count >= minLength else { return (nil, .truncatedIPv4Header, false) }
        let ihl = Int(vihl & 0x0f) * 4
        guard ihl >= minLength else { return (nil, .badIPv4HeaderLength, false) }
        guard b.count >= ihl else {
            // Cut by the snap length, unless the total length itself says the header cannot fit (bogus, not cut).
            let total = Int(b.u16be(at: 2)!)
            return total >= ihl || total == 0 ? (nil, .truncatedIPv4Header, true) : (nil, .badIPv4TotalLength, false)
        }
        return (IPv4Header(bytes: b, headerLength: ihl), nil, true)
    }

    static func addresses(_ b: UnsafeRawBufferPointer) -> (IPAddress, IPAddress, UInt8) {
        (IPAddress(v4: b.u32be(at: 12) ?? 0), IPAddress(v4: b.u32be(at: 16) ?? 0), b.u8(at: 9) ?? 0)
    }

    var totalLength: Int { Int(bytes.u16be(at: 2)!) }
    var identification: UInt16 { bytes.u16be(at: 4)! }
    var moreFragments: Bool { bytes.u16be(at: 6)! & 0x2000 != 0 }
    /// Fragment offset in bytes.
    var fragmentOffset: Int { Int(bytes.u16be(at: 6)! & 0x1fff) * 8 }
    var isFragment: Bool { moreFragments || fragmentOffset != 0 }
}
