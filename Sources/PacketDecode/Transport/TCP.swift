// TCP header (RFC 9293 section 3.1): source port, destination port, sequence number,
// acknowledgment number, data offset (4 bits, 32-bit words, >= 5), reserved, control bits,
// window, checksum, urgent pointer, options (data offset > 5). Options are skipped.
import WireBytes

enum TCP {
    static let minHeaderLength = 20

    /// `b`: captured bytes from the TCP header to the end of the IP payload; `announced`: the IP payload
    /// length per the IP header(s).
    static func decode(_ b: UnsafeRawBufferPointer, announced: Int, at offset: Int, into p: inout DecodedPacket) -> DecodeStop.Reason? {
        guard let sp = b.u16be(at: 0), let dp = b.u16be(at: 2) else { return .truncatedTCPHeader }
        p.srcPort = sp; p.dstPort = dp
        guard b.count >= minHeaderLength else { return .truncatedTCPHeader }
        let headerLength = Int(b.u8(at: 12)! >> 4) * 4
        guard headerLength >= minHeaderLength, announced >= headerLength else { return .badTCPDataOffset }
        p.tcp = TCPInfo(seq: b.u32be(at: 4)!, ack: b.u32be(at: 8)!, flags: TCPFlags(rawValue: b.u8(at: 13)!),
                        window: b.u16be(at: 14)!, headerLength: headerLength)
        guard b.count >= headerLength else { return .truncatedTCPOptions }
        p.payloadLength = announced - headerLength
        p.payload = b.slice(headerLength, p.payloadLength)
        return p.payload.count < p.payloadLength ? .payloadCutBySnaplen : nil
    }
}
