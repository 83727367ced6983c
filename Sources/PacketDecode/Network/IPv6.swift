// IPv6 fixed header (RFC 8200 section 3): version (4 bits) = 6, traffic class, flow label,
// payload length (bytes after this 40-byte header, extension headers included), next header,
// hop limit, source (16), destination (16). Payload length 0 with a Hop-by-Hop header is a
// jumbogram (RFC 2675), whose real length is in an option: we then take the captured length.
import WireBytes

enum IPv6Header {
    static let length = 40
    static let hopByHop: UInt8 = 0

    static func addresses(_ b: UnsafeRawBufferPointer) -> (IPAddress, IPAddress) {
        (IPAddress(v6hi: b.u64be(at: 8)!, v6lo: b.u64be(at: 16)!), IPAddress(v6hi: b.u64be(at: 24)!, v6lo: b.u64be(at: 32)!))
    }
}
