// Evidence through proxies (issue 7): which evidence travelled on a tunnel's client leg (`via`,
// `target`), and which of a proxy's own connections carried a client's tunnelled traffic
// (`attributed_to`), found by linking the two legs when one capture holds both (ProxyLegMatcher).
//
// Semantics of the evidence columns (README "Output columns"):
// - The row's `ip` stays the address that sent the bytes on the leg where they were seen (DESIGN.md).
// - `via`: evidence seen on a client leg (client <-> proxy, after the proxy handshake opened a
//   tunnel; or datagrams between a SOCKS5 client and its UDP relay) carries the proxy's endpoint on
//   that leg, `address:port`. Both ends of the leg get it: the client (what it sent and received)
//   and the proxy's address (the target's bytes, relayed to the client). `via` is part of the row
//   key, (ip, infohash, via[, day]), so a proxy's direct row (via empty: its own connections to
//   peers and trackers, as the outside world sees them) never adds the bytes it relayed back to its
//   clients, and a client's tunnelled evidence stays apart from its direct evidence.
// - `target`: on rows with `via`, the targets the client asked for (`host:port`, as the flow
//   report's `tunnel_target`), sorted, `;`-separated; for a UDP relay, the targets of the datagrams
//   that carried evidence. At most EvidenceLimits.targetsPerRow, the first in sort order.
// - `attributed_to`: on direct rows of a proxy's address: the clients whose client legs were linked
//   to the proxy connections that carried this row's evidence, sorted, `;`-separated.
//
// Linking, at the end of the run (FlowFinalizer.linkProxyLegs):
// - TCP CONNECT (SOCKS4/4a/5, HTTP CONNECT): a candidate proxy leg is a TCP flow whose SYN was seen,
//   that is not itself a client leg, going to the requested address and port (any address for a
//   domain-name request), opened between the client leg's first packet (a lower bound of the
//   request) and the delivery of the reply that opened the tunnel (ProxyLegMatcher's slack). The
//   best ProxyLegMatcher score wins, then a leg that starts at the proxy's own address, then the
//   earliest. A domain-name request needs the proxy's own address or equal byte counts. Each proxy
//   leg serves one client leg; client legs are linked in the order their tunnels opened.
// - SOCKS5 BIND: the remote host's connection to the proxy's bound port, from the address and port
//   the second reply names, opened before that reply (ProxyLegMatcher.matchBind); the proxy's
//   address on it is the flow's destination. `target` is that remote host.
// - SOCKS5 UDP ASSOCIATE: every UDP flow from the relay's address to one of the addresses the client's
//   relay flow sent datagrams to (or received them from), first seen while the relay flow was live
//   (with the slack). Each names the client; the relay flow names the earliest.
// Linked flows name each other (`linked_frame`) and the proxy leg names the client (`attributed_to`).
import WireBytes
import PacketDecode
import BitTorrentClassifier

/// A tunnel that opened on a TCP flow (the client is the flow's `src`, the proxy its `dst`).
struct OpenTunnel {
    var info: TunnelInfo
    var via: ProxyEndpoint
    /// `host:port` as the flow report's `tunnel_target` (made once, not per event).
    var target: String
    /// When the reply that opened the tunnel was delivered.
    var openedAt: Timestamp
    /// Handshake bytes client -> proxy and proxy -> client.
    var handshakeUp: Int, handshakeDown: Int
}

/// A SOCKS5 UDP header's target.
struct RelayedTarget: Hashable {
    var target: TunnelTarget
    var port: UInt16
}

/// A client's relay flow: the client's address and port, and the relay.
struct RelayLegKey: Hashable {
    var client: IPAddress, clientPort: UInt16
    var relay: ProxyEndpoint
}

/// What linking needs of an ended flow beside its FlowRow.
struct LegFacts {
    var row: Int
    var flowID: Int
    var isTCP: Bool
    var sawSYN: Bool
    /// Transport payload bytes per direction.
    var bytesFromSrc: Int64, bytesFromDst: Int64
}

/// Side records of the run, kept by AggregatorBox (not in the per-flow state).
struct ProxyAttribution {
    /// Tunnels of live flows, by flow id.
    var open: [Int: OpenTunnel] = [:]
    /// Every ended flow, in row order.
    var legs: [LegFacts] = []
    /// Ended client legs, by row index: TCP tunnels, and UDP flows relayed by a SOCKS5 relay.
    var tunnels: [Int: OpenTunnel] = [:]
    var relays: [Int: ProxyEndpoint] = [:]
    /// SOCKS5 UDP relays: the target (`host:port`) of the datagram being classified, each target's
    /// text made once; the address targets each client's relay flow exchanged datagrams with, while
    /// live (by client end and relay) and once ended (by row).
    var currentRelayTarget: String?
    var relayTargetNames: [RelayedTarget: String] = [:]
    var liveRelayTargets: [RelayLegKey: Set<ProxyEndpoint>] = [:]
    var relayTargets: [Int: Set<ProxyEndpoint>] = [:]
    /// A relay flow's address targets kept for linking (a DHT client behind a relay queries many
    /// nodes): beyond this many, the relay's datagrams to further targets are not linked.
    static let maxTargetsPerRelayFlow = 4096

