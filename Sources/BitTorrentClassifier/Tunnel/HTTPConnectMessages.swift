// HTTP CONNECT: RFC 9110 §9.3.6 (HTTP Semantics, CONNECT) with the message syntax of RFC 9112.
//
// RFC 9110 §9.3.6: "The CONNECT method requests that the recipient establish a tunnel to the
// destination origin server identified by the request target". "A client sending a CONNECT request
// MUST send the authority form of request-target (Section 3.2.3 of [HTTP/1.1]); i.e., the
// request-target consists of only the host name and port number of the tunnel destination,
// separated by a colon." "Any 2xx (Successful) response indicates that the sender (and all inbound
// proxies) will switch to tunnel mode immediately after the response header section; data received
// after that header section is from the server identified by the request target."
// RFC 9110 §11.7.2 Proxy-Authorization; RFC 7617 Basic: base64 of "user-id:password".
// RFC 9112 §2.2: "a recipient MAY recognize a single LF as a line terminator".

import WireBytes

enum HTTPConnect {
    struct Request { var target: TunnelTarget; var port: UInt16; var username: String? }
    struct Response { var status: Int; var contentLength: Int? }

    /// Prefix test without the whole message: "CONNECT " (methods are case-sensitive, RFC 9110 §9.1).
    static func couldBeRequest(_ b: UnsafeRawBufferPointer, at o: Int) -> Bool {
        let lit: [UInt8] = Array("CONNECT ".utf8)
        var i = 0
        while i < lit.count, let c = b.u8(at: o + i) {
            if c != lit[i] { return false }
            i += 1
        }
        return true
    }

