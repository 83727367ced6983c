// uTP header: BEP 29 (https://www.bittorrent.org/beps/bep_0029.html).
//
// "0       4       8               16              24              32
//  | type  | ver   | extension     | connection_id                 |
//  | timestamp_microseconds | timestamp_difference_microseconds | wnd_size | seq_nr | ack_nr |"
// 20 bytes, big endian; "The current version is 1"; types ST_DATA 0 .. ST_SYN 4. "The extension
// field [is] the type of the first extension in a linked list of extension headers. 0 means no
// extension." Each extension is [next type][len][len bytes].
// Validation is strict because a uTP guess on random UDP is a false positive: only the extension
// types clients send (1 selective ack, 2 extension bits, 3 close reason), with their lengths.
import WireBytes

extension UTPHeader {
    /// BEP 29: the fixed header.
    public static let fixedLength = 20
    /// Real clients send at most a selective ack and a close reason; more is not uTP.
    public static let maxExtensions = 4

    /// Validates one datagram's uTP header; nil when it is not one.
    public static func parse(_ d: UnsafeRawBufferPointer) -> UTPHeader? {
        guard d.count >= fixedLength, let b0 = d.u8(at: 0), b0 & 0x0F == 1,
              let type = PacketType(rawValue: b0 >> 4),
              let firstExt = d.u8(at: 1), let connectionID = d.u16be(at: 2),
              let seq = d.u16be(at: 16), let ack = d.u16be(at: 18) else { return nil }
        var ext = firstExt
        var offset = fixedLength
        var count = 0
        while ext != 0 {
            count += 1
            guard count <= maxExtensions, let next = d.u8(at: offset), let len = d.u8(at: offset + 1) else { return nil }
            switch ext {
            case 1: guard len >= 4, len % 4 == 0 else { return nil }   // selective ack bitmask
            case 2: guard len == 8 else { return nil }                 // extension bits
            case 3: guard len == 4 else { return nil }                 // close reason (libtorrent)
            default: return nil
            }
            guard let end = offset +? (2 + Int(len)), end <= d.count else { return nil }
            offset = end
            ext = next
        }
        // SYN and STATE carry no payload (BEP 29: ST_STATE "a packet with no data payload").
        if (type == .syn || type == .state) && offset != d.count { return nil }
        if type == .data && offset == d.count { return nil }  // "ST_DATA: regular data packet. [...] always has a payload"
        return UTPHeader(type: type, connectionID: connectionID, sequenceNumber: seq, ackNumber: ack, payloadOffset: offset)
    }
}