    mutating func absorb(_ other: ProxyAttribution, rowOffset: Int, flowIDOffset: Int) {
        legs += other.legs.map { var f = $0; f.row += rowOffset; f.flowID += flowIDOffset; return f }
        for (r, t) in other.tunnels { tunnels[r + rowOffset] = t }
        for (r, e) in other.relays { relays[r + rowOffset] = e }
        for (r, t) in other.relayTargets { relayTargets[r + rowOffset] = t }
    }
}

extension AggregatorBox {
    /// The event's origin with the proxy path of its flow, when the flow is a client leg.
    @inline(__always)
    func tag(_ origin: EventOrigin, state: AnalyzerFlowState) -> EventOrigin {
        guard state.tunnel != nil || state.relayTarget != nil else { return origin }
        var o = origin
        if state.tunnel != nil, let t = attribution.open[origin.flowID] {
            o.via = t.via; o.target = t.target
        } else if let target = attribution.currentRelayTarget ?? state.relayTarget, let relay = relayEndpoint(state) {
            o.via = relay; o.target = target
        }
        return o
    }

    /// The SOCKS5 UDP relay end of a relayed UDP flow.
    func relayEndpoint(_ state: AnalyzerFlowState) -> ProxyEndpoint? {
        if udpRelays[RelayEndpoint(address: state.dst, port: state.dstPort)] != nil { return ProxyEndpoint(address: state.dst, port: state.dstPort) }
        if udpRelays[RelayEndpoint(address: state.src, port: state.srcPort)] != nil { return ProxyEndpoint(address: state.src, port: state.srcPort) }
        return nil
    }

    /// Called by StreamFeed when the proxy's reply opened a tunnel on flow `flowID`.
    func tunnelOpened(_ info: TunnelInfo, flowID: Int, state: AnalyzerFlowState, at time: Timestamp, handshake: (fromClient: Int, fromServer: Int)) {
        attribution.open[flowID] = OpenTunnel(info: info, via: ProxyEndpoint(address: state.dst, port: state.dstPort),
                                              target: Self.target(info), openedAt: time,
                                              handshakeUp: handshake.fromClient, handshakeDown: handshake.fromServer)
    }

    /// The `target` of a tunnel: what CONNECT asked for; for BIND, the host that connected (second reply).
    static func target(_ info: TunnelInfo) -> String {
        if info.command == .bind, let a = info.bindPeerAddress, let p = info.bindPeerPort { return "\(a):\(p)" }
        return "\(info.target):\(info.targetPort)"
    }

    /// Called by SOCKS5UDPRelay for each whole datagram between a client and its relay: the datagram's
    /// target for the evidence it carries, and the relay flow's targets for linking.
    func relayed(_ h: SOCKS5UDPHeader, client: (IPAddress, UInt16), relay: (IPAddress, UInt16)) {
        let key = RelayedTarget(target: h.target, port: h.port)
        if let name = attribution.relayTargetNames[key] {
            attribution.currentRelayTarget = name
        } else {
            let name = "\(h.target):\(h.port)"
            attribution.relayTargetNames[key] = name
            attribution.currentRelayTarget = name
        }
        guard let address = h.target.address else { return }
        let leg = RelayLegKey(client: client.0, clientPort: client.1, relay: ProxyEndpoint(address: relay.0, port: relay.1))
        let target = ProxyEndpoint(address: address, port: h.port)
        if attribution.liveRelayTargets[leg]?.contains(target) == true { return }
        if attribution.liveRelayTargets[leg, default: []].count < ProxyAttribution.maxTargetsPerRelayFlow {
            attribution.liveRelayTargets[leg, default: []].insert(target)
        }
    }

