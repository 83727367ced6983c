// Finds a proxy handshake at the start of a TCP connection and says where the tunnelled bytes begin:
// SOCKS5 (RFC 1928, RFC 1929 username/password), SOCKS4 and SOCKS4a (Ying-Da Lee's SOCKS4.protocol
// and SOCKS4A.protocol) and HTTP CONNECT (RFC 9110 §9.3.6). The message grammars and the quotes
// from the specs are in SOCKS5Messages.swift, SOCKS4Messages.swift and HTTPConnectMessages.swift.
//
// How the flow layer wires it (one detector per TCP connection, both directions, in stream order
// without retransmitted bytes; `fromClient` is true for bytes sent by the side that opened the
// connection, the SYN sender, or when the SYN was missed the side that sent the first packet seen):
//
//     let n = flow.tunnel.consume(payload, fromClient: dir == .initiator)
//     switch flow.tunnel.state {
//     case .probing:    break                                   // n == payload.count: held
//     case .open(let info):                                      // tunnel just opened or was open
//         if !flow.tunnelStarted {                               // once: bytes pipelined earlier
//             flow.tunnelStarted = true; flow.info = info
//             feed(flow.tunnel.takeDeferredBytes(fromClient: true), .initiator)
//             feed(flow.tunnel.takeDeferredBytes(fromClient: false), .responder)
//         }
//         feed(payload[n...], dir)                               // tunnelled payload
//     case .notATunnel:                                           // n == 0
//         replay takeDeferredBytes(fromClient: true/false) and then `payload` into the direct
//         classifiers (TCPStreamClassifier per direction), and stop calling the detector.
//     case .failed(let f): record f (kind, reason, username, request); n == payload.count.
//     }
//
// Replayed held bytes come back per direction (client's, then server's): the order *across*
// directions within the first few messages is not kept, which per-direction stream classifiers do
// not need (and no MSE key exchange survives two rounds of SOCKS validation to be affected).
// When the flow ends or goes idle while still `.probing`, call `stopProbing()` and replay the same way.
//
// For UDP ASSOCIATE the TCP connection carries no payload; datagrams between the client and
// `info.boundAddress:boundPort` (the relay) start with the header SOCKS5UDPHeader parses.
// For the same 5-tuple the detector must run before any other TCP classifier: SOCKS greetings are
// short binary messages that no BitTorrent detector would claim anyway.

import WireBytes

public struct TunnelDetector: Sendable {
    public private(set) var state: TunnelState = .probing
    /// The username the client sent (RFC 1929 UNAME, SOCKS4 USERID, HTTP Basic user), even when
    /// the handshake then failed. Never the password.
    public private(set) var username: String?

    private var buffers: [[UInt8]] = [[], []]      // [server, client]: bytes held while probing
    private var parsed: [Int] = [0, 0]             // handshake bytes parsed per direction
    private var deferred: [[UInt8]] = [[], []]     // early payload or held bytes for the caller
    private var proto: Proto = .unknown
    private var request: TunnelInfo?
    private var confirmed = false                  // the server sent one valid proxy message

    private enum Proto: Sendable {
        case unknown
        case socks5(SOCKS5Progress)
        case socks4(awaitingSecondReply: Bool)
        case http(attempts: Int, skipBody: Int)
    }
    private struct SOCKS5Progress: Sendable {
        var offered: [UInt8] = []
        var clientStep = 0     // 0 greeting, 1 auth or request, 2 request, 3 done
        var serverStep = 0     // 0 method, 1 auth reply, 2 reply, 3 second (BIND) reply, 4 done
        var method: UInt8?
    }

    public init() {}

    /// Handshake bytes parsed so far per direction (greeting, authentication, request, reply; HTTP
    /// CONNECT: every request and response head, 407 bodies included): subtracted from a flow's
    /// payload bytes, they leave the tunnelled bytes (ProxyLegMatcher compares those).
    public var handshakeBytes: (fromClient: Int, fromServer: Int) { (parsed[1], parsed[0]) }

