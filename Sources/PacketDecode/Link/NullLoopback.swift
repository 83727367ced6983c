// BSD loopback encapsulations (https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html, LINKTYPE_LOOP.html):
// a 4-byte address family, then the IP packet. LINKTYPE_NULL (0) stores it in the capturing host's
// byte order, which the file does not record, so both orders are tried; LINKTYPE_LOOP (108) stores it
// in network order. AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD, BSD/OS),
// 28 (FreeBSD, DragonFly BSD) or 30 (macOS, iOS).
import WireBytes

enum NullLoopback {
    static let headerLength = 4

    static func parse(_ frame: UnsafeRawBufferPointer, networkOrderOnly: Bool) -> LinkParse {
        guard let be = frame.u32be(at: 0), let le = frame.u32le(at: 0) else { return .stop(.link, .truncatedLinkHeader, at: 0) }
        if let kind = family(be) ?? (networkOrderOnly ? nil : family(le)) { return .network(kind, at: headerLength) }
        return .stop(.link, .nonIPPayload, at: headerLength)
    }

    private static func family(_ af: UInt32) -> NetworkKind? {
        switch af {
        case 2: .ipv4
        case 24, 28, 30: .ipv6
        default: nil
        }
    }
}
