// Local Service Discovery: BEP 14 (https://www.bittorrent.org/beps/bep_0014.html).
//
// "LSD uses the following multicast groups: A) 239.192.152.143:6771 (org-local) and
// B) [ff15::efc0:988f]:6771 (site-local)". An announce is
// "BT-SEARCH * HTTP/1.1\r\n Host: <host>\r\n Port: <port>\r\n Infohash: <ihash>\r\n
// cookie: <cookie (optional)>\r\n \r\n \r\n" with a "hex-encoded (40 character) infohash"; "An
// announce may contain multiple, consecutive Infohash headers"; "any additional headers that
// not understood by a client should be ignored". Header names are matched case-insensitively
// (clients write `cookie` and `Cookie`).
import WireBytes

public enum LocalServiceDiscovery {
    /// BEP 14: "the packet length should not exceed 1400 bytes"; allow a full datagram.
    public static let maxAnnounceLength = 1500
    /// Header lines read before giving up.
    public static let maxHeaderLines = 32
    /// Cookies longer than this are cut (they are opaque; only equality matters).
    public static let maxCookieLength = 64

    public static let hosts: [String] = ["239.192.152.143:6771", "[ff15::efc0:988f]:6771"]

    public enum ParseResult: Equatable { case noMatch, match(LSDAnnounce), malformed(ClassifierAnomaly) }

    public static func parse(_ d: UnsafeRawBufferPointer) -> ParseResult {
        guard d.count <= maxAnnounceLength, d.matches("BT-SEARCH * HTTP/1.1\r\n") else { return .noMatch }
        var offset = 22
        var hostOK = false
        var port: UInt16?
        var cookie: String?
        var hashes: [InfoHash] = []
        var badHash = false
        for _ in 0..<maxHeaderLines {
            guard let eol = lineEnd(d, from: offset) else { break }
            let line = d.slice(offset, eol - offset)
            offset = eol + 2
            if line.count == 0 { break }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = lowercased(line.slice(0, colon))
            let value = trimmed(line.slice(colon + 1, line.count - colon - 1))
            switch name {
            case "host": hostOK = hosts.contains(String(decoding: value, as: UTF8.self))
            case "port": port = decimalPort(value)
            case "infohash":
                if value.count == 40, let ih = InfoHash(hex: String(decoding: value, as: UTF8.self)) { hashes.append(ih) } else { badHash = true }
            case "cookie": cookie = String(decoding: value.slice(0, maxCookieLength), as: UTF8.self)
            default: break
            }
        }
        guard hostOK, port != nil else { return .noMatch }
        if hashes.isEmpty { return badHash ? .malformed(.lsdBadInfoHash) : .noMatch }
        return .match(LSDAnnounce(infoHashes: hashes, port: port, cookie: cookie))
    }

    static func lineEnd(_ d: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i + 1 < d.count {
            if d[i] == 13 && d[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
    static func lowercased(_ b: UnsafeRawBufferPointer) -> String {
        String(decoding: b.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }, as: UTF8.self)
    }
    static func trimmed(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var s = 0, e = b.count
        while s < e, b[s] == 32 || b[s] == 9 { s += 1 }
        while e > s, b[e - 1] == 32 || b[e - 1] == 9 { e -= 1 }
        return b.slice(s, e - s)
    }
    static func decimalPort(_ b: UnsafeRawBufferPointer) -> UInt16? {
        guard b.count >= 1, b.count <= 5 else { return nil }
        var v = 0
        for c in b { guard c >= 48, c <= 57 else { return nil }; v = v * 10 + Int(c - 48) }
        return v <= 65535 ? UInt16(v) : nil
    }
}
