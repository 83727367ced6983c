// SOCKS5 handshake messages: RFC 1928 (SOCKS Protocol Version 5) and RFC 1929 (Username/Password
// Authentication for SOCKS V5). Each parser reads one message at an offset and returns
// .needMore / .invalid / .done(message, length); none reads past the buffer.
//
// RFC 1928 §3: "The client connects to the server, and sends a version identifier/method selection
// message: VER(1)=X'05' NMETHODS(1) METHODS(1 to 255)". "The server selects from one of the methods
// given in METHODS, and sends a METHOD selection message: VER(1) METHOD(1). If the selected METHOD
// is X'FF', none of the methods listed by the client are acceptable."
// §4: request "VER CMD RSV=X'00' ATYP DST.ADDR DST.PORT"; CMD CONNECT X'01', BIND X'02',
// UDP ASSOCIATE X'03'. §5: ATYP X'01' IPv4 (4 octets), X'03' domain ("the first octet of the
// address field contains the number of octets of name that follow"), X'04' IPv6 (16 octets).
// §6: reply "VER REP RSV=X'00' ATYP BND.ADDR BND.PORT"; REP X'00' succeeded ... X'08' address type
// not supported. "In the reply to a BIND, two replies are sent from the SOCKS server".
// RFC 1929 §2: "VER(1)=X'01' ULEN(1) UNAME(1 to 255) PLEN(1) PASSWD(1 to 255)"; reply "VER STATUS",
// "A STATUS field of X'00' indicates success".

import WireBytes

enum SOCKS5 {
    static let version: UInt8 = 5
    static let authVersion: UInt8 = 1           // RFC 1929 sub-negotiation VER
    static let methodNone: UInt8 = 0
    static let methodGSSAPI: UInt8 = 1
    static let methodUserPass: UInt8 = 2
    static let methodNoAcceptable: UInt8 = 0xFF

    struct Greeting { var methods: [UInt8] }
    struct Address { var target: TunnelTarget; var port: UInt16 }
    struct Request { var command: TunnelCommand; var address: Address }
    struct Reply { var code: UInt8; var address: Address }

    /// VER NMETHODS METHODS. NMETHODS 0 is invalid (RFC: "1 to 255").
    static func greeting(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Greeting> {
        guard let v = b.u8(at: o) else { return .needMore }
        guard v == version else { return .invalid }
        guard let n = b.u8(at: o + 1) else { return .needMore }
        guard n > 0 else { return .invalid }
        guard let m = b.array(o + 2, Int(n)) else { return .needMore }
        return .done(Greeting(methods: m), 2 + Int(n))
    }

    /// VER METHOD.
    static func methodSelection(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<UInt8> {
        guard let v = b.u8(at: o) else { return .needMore }
        guard v == version else { return .invalid }
        guard let m = b.u8(at: o + 1) else { return .needMore }
        return .done(m, 2)
    }

    /// RFC 1929 request: returns the username only (the password is skipped, never copied).
    static func userPassRequest(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<String> {
        guard let v = b.u8(at: o) else { return .needMore }
        guard v == authVersion else { return .invalid }
        guard let ulen = b.u8(at: o + 1) else { return .needMore }
        let uname = o + 2
        guard let plen = b.u8(at: uname + Int(ulen)) else { return .needMore }
        let length = 2 + Int(ulen) + 1 + Int(plen)
        guard b.has(o, length) else { return .needMore }
        // ULEN and PLEN are "1 to 255"; Tor and others accept 0, so we do too (still well-formed).
        return .done(b.text(uname, Int(ulen)) ?? "", length)
    }

    /// RFC 1929 reply: VER STATUS.
    static func userPassReply(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<UInt8> {
        guard let v = b.u8(at: o) else { return .needMore }
        guard v == authVersion else { return .invalid }
        guard let s = b.u8(at: o + 1) else { return .needMore }
        return .done(s, 2)
    }

    /// ATYP ADDR PORT (§5), shared by requests, replies and the UDP header (§7).
    static func address(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Address> {
        guard let atyp = b.u8(at: o) else { return .needMore }
        let target: TunnelTarget
        let addrLen: Int
        switch atyp {
        case 1:
            guard let a = b.array(o + 1, 4) else { return .needMore }
            target = .ipv4(a); addrLen = 4
        case 4:
            guard let a = b.array(o + 1, 16) else { return .needMore }
            target = .ipv6(a); addrLen = 16
        case 3:
            guard let n = b.u8(at: o + 1) else { return .needMore }
            guard n > 0 else { return .invalid }  // a domain of zero octets names nothing
            guard let d = b.text(o + 2, Int(n)) else { return .needMore }
            target = .domain(d); addrLen = 1 + Int(n)
        default:
            return .invalid
        }
        guard let port = b.u16be(at: o + 1 + addrLen) else { return .needMore }
        return .done(Address(target: target, port: port), 1 + addrLen + 2)
    }

    /// VER CMD RSV ATYP DST.ADDR DST.PORT. Commands other than 1..3 are not in RFC 1928.
    static func request(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Request> {
        guard let v = b.u8(at: o) else { return .needMore }
        guard v == version else { return .invalid }
        guard let cmd = b.u8(at: o + 1) else { return .needMore }
        guard (1...3).contains(cmd) else { return .invalid }
        guard let rsv = b.u8(at: o + 2) else { return .needMore }
        guard rsv == 0 else { return .invalid }
        switch address(b, at: o + 3) {
        case .needMore: return .needMore
        case .invalid: return .invalid
        case .done(let a, let n): return .done(Request(command: TunnelCommand(rawValue: cmd), address: a), 3 + n)
        }
    }

    /// VER REP RSV ATYP BND.ADDR BND.PORT. REP values above X'08' are "unassigned" but still a reply.
    /// RSV "MUST be X'00'"; some servers send garbage there, so it is not checked.
    static func reply(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Reply> {
        guard let v = b.u8(at: o) else { return .needMore }
        guard v == version else { return .invalid }
        guard let rep = b.u8(at: o + 1) else { return .needMore }
        guard b.has(o + 2, 1) else { return .needMore }
        switch address(b, at: o + 3) {
        case .needMore: return .needMore
        case .invalid: return .invalid
        case .done(let a, let n): return .done(Reply(code: rep, address: a), 3 + n)
        }
    }
}
