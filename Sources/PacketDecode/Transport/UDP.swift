// UDP header (RFC 768): source port, destination port, length (header + data, >= 8), checksum.
// A length of 0 is allowed for IPv6 jumbograms (RFC 2675 section 4), where the IP length rules.
// A length that disagrees with the IP payload length is counted; the smaller of the two is used,
// so no byte outside the IP datagram is ever taken as UDP data.
import WireBytes

enum UDP {
    static let headerLength = 8

    static func decode(_ b: UnsafeRawBufferPointer, announced: Int, at offset: Int, into p: inout DecodedPacket,
                       anomalies: inout DecodeAnomalies) -> DecodeStop.Reason? {
        guard let sp = b.u16be(at: 0), let dp = b.u16be(at: 2) else { return .truncatedUDPHeader }
        p.srcPort = sp; p.dstPort = dp
        guard let field = b.u16be(at: 4), b.count >= headerLength else { return .truncatedUDPHeader }
        guard announced >= headerLength else { return .badUDPLength }
        var length = Int(field)
        if length == 0 && p.isIPv6 {
            length = announced
        } else if length < headerLength || length > announced {
            anomalies.record(.badUDPLength)
            length = length < headerLength ? announced : min(length, announced)
        }
        p.payloadLength = length - headerLength
        p.payload = b.slice(headerLength, p.payloadLength)
        return p.payload.count < p.payloadLength ? .payloadCutBySnaplen : nil
    }
}
