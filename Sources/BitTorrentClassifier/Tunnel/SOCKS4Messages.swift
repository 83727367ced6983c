// SOCKS4 and SOCKS4a messages: "SOCKS: A protocol for TCP proxy across firewalls" (Ying-Da Lee,
// SOCKS4.protocol) and "SOCKS 4A: A Simple Extension to SOCKS 4 Protocol" (SOCKS4A.protocol).
//
// SOCKS4 request: "VN(1) CD(1) DSTPORT(2) DSTIP(4) USERID(variable) NULL(1)"; "VN is the SOCKS
// protocol version number and should be 4. CD is the SOCKS command code and should be 1 for CONNECT
// or 2 for BIND. NULL is a byte of all zero bits."
// Reply: "VN(1) CD(1) DSTPORT(2) DSTIP(4)"; "VN is the version of the reply code and should be 0.
// CD is the result code: 90 request granted, 91 request rejected or failed, 92 rejected because
// SOCKS server cannot connect to identd on the client, 93 rejected because the client program and
// identd report different user-ids." BIND gets two replies.
// SOCKS4a: "set the first three bytes of DSTIP to NULL and the last byte to a non-zero value"
// (0.0.0.x), then "Following the NULL byte terminating USERID, the client must send the destination
// domain name and terminate it with another NULL byte."

import WireBytes

enum SOCKS4 {
    static let version: UInt8 = 4
    static let granted: UInt8 = 90
    /// Neither spec bounds USERID or the 4a domain; 255 bytes each (a DNS name is at most 253
    /// characters, RFC 1035 §2.3.4) keeps a stray 0x04 from holding a flow's bytes for long.
    static let maxFieldLength = 255

    struct Request {
        var command: TunnelCommand
        var port: UInt16
        var target: TunnelTarget
        var userID: String
        var is4a: Bool
    }
    struct Reply { var code: UInt8; var port: UInt16; var address: [UInt8] }

    /// Offset of the NUL ending a field that starts at `o`, .needMore, or .invalid past the bound.
    private static func nul(_ b: UnsafeRawBufferPointer, from o: Int) -> TunnelParse<Int> {
        var i = o
        while i - o <= maxFieldLength {
            guard let c = b.u8(at: i) else { return .needMore }
            if c == 0 { return .done(i, 0) }
            i += 1
        }
        return .invalid
    }

    static func request(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Request> {
        guard let vn = b.u8(at: o) else { return .needMore }
        guard vn == version else { return .invalid }
        guard let cd = b.u8(at: o + 1) else { return .needMore }
        guard cd == 1 || cd == 2 else { return .invalid }
        guard let port = b.u16be(at: o + 2), let ip = b.array(o + 4, 4) else { return .needMore }
        let userStart = o + 8
        let userEnd: Int
        switch nul(b, from: userStart) {
        case .needMore: return .needMore
        case .invalid: return .invalid
        case .done(let e, _): userEnd = e
        }
        let userID = b.text(userStart, userEnd - userStart) ?? ""
        let is4a = ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0
        guard is4a else {
            return .done(Request(command: TunnelCommand(rawValue: cd), port: port, target: .ipv4(ip), userID: userID, is4a: false),
                         userEnd + 1 - o)
        }
        let nameStart = userEnd + 1
        switch nul(b, from: nameStart) {
        case .needMore: return .needMore
        case .invalid: return .invalid
        case .done(let nameEnd, _):
            guard nameEnd > nameStart else { return .invalid }  // 4a requires a name
            let name = b.text(nameStart, nameEnd - nameStart) ?? ""
            return .done(Request(command: TunnelCommand(rawValue: cd), port: port, target: .domain(name), userID: userID, is4a: true),
                         nameEnd + 1 - o)
        }
    }

    /// VN CD DSTPORT DSTIP. VN "should be 0"; a few servers echo 4, which we accept. CD must be 90..93.
    static func reply(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Reply> {
        guard let vn = b.u8(at: o) else { return .needMore }
        guard vn == 0 || vn == 4 else { return .invalid }
        guard let cd = b.u8(at: o + 1) else { return .needMore }
        guard (90...93).contains(cd) else { return .invalid }
        guard let port = b.u16be(at: o + 2), let ip = b.array(o + 4, 4) else { return .needMore }
        return .done(Reply(code: cd, port: port, address: ip), 8)
    }
}