    /// End of the header section (offset just past CRLF CRLF or LF LF) searching from `o`, or nil.
    static func headerEnd(_ b: UnsafeRawBufferPointer, from o: Int) -> Int? {
        var i = o
        while let c = b.u8(at: i) {
            if c == 10 {
                if b.u8(at: i + 1) == 10 { return i + 2 }
                if b.u8(at: i + 1) == 13, b.u8(at: i + 2) == 10 { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// The lines of [o, end), without their CR LF / LF, empty lines dropped.
    static func lines(_ b: UnsafeRawBufferPointer, _ o: Int, _ end: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cur: [UInt8] = []
        var i = o
        while i < end, let c = b.u8(at: i) {
            if c == 10 {
                if cur.last == 13 { cur.removeLast() }
                if !cur.isEmpty { out.append(cur) }
                cur = []
            } else {
                cur.append(c)
            }
            i += 1
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static func request(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Request> {
        guard couldBeRequest(b, at: o) else { return .invalid }
        guard let end = headerEnd(b, from: o) else { return .needMore }
        let ls = lines(b, o, end)
        guard let first = ls.first else { return .invalid }
        let parts = first.split(separator: 32, omittingEmptySubsequences: true)
        guard parts.count == 3, Array(parts[0]) == Array("CONNECT".utf8),
              parts[2].starts(with: Array("HTTP/".utf8)),
              let (target, port) = authority(Array(parts[1])) else { return .invalid }
        var user: String? = nil
        for line in ls.dropFirst() {
            guard let colon = line.firstIndex(of: 58) else { continue }
            guard asciiLower(line[..<colon]) == Array("proxy-authorization".utf8) else { continue }
            user = basicUser(Array(line[(colon + 1)...]))
        }
        return .done(Request(target: target, port: port, username: user), end - o)
    }

    /// "HTTP/" 1*DIGIT "." 1*DIGIT SP 3DIGIT ...; status and Content-Length (for skipping a 407 body).
    static func response(_ b: UnsafeRawBufferPointer, at o: Int) -> TunnelParse<Response> {
        let lit: [UInt8] = Array("HTTP/".utf8)
        for i in 0..<lit.count {
            guard let c = b.u8(at: o + i) else { return .needMore }
            if c != lit[i] { return .invalid }
        }
        guard let end = headerEnd(b, from: o) else { return .needMore }
        let ls = lines(b, o, end)
        guard let first = ls.first else { return .invalid }
        let parts = first.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[1].count == 3, let status = decimal(Array(parts[1]), max: 999) else { return .invalid }
        var length: Int? = nil
        for line in ls.dropFirst() {
            guard let colon = line.firstIndex(of: 58), asciiLower(line[..<colon]) == Array("content-length".utf8) else { continue }
            length = decimal(trim(Array(line[(colon + 1)...])), max: TunnelLimits.maxHandshakeBytes)
        }
        return .done(Response(status: status, contentLength: length), end - o)
    }

    // MARK: pieces

    /// host:port, [v6]:port. IPv4 literals become .ipv4, bracketed IPv6 .ipv6, the rest .domain.
    static func authority(_ a: [UInt8]) -> (TunnelTarget, UInt16)? {
        guard let colon = a.lastIndex(of: 58), colon > 0,
              let p = decimal(Array(a[(colon + 1)...]), max: 65535) else { return nil }
        var host = Array(a[..<colon])
        if host.first == 91 {  // '['
            guard host.last == 93, host.count > 2 else { return nil }
            host = Array(host[1..<(host.count - 1)])
            guard let v6 = parseIPv6(host) else { return nil }
            return (.ipv6(v6), UInt16(p))
        }
        if let v4 = parseIPv4(host) { return (.ipv4(v4), UInt16(p)) }
        return (.domain(String(decoding: host, as: UTF8.self)), UInt16(p))
    }

    static func decimal(_ d: [UInt8], max: Int) -> Int? {
        guard !d.isEmpty, d.count <= 10 else { return nil }
        var v = 0
        for c in d {
            guard c >= 48, c <= 57 else { return nil }
            v = v * 10 + Int(c - 48)
        }
        return v <= max ? v : nil
    }

    static func parseIPv4(_ s: [UInt8]) -> [UInt8]? {
        let parts = s.split(separator: 46, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard p.count <= 3, let v = decimal(Array(p), max: 255) else { return nil }
            out.append(UInt8(v))
        }
        return out
    }

    /// RFC 4291 §2.2 text forms 1 and 2 (hex groups, one "::"); form 3 (dotted tail) is rejected.
    static func parseIPv6(_ s: [UInt8]) -> [UInt8]? {
        func groups(_ part: ArraySlice<UInt8>) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for g in part.split(separator: 58, omittingEmptySubsequences: false) {
                guard (1...4).contains(g.count) else { return nil }
                var v: UInt16 = 0
                for c in g {
                    let d: UInt8
                    switch c {
                    case 48...57: d = c - 48
                    case 97...102: d = c - 87
                    case 65...70: d = c - 55
                    default: return nil
                    }
                    v = v << 4 | UInt16(d)
                }
                out.append(v)
            }
            return out
        }
        var all: [UInt16]
        if let r = s.indices.first(where: { s[$0] == 58 && $0 + 1 < s.count && s[$0 + 1] == 58 }) {
            guard let head = groups(s[..<r]), let tail = groups(s[(r + 2)...]), head.count + tail.count <= 7 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let g = groups(s[...]), g.count == 8 else { return nil }
            all = g
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    static func asciiLower<C: Collection>(_ c: C) -> [UInt8] where C.Element == UInt8 {
        c.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    static func trim(_ a: [UInt8]) -> [UInt8] {
        var s = a[...]
        while let f = s.first, f == 32 || f == 9 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 { s = s.dropLast() }
        return Array(s)
    }

    /// `Basic <base64(user:password)>` -> user. The password is decoded transiently and dropped.
    static func basicUser(_ value: [UInt8]) -> String? {
        let v = trim(value)
        guard v.count > 6, asciiLower(v[..<6]) == Array("basic ".utf8), let raw = base64(trim(Array(v[6...]))) else { return nil }
        let user = raw.firstIndex(of: 58).map { raw[..<$0] } ?? raw[...]
        return String(decoding: user, as: UTF8.self)
    }

    /// RFC 4648 §4 base64 with optional padding; nil on any other character.
    static func base64(_ s: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in s {
            let v: UInt32
            switch c {
            case 65...90: v = UInt32(c - 65)
            case 97...122: v = UInt32(c - 71)
            case 48...57: v = UInt32(c) + 4
            case 43: v = 62
            case 47: v = 63
            case 61: continue
            default: return nil
            }
            acc = acc << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