    /// Called when a flow ended, before its row (index `row`) is appended.
    func legEnded(_ flow: Flow<AnalyzerFlowState>, row: Int) {
        let state = flow.context
        attribution.legs.append(LegFacts(row: row, flowID: flow.id, isTCP: state.isTCP, sawSYN: flow.sawSYN,
                                         bytesFromSrc: flow.bytesFromSrc, bytesFromDst: flow.bytesFromDst))
        if let t = attribution.open.removeValue(forKey: flow.id) { attribution.tunnels[row] = t }
        if state.relayTarget != nil, let relay = relayEndpoint(state) {
            attribution.relays[row] = relay
            let client = relay.address == state.dst && relay.port == state.dstPort ? (state.src, state.srcPort) : (state.dst, state.dstPort)
            let leg = RelayLegKey(client: client.0, clientPort: client.1, relay: relay)
            attribution.relayTargets[row] = attribution.liveRelayTargets.removeValue(forKey: leg)
        }
    }
}

extension FlowFinalizer {
    /// Links client legs to the proxy's connections (the rules at the top), marks both flow rows, and
    /// adds the clients to the proxy's direct evidence rows.
    mutating func linkProxyLegs() {
        let att = aggregator.attribution
        guard !att.tunnels.isEmpty || !att.relays.isEmpty else { return }
        var facts: [Int: LegFacts] = [:]
        for f in att.legs { facts[f.row] = f }
        var exits: [Int: ProxyExit] = [:]
        var used = Set<Int>()
        linkConnects(att, facts, &used, &exits)
        linkBinds(att, facts, &used, &exits)
        linkRelays(att, facts, &used, &exits)
        aggregator.value.attribute(exits)
    }

    /// `exitIsSrc`: the proxy's address on its leg is the leg's src (CONNECT, UDP relay), else its dst (BIND).
    private mutating func link(client r: Int, proxyLeg c: Int, exitIsSrc: Bool = true, _ facts: [Int: LegFacts], _ exits: inout [Int: ProxyExit]) {
        rows[c].attributedTo = clientAddress(r)
        rows[c].linkedFrame = rows[r].firstFrame
        rows[r].linkedFrame = rows[c].firstFrame
        if let id = facts[c]?.flowID { exits[id] = ProxyExit(exit: exitIsSrc ? rows[c].srcIP : rows[c].dstIP, client: clientAddress(r)) }
    }

    /// The client end of client leg `r`: the flow's src for a TCP tunnel, the side that is not the relay for UDP.
    private func clientAddress(_ r: Int) -> IPAddress {
        guard let relay = aggregator.attribution.relays[r] else { return rows[r].srcIP }
        return rows[r].dstIP == relay.address && rows[r].dstPort == relay.port ? rows[r].srcIP : rows[r].dstIP
    }

    private mutating func linkConnects(_ att: ProxyAttribution, _ facts: [Int: LegFacts], _ used: inout Set<Int>, _ exits: inout [Int: ProxyExit]) {
        // Candidates by destination port, each list by first packet.
        var byPort: [UInt16: [Int]] = [:]
        for f in att.legs where f.isTCP && f.sawSYN && att.tunnels[f.row] == nil && rows[f.row].tunnel == nil {
            byPort[rows[f.row].dstPort, default: []].append(f.row)
        }
        for k in byPort.keys { byPort[k]!.sort { (rows[$0].firstSeen, rows[$0].firstFrame) < (rows[$1].firstSeen, rows[$1].firstFrame) } }
        let order = att.tunnels.keys.sorted { (att.tunnels[$0]!.openedAt, rows[$0].firstFrame) < (att.tunnels[$1]!.openedAt, rows[$1].firstFrame) }
        for r in order {
            let t = att.tunnels[r]!
            guard t.info.command == .connect, let f = facts[r], let list = byPort[t.info.targetPort] else { continue }
            let client = ProxyClientLeg(tunnel: t.info, requestAt: rows[r].firstSeen, replyAt: t.openedAt,
                                        bytesUp: Int(f.bytesFromSrc) - t.handshakeUp, bytesDown: Int(f.bytesFromDst) - t.handshakeDown)
            let from = rows[r].firstSeen.nanoseconds - ProxyLegMatcher.timingSlackNanoseconds
            let to = t.openedAt.nanoseconds + ProxyLegMatcher.timingSlackNanoseconds
            var best: (score: Int, sameHost: Bool, row: Int)?
            var i = firstIndex(list, notBefore: from)
            while i < list.count, rows[list[i]].firstSeen.nanoseconds <= to {
                let c = list[i]
                i += 1
                guard c != r, !used.contains(c), let cf = facts[c] else { continue }
                let leg = ProxyLeg(address: rows[c].dstIP.bytes, port: rows[c].dstPort, openedAt: rows[c].firstSeen,
                                   bytesToTarget: Int(cf.bytesFromSrc), bytesFromTarget: Int(cf.bytesFromDst))
                guard let m = ProxyLegMatcher.match(client, leg) else { continue }
                let sameHost = rows[c].srcIP == t.via.address
                if case .domain = t.info.target, !sameHost, !m.reasons.contains("byte_counts_equal") { continue }
                if let b = best, (b.score, b.sameHost ? 1 : 0) >= (m.score, sameHost ? 1 : 0) { continue }
                best = (m.score, sameHost, c)
            }
            if let b = best { used.insert(b.row); link(client: r, proxyLeg: b.row, facts, &exits) }
        }
    }

