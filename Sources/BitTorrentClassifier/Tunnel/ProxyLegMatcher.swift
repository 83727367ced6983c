// Links the two legs of a proxied connection captured on (or next to) the proxy host: the client's
// leg (client -> proxy, where TunnelDetector read the request) and the proxy's leg (proxy -> target).
// Issue 7, "Attribution across the proxy": "links them (the target address and port named in the
// request, timing, byte counts)". The rules come from the protocols' order of events:
// RFC 1928 §6 "The SOCKS request information is sent by the client as soon as it has established a
// connection to the SOCKS server ... the SOCKS server evaluates the request, and returns a reply";
// a CONNECT reply carries BND.ADDR/PORT of the socket the server opened, so the proxy opens its leg
// after the request arrives and before the success reply leaves; RFC 9110 §9.3.6 (CONNECT) the same
// ("switch to tunnel mode" only after the tunnel is established). RFC 1928 §7: a relay forwards DATA
// unchanged to DST.ADDR:DST.PORT.
//
// Wiring (FlowEvidence/Analyzer/ProxyLegLinking.swift): at the end of the run, for each client leg
// whose tunnel opened, the candidates are the flows to the requested port (BIND: to the bound port)
// opened in the window; the best score wins, each proxy leg serves one client leg, and the client is
// added to the evidence of the proxy's exit address (`attributed_to`). UDP ASSOCIATE is linked by the
// relay's flows to the datagrams' targets; `matchDatagram` compares single datagrams (tests).

import WireBytes

/// The proxy's own connection to a target, as the flow layer saw it.
public struct ProxyLeg: Hashable, Sendable {
    /// Destination of the proxy's connection: 4 or 16 network-order bytes.
    public var address: [UInt8]
    public var port: UInt16
    /// When the proxy sent its SYN.
    public var openedAt: Timestamp
    /// Payload bytes proxy -> target and target -> proxy (nil when unknown).
    public var bytesToTarget: Int?
    public var bytesFromTarget: Int?
    public init(address: [UInt8], port: UInt16, openedAt: Timestamp, bytesToTarget: Int? = nil, bytesFromTarget: Int? = nil) {
        self.address = address; self.port = port; self.openedAt = openedAt
        self.bytesToTarget = bytesToTarget; self.bytesFromTarget = bytesFromTarget
    }
}

/// The client leg as the flow layer saw it around the handshake.
public struct ProxyClientLeg: Hashable, Sendable {
    public var tunnel: TunnelInfo
    /// Timestamp of the segment that completed the request, and of the one that carried the reply.
    public var requestAt: Timestamp
    public var replyAt: Timestamp
    /// Tunnelled payload bytes client -> proxy and proxy -> client (nil when unknown).
    public var bytesUp: Int?
    public var bytesDown: Int?
    public init(tunnel: TunnelInfo, requestAt: Timestamp, replyAt: Timestamp, bytesUp: Int? = nil, bytesDown: Int? = nil) {
        self.tunnel = tunnel; self.requestAt = requestAt; self.replyAt = replyAt; self.bytesUp = bytesUp; self.bytesDown = bytesDown
    }
}

public struct ProxyLegMatch: Hashable, Sendable {
    /// 0...100 for ranking candidates, not a probability.
    public var score: Int
    /// Sorted: `bound_port` (BIND), `byte_counts_equal`, `opened_between_request_and_reply`,
    /// `target_address`, `target_is_domain_name`, `target_port`.
    public var reasons: [String]
}

public enum ProxyLegMatcher {
    /// Capture timestamps of the two legs come from one clock on the proxy host; this allows for
    /// timestamp resolution (pcap microseconds) and a capture taken on a neighbouring tap.
    public static let timingSlackNanoseconds: Int64 = 1_000_000

    /// Nil unless port, address (when the request named one) and timing agree.
    public static func match(_ client: ProxyClientLeg, _ leg: ProxyLeg) -> ProxyLegMatch? {
        let t = client.tunnel
        guard t.command == .connect, leg.port == t.targetPort else { return nil }
        var reasons = ["target_port"]
        var score = 40
        switch t.target {
        case .ipv4(let a), .ipv6(let a):
            guard a == leg.address else { return nil }
            reasons.append("target_address"); score += 40
        case .domain:
            reasons.append("target_is_domain_name"); score += 20  // DNS answers could confirm it
        }
        let from = client.requestAt.nanoseconds - timingSlackNanoseconds
        let to = client.replyAt.nanoseconds + timingSlackNanoseconds
        guard (from...to).contains(leg.openedAt.nanoseconds) else { return nil }
        reasons.append("opened_between_request_and_reply"); score += 10
        if let up = client.bytesUp, let down = client.bytesDown, up == leg.bytesToTarget, down == leg.bytesFromTarget {
            reasons.append("byte_counts_equal"); score += 10
        }
        return ProxyLegMatch(score: min(score, 100), reasons: reasons.sorted())
    }

    /// BIND (RFC 1928 section 4: "the client expects the server to ... accept an incoming connection";
    /// section 6: the first reply carries BND.ADDR/BND.PORT the server listens on, the second the
    /// address and port of the connecting host): the proxy's leg is the connection the remote host
    /// opened to BND.PORT (`toPort`), from the second reply's address and port (`leg.address`,
    /// `leg.port`), between the request and the second reply. `leg.bytesToTarget` is what the proxy
    /// sent the remote host. Reasons as for CONNECT, `target_*` naming the connecting host, plus
    /// `bound_port`.
    public static func matchBind(_ client: ProxyClientLeg, _ leg: ProxyLeg, toPort: UInt16) -> ProxyLegMatch? {
        let t = client.tunnel
        guard t.command == .bind, let bound = t.boundPort, bound == toPort, leg.port == t.bindPeerPort else { return nil }
        var reasons = ["bound_port", "target_port"]
        var score = 40
        switch t.bindPeerAddress {
        case .ipv4(let a)?, .ipv6(let a)?:
            guard a == leg.address else { return nil }
            reasons.append("target_address"); score += 40
        case .domain?, nil:
            return nil   // the second reply names an address (RFC 1928 section 6)
        }
        let from = client.requestAt.nanoseconds - timingSlackNanoseconds
        let to = client.replyAt.nanoseconds + timingSlackNanoseconds
        guard (from...to).contains(leg.openedAt.nanoseconds) else { return nil }
        reasons.append("opened_between_request_and_reply"); score += 10
        if let up = client.bytesUp, let down = client.bytesDown, up == leg.bytesToTarget, down == leg.bytesFromTarget {
            reasons.append("byte_counts_equal"); score += 10
        }
        return ProxyLegMatch(score: min(score, 100), reasons: reasons.sorted())
    }

    /// A datagram the relay sent on (`relayed`, to `address:port`) carries the same DATA as a
    /// client datagram whose SOCKS5 UDP header named that destination.
    public static func matchDatagram(header: SOCKS5UDPHeader, clientDatagram: UnsafeRawBufferPointer,
                                     relayedTo address: [UInt8], port: UInt16, relayed: UnsafeRawBufferPointer) -> Bool {
        guard header.port == port, header.payloadOffset <= clientDatagram.count else { return false }
        switch header.target {
        case .ipv4(let a), .ipv6(let a): guard a == address else { return false }
        case .domain: break
        }
        let data = clientDatagram.slice(header.payloadOffset, clientDatagram.count - header.payloadOffset)
        return data.count == relayed.count && data.elementsEqual(relayed)
    }
}
