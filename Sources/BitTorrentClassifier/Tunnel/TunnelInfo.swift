// What a proxy handshake revealed: the values shared by the SOCKS4/4a, SOCKS5 and HTTP CONNECT
// parsers and the TunnelDetector that runs them.
//
// Specs: RFC 1928 (SOCKS5: §4 commands CONNECT X'01', BIND X'02', UDP ASSOCIATE X'03'; §5 ATYP
// X'01' IPv4, X'03' domain, X'04' IPv6), RFC 1929 (username/password), SOCKS4.protocol and
// SOCKS4A.protocol (Ying-Da Lee: CD 1 CONNECT, 2 BIND; reply CD 90..93), RFC 9110 §9.3.6 (CONNECT).

import WireBytes

/// The proxy protocol of a tunnel. Raw values are the flow CSV `tunnel` column (DESIGN.md) except
/// `socks4a`, which the flow layer may print as `socks4`.
public enum TunnelKind: String, Hashable, Sendable {
    case socks4, socks4a, socks5
    case httpConnect = "http-connect"

    /// The flow CSV `tunnel` value (DESIGN.md: `socks4`, `socks5`, `http-connect`); 4a counts as 4.
    public var flowColumn: String { self == .socks4a ? "socks4" : rawValue }
}

/// A SOCKS command code, open so unknown values survive (RFC 1928 §4; SOCKS4 uses 1 and 2).
public struct TunnelCommand: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let connect = TunnelCommand(rawValue: 1)
    public static let bind = TunnelCommand(rawValue: 2)
    public static let udpAssociate = TunnelCommand(rawValue: 3)
    public var description: String {
        switch rawValue {
        case 1: "connect"
        case 2: "bind"
        case 3: "udp_associate"
        default: "command_\(rawValue)"
        }
    }
}

/// A destination or bound address as the handshake named it.
public enum TunnelTarget: Hashable, Sendable, CustomStringConvertible {
    /// 4 network-order bytes.
    case ipv4([UInt8])
    /// 16 network-order bytes.
    case ipv6([UInt8])
    /// A name for the proxy to resolve (SOCKS4a, SOCKS5 ATYP 3, HTTP CONNECT). Bytes that are not
    /// UTF-8 are replaced (U+FFFD); reports must still escape it (DESIGN.md output contract).
    case domain(String)

    public var description: String {
        switch self {
        case .ipv4(let b): return b.map(String.init).joined(separator: ".")
        case .ipv6(let b):
            // RFC 5952 §4: lowercase, no leading zeros, the first longest run (>= 2) of zero groups as "::".
            var groups: [UInt16] = []
            var i = 0
            while i + 1 < b.count { groups.append(UInt16(b[i]) << 8 | UInt16(b[i + 1])); i += 2 }
            var best = (start: -1, length: 1), run = (start: 0, length: 0)
            for (k, g) in groups.enumerated() {
                if g == 0 { run = run.length == 0 ? (k, 1) : (run.start, run.length + 1) } else { run = (0, 0) }
                if run.length > best.length { best = run }
            }
            let text = groups.map { String($0, radix: 16) }
            guard best.start >= 0 else { return text.joined(separator: ":") }
            return text[..<best.start].joined(separator: ":") + "::" + text[(best.start + best.length)...].joined(separator: ":")
        case .domain(let d): return d
        }
    }
}

/// A proxy handshake as far as it was seen. For an open tunnel every request field is set.
public struct TunnelInfo: Hashable, Sendable {
    public var kind: TunnelKind
    public var command: TunnelCommand
    public var target: TunnelTarget
    public var targetPort: UInt16
    /// SOCKS5: the RFC 1929 UNAME; SOCKS4/4a: USERID; HTTP: the user of `Proxy-Authorization: Basic`.
    /// Passwords are never kept. Wire text: reports must escape it like any other.
    public var username: String?
    /// SOCKS5: the METHOD the server selected (X'00' none, X'02' username/password).
    public var authMethod: UInt8?
    /// SOCKS5 REP, SOCKS4 CD (90..93), or the HTTP status code of the final reply; nil before it.
    public var replyCode: Int?
    /// BND.ADDR/BND.PORT of the (first) reply: for UDP ASSOCIATE the relay that takes the datagrams,
    /// for BIND the address the proxy listens on. Nil for HTTP CONNECT.
    public var boundAddress: TunnelTarget?
    public var boundPort: UInt16?
    /// BIND only: the address/port of the second reply (the host that connected to the proxy).
    public var bindPeerAddress: TunnelTarget?
    public var bindPeerPort: UInt16?