    /// BIND: the remote host's connection to the proxy's bound port (ProxyLegMatcher.matchBind). The
    /// flow row's `tunnel_target` names that host, like the evidence's `target`.
    private mutating func linkBinds(_ att: ProxyAttribution, _ facts: [Int: LegFacts], _ used: inout Set<Int>, _ exits: inout [Int: ProxyExit]) {
        for r in att.tunnels.keys.sorted(by: { rows[$0].firstFrame < rows[$1].firstFrame }) {
            let t = att.tunnels[r]!
            guard t.info.command == .bind, let f = facts[r], let bound = t.info.boundPort else { continue }
            rows[r].tunnelTarget = t.target
            let client = ProxyClientLeg(tunnel: t.info, requestAt: rows[r].firstSeen, replyAt: t.openedAt,
                                        bytesUp: Int(f.bytesFromSrc) - t.handshakeUp, bytesDown: Int(f.bytesFromDst) - t.handshakeDown)
            var best: (score: Int, row: Int)?
            for c in att.legs where c.isTCP && c.sawSYN && att.tunnels[c.row] == nil && !used.contains(c.row) && c.row != r {
                let x = rows[c.row]
                guard x.dstPort == bound, x.tunnel == nil else { continue }
                let leg = ProxyLeg(address: x.srcIP.bytes, port: x.srcPort, openedAt: x.firstSeen,
                                   bytesToTarget: Int(c.bytesFromDst), bytesFromTarget: Int(c.bytesFromSrc))
                guard let m = ProxyLegMatcher.matchBind(client, leg, toPort: x.dstPort) else { continue }
                if let b = best, b.score >= m.score { continue }
                best = (m.score, c.row)
            }
            if let b = best { used.insert(b.row); link(client: r, proxyLeg: b.row, exitIsSrc: false, facts, &exits) }
        }
    }

    /// UDP ASSOCIATE: every UDP flow from the relay's address to a target the client's relay flow
    /// exchanged datagrams with, first seen while that flow was live. The relay flow's `linked_frame`
    /// is the earliest of them; each names the client.
    private mutating func linkRelays(_ att: ProxyAttribution, _ facts: [Int: LegFacts], _ used: inout Set<Int>, _ exits: inout [Int: ProxyExit]) {
        var udp: [ProxyEndpoint: [Int]] = [:]   // candidate flows by destination
        for f in att.legs where !f.isTCP && att.relays[f.row] == nil {
            udp[ProxyEndpoint(address: rows[f.row].dstIP, port: rows[f.row].dstPort), default: []].append(f.row)
        }
        for r in att.relays.keys.sorted(by: { rows[$0].firstFrame < rows[$1].firstFrame }) {
            let relay = att.relays[r]!
            let from = rows[r].firstSeen.nanoseconds - ProxyLegMatcher.timingSlackNanoseconds
            let to = rows[r].lastSeen.nanoseconds + ProxyLegMatcher.timingSlackNanoseconds
            var linked: [Int] = []
            for target in att.relayTargets[r] ?? [] {
                for c in udp[target] ?? [] where !used.contains(c) && rows[c].srcIP == relay.address
                    && (from...to).contains(rows[c].firstSeen.nanoseconds) {
                    linked.append(c)
                }
            }
            linked.sort { rows[$0].firstFrame < rows[$1].firstFrame }
            for c in linked.reversed() { used.insert(c); link(client: r, proxyLeg: c, facts, &exits) }   // the earliest last: linked_frame
        }
    }

    /// The first index of `list` (sorted by first packet) whose flow starts at or after `t`.
    private func firstIndex(_ list: [Int], notBefore t: Int64) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[list[mid]].firstSeen.nanoseconds < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// A proxy connection linked to a client leg: the proxy's exit address on it, and the client.
struct ProxyExit {
    var exit: IPAddress
    var client: IPAddress
}

extension EvidenceAggregator {
    /// Adds the linked clients to the direct rows of each proxy exit address whose evidence came
    /// from a linked proxy connection (by flow id).
    mutating func attribute(_ exits: [Int: ProxyExit]) {
        guard !exits.isEmpty else { return }
        for (k, acc) in table where k.via == nil {
            for id in acc.flows { if let e = exits[id], e.exit == k.ip { acc.attributedTo.insert(e.client) } }
        }
    }
}