    /// Feeds the next bytes of one direction. Returns how many leading bytes of `bytes` belong to
    /// the proxy handshake (or are held while probing): when `state` is `.open` afterwards,
    /// `bytes[n...]` is tunnelled payload; when it is `.notATunnel`, n is 0 and the held bytes of
    /// earlier calls come back from `takeDeferredBytes`; when `.failed`, n is `bytes.count`.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool) -> Int {
        let d = fromClient ? 1 : 0
        switch state {
        case .open, .notATunnel: return 0
        case .failed:
            guard case .http = proto, !retryClosed else { return bytes.count }   // only HTTP may retry (407)
        case .probing: break
        }
        guard !bytes.isEmpty else { return 0 }
        // Most flows are not proxied: decide on their first byte without copying anything.
        if case .unknown = proto, buffers[0].isEmpty, buffers[1].isEmpty, Self.cannotOpen(with: bytes, fromClient: fromClient) {
            state = .notATunnel
            return 0
        }
        let before = buffers[d].count
        let room = TunnelLimits.maxHandshakeBytes - before
        buffers[d].append(contentsOf: bytes.slice(0, room))
        // An HTTP header section can only end on a LF: once the first 8 bytes (the "CONNECT " or
        // "HTTP/" check) are in, skip re-parsing (quadratic when drip-fed) until a LF comes.
        if case .http = proto, before >= 8, !bytes.slice(0, room).contains(10) {} else { advance() }
        if case .probing = state, bytes.count > room { fail(.handshakeTooLong) }
        switch state {
        case .open:
            // This call's bytes past the handshake are returned to the caller as payload; bytes
            // held from earlier calls (pipelined before the reply) become deferred payload.
            for e in 0...1 {
                let end = e == d ? before : buffers[e].count
                if parsed[e] < end { deferred[e] = Array(buffers[e][parsed[e]..<end]) }
            }
            buffers = [[], []]
            return min(max(parsed[d] - before, 0), bytes.count)
        case .notATunnel:
            deferred = [Array(buffers[0].prefix(d == 0 ? before : buffers[0].count)),
                        Array(buffers[1].prefix(d == 1 ? before : buffers[1].count))]
            buffers = [[], []]
            return 0
        case .probing, .failed:
            return bytes.count
        }
    }

    /// Whether a connection whose first bytes (of either direction) are `bytes` cannot be a proxy
    /// handshake: they come from the server, or start with none of SOCKS5's and SOCKS4's version
    /// bytes or "CONNECT ". A fresh detector fed them goes `.notATunnel` holding nothing, so a flow
    /// layer may skip making one (issue 6: most flows of a busy link).
    public static func cannotOpen(with bytes: UnsafeRawBufferPointer, fromClient: Bool) -> Bool {
        guard let first = bytes.first else { return false }
        return !fromClient || (first != SOCKS5.version && first != SOCKS4.version && !HTTPConnect.couldBeRequest(bytes, at: 0))
    }

    /// Gives up on a handshake that never completed (the flow ended or went idle while `.probing`):
    /// the state becomes `.notATunnel` and the held bytes come back from `takeDeferredBytes`.
    public mutating func stopProbing() {
        guard case .probing = state else { return }
        state = .notATunnel
        deferred = buffers
        buffers = [[], []]
    }

    /// Bytes the caller must classify itself, once: after `.open`, tunnelled payload that arrived
    /// pipelined with the handshake; after `.notATunnel`, the flow's first bytes held while probing.
    public mutating func takeDeferredBytes(fromClient: Bool) -> [UInt8] {
        let d = fromClient ? 1 : 0
        defer { deferred[d] = [] }
        return deferred[d]
    }

    // MARK: state machine

    /// Parses until nothing moves or the state settles. A failed HTTP CONNECT (a 407) keeps
    /// parsing: the client may retry on the same connection.
    private mutating func advance() {
        while true {
            switch state {
            case .probing: break
            case .failed: guard case .http = proto, !retryClosed else { return }
            case .open, .notATunnel: return
            }
            guard step() else { return }
        }
    }

    /// One parsing step in either direction; false when nothing moved.
    private mutating func step() -> Bool {
        switch proto {
        case .unknown:
            guard let first = buffers[1].first else {
                if !buffers[0].isEmpty { state = .notATunnel }   // proxies never speak first
                return false
            }
            switch first {
            case SOCKS5.version: proto = .socks5(SOCKS5Progress())
            case SOCKS4.version: proto = .socks4(awaitingSecondReply: false)
            default:
                let maybe = buffers[1].withUnsafeBytes { HTTPConnect.couldBeRequest($0, at: 0) }
                if maybe { proto = .http(attempts: 0, skipBody: 0) } else { state = .notATunnel; return false }
            }
            return true
        case .socks5(var p):
            let moved = socks5Step(&p)
            if case .socks5 = proto { proto = .socks5(p) }
            return moved
        case .socks4(let second):
            return socks4Step(awaitingSecondReply: second)
        case .http(let attempts, let skip):
            return httpStep(attempts: attempts, skipBody: skip)
        }
    }

    private mutating func socks5Step(_ p: inout SOCKS5Progress) -> Bool {
        // Client: greeting, then (if it offered X'02') RFC 1929 auth, then the request.
        switch p.clientStep {
        case 0:
            switch peek(client: true, SOCKS5.greeting) {
            case .invalid: return invalid()
            case .done(let g, let n): parsed[1] += n; p.offered = g.methods; p.clientStep = 1; return true
            case .needMore: break
            }
        case 1 where buffers[1].count > parsed[1] && buffers[1][parsed[1]] == SOCKS5.authVersion
                     && p.offered.contains(SOCKS5.methodUserPass):
            switch peek(client: true, SOCKS5.userPassRequest) {
            case .invalid: return invalid()
            case .done(let u, let n): parsed[1] += n; username = u; p.clientStep = 2; return true
            case .needMore: break
            }
        case 1, 2:
            switch peek(client: true, SOCKS5.request) {
            case .invalid: return invalid()
            case .done(let q, let n):
                parsed[1] += n
                request = TunnelInfo(kind: .socks5, command: q.command, target: q.address.target, targetPort: q.address.port,
                                     username: username)
                p.clientStep = 3
                return true
            case .needMore: break
            }
        default: break
        }
        // Server: method selection (after the greeting), auth status, reply(ies) (after the request).
        // A server that speaks before the client message it answers is not a SOCKS server.
        let answers = [1, 2, 3, 3]
        guard p.serverStep < 4 else { return false }
        if p.clientStep < answers[p.serverStep] { return serverSpeaksOutOfTurn() }
        switch p.serverStep {
        case 0 where p.clientStep >= 1:
            guard let m = server(SOCKS5.methodSelection) else { return false }
            p.method = m
            if m == SOCKS5.methodNoAcceptable { fail(.noAcceptableMethod); return false }
            guard p.offered.contains(m) else { state = .notATunnel; return false }
            switch m {
            case SOCKS5.methodNone: p.serverStep = 2
            case SOCKS5.methodUserPass: p.serverStep = 1
            default: fail(.unsupportedMethod(m))
            }
            return true
        case 1 where p.clientStep >= 2:
            guard let status = server(SOCKS5.userPassReply) else { return false }
            if status != 0 { fail(.authenticationFailed(status: status)) } else { p.serverStep = 2 }
            return true
        case 2 where p.clientStep >= 3, 3 where p.clientStep >= 3:
            let second = p.serverStep == 3
            guard let r = server(SOCKS5.reply) else { return false }
            request?.authMethod = p.method
            request?.replyCode = Int(r.code)
            if second { request?.bindPeerAddress = r.address.target; request?.bindPeerPort = r.address.port }
            else { request?.boundAddress = r.address.target; request?.boundPort = r.address.port }
            if r.code != 0 { fail(.rejected(code: Int(r.code))); return false }
            if request?.command == .bind && !second { p.serverStep = 3; return true }
            p.serverStep = 4
            if let info = request { state = .open(info) }
            return true
        default:
            return false
        }
    }

    private mutating func socks4Step(awaitingSecondReply: Bool) -> Bool {
        if request == nil {
            switch peek(client: true, SOCKS4.request) {
            case .invalid: return invalid()
            case .needMore: return serverSpeaksOutOfTurn()
            case .done(let q, let n):
                parsed[1] += n
                username = q.userID.isEmpty ? nil : q.userID
                request = TunnelInfo(kind: q.is4a ? .socks4a : .socks4, command: q.command, target: q.target,
                                     targetPort: q.port, username: username)
                return true
            }
        }
        guard let r = server(SOCKS4.reply) else { return false }
        request?.replyCode = Int(r.code)
        if awaitingSecondReply { request?.bindPeerAddress = .ipv4(r.address); request?.bindPeerPort = r.port }
        else { request?.boundAddress = .ipv4(r.address); request?.boundPort = r.port }
        if r.code != SOCKS4.granted { fail(.rejected(code: Int(r.code))); return false }
        if request?.command == .bind && !awaitingSecondReply { proto = .socks4(awaitingSecondReply: true); return true }
        if let info = request { state = .open(info) }
        return true
    }

    private mutating func httpStep(attempts: Int, skipBody: Int) -> Bool {
        if skipBody > 0 {  // the body of a non-2xx answer (a 407 page) before a retry
            let n = min(skipBody, buffers[0].count - parsed[0])
            guard n > 0 else { return false }
            parsed[0] += n
            proto = .http(attempts: attempts, skipBody: skipBody - n)
            return true
        }
        if request == nil {
            switch peek(client: true, HTTPConnect.request) {
            case .invalid: return invalid()
            case .needMore:
                if case .failed = state { return false }  // after a 407: its body, or the close
                return serverSpeaksOutOfTurn()
            case .done(let q, let n):
                parsed[1] += n
                if let u = q.username { username = u }
                request = TunnelInfo(kind: .httpConnect, command: .connect, target: q.target, targetPort: q.port, username: username)
                state = .probing  // a retry after a 407 probes again
                return true
            }
        }
        guard let r = server(HTTPConnect.response) else { return false }
        request?.replyCode = r.status
        if (200...299).contains(r.status) {
            if let info = request { state = .open(info) }
            return true
        }
        fail(.rejected(code: r.status))
        if attempts + 1 < TunnelLimits.maxHTTPConnectAttempts {
            request = nil
            proto = .http(attempts: attempts + 1, skipBody: r.contentLength ?? 0)
        } else {
            retryClosed = true
        }
        return true
    }

    /// Set when HTTP CONNECT used up its retries: the failure is final.
    private var retryClosed = false

    // MARK: helpers

    /// Parses the next message of one direction without consuming it.
    private func peek<T>(client: Bool, _ parse: (UnsafeRawBufferPointer, Int) -> TunnelParse<T>) -> TunnelParse<T> {
        let d = client ? 1 : 0
        let o = parsed[d]
        return buffers[d].withUnsafeBytes { parse($0, o) }
    }

    /// The next server message, consumed; nil when incomplete or broken (then `state` says which).
    private mutating func server<T>(_ parse: (UnsafeRawBufferPointer, Int) -> TunnelParse<T>) -> T? {
        switch peek(client: false, parse) {
        case .needMore: return nil
        case .invalid: _ = invalid(); return nil
        case .done(let v, let n):
            parsed[0] += n
            confirmed = true
            return v
        }
    }

    /// Server bytes while the client's message is still incomplete: TCP causality says a proxy
    /// answers only after the whole request, so this is some other protocol (or a broken proxy).
    private mutating func serverSpeaksOutOfTurn() -> Bool {
        if parsed[0] < buffers[0].count { _ = invalid() }
        return false
    }

    /// A broken message: before the server confirmed the protocol it was never a tunnel.
    private mutating func invalid() -> Bool {
        if confirmed { fail(.malformedReply) } else { state = .notATunnel }
        return false
    }

    private mutating func fail(_ reason: TunnelFailureReason) {
        let kind: TunnelKind
        switch proto {
        case .socks5: kind = .socks5
        case .socks4: kind = request?.kind ?? .socks4
        case .http, .unknown: kind = .httpConnect
        }
        state = .failed(TunnelFailure(kind: kind, reason: reason, request: request, username: username))
    }
}