    public init(kind: TunnelKind, command: TunnelCommand, target: TunnelTarget, targetPort: UInt16, username: String? = nil,
                authMethod: UInt8? = nil, replyCode: Int? = nil, boundAddress: TunnelTarget? = nil, boundPort: UInt16? = nil) {
        self.kind = kind; self.command = command; self.target = target; self.targetPort = targetPort
        self.username = username; self.authMethod = authMethod; self.replyCode = replyCode
        self.boundAddress = boundAddress; self.boundPort = boundPort
    }
}

/// Why a proxy handshake did not open a tunnel (named, counted upstream: DESIGN.md rule 4).
public enum TunnelFailureReason: Hashable, Sendable {
    /// SOCKS5 METHOD X'FF' (RFC 1928 §3).
    case noAcceptableMethod
    /// SOCKS5 selected a method this detector does not follow (GSSAPI X'01', private methods):
    /// the rest of the connection may be encapsulated (RFC 1961), so it is not parsed further.
    case unsupportedMethod(UInt8)
    /// RFC 1929 STATUS other than X'00'.
    case authenticationFailed(status: UInt8)
    /// SOCKS5 REP != X'00', SOCKS4 CD 91..93, or an HTTP status outside 2xx.
    case rejected(code: Int)
    /// A proxy message broke its grammar after the handshake was recognised.
    case malformedReply
    /// More than `TunnelLimits.maxHandshakeBytes` in one direction without completing the handshake.
    case handshakeTooLong

    /// A stable name for run summaries and flow rows (DESIGN.md rule 4), e.g. `tunnel_rejected`.
    public var name: String {
        switch self {
        case .noAcceptableMethod: "tunnel_no_acceptable_method"
        case .unsupportedMethod: "tunnel_unsupported_method"
        case .authenticationFailed: "tunnel_authentication_failed"
        case .rejected: "tunnel_rejected"
        case .malformedReply: "tunnel_malformed_reply"
        case .handshakeTooLong: "tunnel_handshake_too_long"
        }
    }
}

public struct TunnelFailure: Hashable, Sendable {
    public var kind: TunnelKind
    public var reason: TunnelFailureReason
    /// The request, when it was parsed before the failure (it is still evidence of intent).
    public var request: TunnelInfo?
    /// The username sent, even when the authentication or the request failed.
    public var username: String?
    public init(kind: TunnelKind, reason: TunnelFailureReason, request: TunnelInfo?, username: String?) {
        self.kind = kind; self.reason = reason; self.request = request; self.username = username
    }
}

public enum TunnelState: Hashable, Sendable {
    /// Still reading a possible handshake (bytes are held, see TunnelDetector).
    case probing
    /// The proxy accepted: later bytes are the tunnelled connection (or, for UDP ASSOCIATE,
    /// datagrams go to `boundAddress:boundPort`).
    case open(TunnelInfo)
    /// The first bytes are not a proxy handshake: classify the flow as a direct connection.
    case notATunnel
    /// A proxy handshake that did not open a tunnel.
    case failed(TunnelFailure)
}

/// Bounds (DESIGN.md rule 5).
public enum TunnelLimits {
    /// RFC 1928/1929 bound a SOCKS5 client's handshake at 257 (greeting) + 513 (auth) + 262
    /// (request) = 1032 bytes; HTTP has no limit, so we take the 8 KiB header limit common to
    /// proxies (Squid, tinyproxy, nginx `large_client_header_buffers` default 8k).
    public static let maxHandshakeBytes = 8192
    /// HTTP CONNECT: how many non-2xx responses (407 challenges) a client may retry on one connection.
    public static let maxHTTPConnectAttempts = 4
}

/// Outcome of parsing one handshake message at an offset of a buffer.
enum TunnelParse<T> {
    case needMore
    /// Not this protocol (or a broken message): the reason is for the caller to pick.
    case invalid
    /// The message and its length in bytes.
    case done(T, Int)
}

extension UnsafeRawBufferPointer {
    /// Bytes [from, from+count) as a String (invalid UTF-8 repaired), or nil when short.
    func text(_ from: Int, _ count: Int) -> String? {
        guard has(from, count) else { return nil }
        return String(decoding: slice(from, count), as: UTF8.self)
    }
    func array(_ from: Int, _ count: Int) -> [UInt8]? {
        guard has(from, count) else { return nil }
        return Array(slice(from, count))
    }
}
