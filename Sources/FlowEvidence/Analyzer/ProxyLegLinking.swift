// Links the two legs of proxied connections at the end of the run (FlowFinalizer.linkProxyLegs), when
// one capture holds both (issue 7, "Attribution across the proxy"); ProxyAttribution.swift has the
// columns it fills and the records it reads. Rules:
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

extension FlowFinalizer {
    /// Links client legs to the proxy's connections (the rules at the top), marks both flow rows, and
    /// adds the clients to the proxy's direct evidence rows.
    mutating func linkProxyLegs() {
        let att = aggregator.attribution
        guard !att.tunnels.isEmpty || !att.relays.isEmpty else { return }
        let facts = LegFactsByRow(att.legs)
        var exits: [Int: ProxyExit] = [:]
        var used = Set<Int>()
        linkConnects(att, facts, &used, &exits)
        linkBinds(att, facts, &used, &exits)
        linkRelays(att, facts, &used, &exits)
        aggregator.value.attribute(exits)
    }

    /// The columns linking reads of kept row `r` (FlowRow or LegRow, as the run keeps them).
    func leg(_ r: Int) -> LegRow { keepsAllRows ? LegRow(rows[r]) : legRows[r] }

    /// `exitIsSrc`: the proxy's address on its leg is the leg's src (CONNECT, UDP relay), else its dst (BIND).
    private mutating func link(client r: Int, proxyLeg c: Int, exitIsSrc: Bool = true, _ facts: LegFactsByRow, _ exits: inout [Int: ProxyExit]) {
        if keepsAllRows {
            rows[c].attributedTo = clientAddress(r)
            rows[c].linkedFrame = leg(r).firstFrame
            rows[r].linkedFrame = leg(c).firstFrame
        }
        if let id = facts[c]?.flowID { exits[id] = ProxyExit(exit: exitIsSrc ? leg(c).srcIP : leg(c).dstIP, client: clientAddress(r)) }
    }

    /// The client end of client leg `r`: the flow's src for a TCP tunnel, the side that is not the relay for UDP.
    private func clientAddress(_ r: Int) -> IPAddress {
        guard let relay = aggregator.attribution.relays[r] else { return leg(r).srcIP }
        return leg(r).dstIP == relay.address && leg(r).dstPort == relay.port ? leg(r).srcIP : leg(r).dstIP
    }

    private mutating func linkConnects(_ att: ProxyAttribution, _ facts: LegFactsByRow, _ used: inout Set<Int>, _ exits: inout [Int: ProxyExit]) {
        // Candidates by destination port, each list by first packet.
        var byPort: [UInt16: [Int]] = [:]
        for (row, f) in att.legs.enumerated() where f.isTCP && f.sawSYN && att.tunnels[row] == nil && !leg(row).hasTunnel {
            byPort[leg(row).dstPort, default: []].append(row)
        }
        for k in byPort.keys { byPort[k]!.sort { (leg($0).firstSeen, leg($0).firstFrame) < (leg($1).firstSeen, leg($1).firstFrame) } }
        let order = att.tunnels.keys.sorted { (att.tunnels[$0]!.openedAt, leg($0).firstFrame) < (att.tunnels[$1]!.openedAt, leg($1).firstFrame) }
        for r in order {
            let t = att.tunnels[r]!
            guard t.info.command == .connect, let f = facts[r], let list = byPort[t.info.targetPort] else { continue }
            let client = ProxyClientLeg(tunnel: t.info, requestAt: leg(r).firstSeen, replyAt: t.openedAt,
                                        bytesUp: Int(f.bytesFromSrc) - t.handshakeUp, bytesDown: Int(f.bytesFromDst) - t.handshakeDown)
            let from = leg(r).firstSeen.nanoseconds - ProxyLegMatcher.timingSlackNanoseconds
            let to = t.openedAt.nanoseconds + ProxyLegMatcher.timingSlackNanoseconds
            var best: (score: Int, sameHost: Bool, row: Int)?
            var i = firstIndex(list, notBefore: from)
            while i < list.count, leg(list[i]).firstSeen.nanoseconds <= to {
                let c = list[i]
                i += 1
                guard c != r, !used.contains(c), let cf = facts[c] else { continue }
                let candidate = ProxyLeg(address: leg(c).dstIP.bytes, port: leg(c).dstPort, openedAt: leg(c).firstSeen,
                                         bytesToTarget: Int(cf.bytesFromSrc), bytesFromTarget: Int(cf.bytesFromDst))
                guard let m = ProxyLegMatcher.match(client, candidate) else { continue }
                let sameHost = leg(c).srcIP == t.via.address
                if case .domain = t.info.target, !sameHost, !m.reasons.contains("byte_counts_equal") { continue }
                if let b = best, (b.score, b.sameHost ? 1 : 0) >= (m.score, sameHost ? 1 : 0) { continue }
                best = (m.score, sameHost, c)
            }
            if let b = best { used.insert(b.row); link(client: r, proxyLeg: b.row, facts, &exits) }
        }
    }

    /// BIND: the remote host's connection to the proxy's bound port (ProxyLegMatcher.matchBind). The
    /// flow row's `tunnel_target` names that host, like the evidence's `target`.
    private mutating func linkBinds(_ att: ProxyAttribution, _ facts: LegFactsByRow, _ used: inout Set<Int>, _ exits: inout [Int: ProxyExit]) {
        for r in att.tunnels.keys.sorted(by: { leg($0).firstFrame < leg($1).firstFrame }) {
            let t = att.tunnels[r]!
            guard t.info.command == .bind, let f = facts[r], let bound = t.info.boundPort else { continue }
            if keepsAllRows { rows[r].tunnelTarget = t.target }
            let client = ProxyClientLeg(tunnel: t.info, requestAt: leg(r).firstSeen, replyAt: t.openedAt,
                                        bytesUp: Int(f.bytesFromSrc) - t.handshakeUp, bytesDown: Int(f.bytesFromDst) - t.handshakeDown)
            var best: (score: Int, row: Int)?
            for (row, c) in att.legs.enumerated() where c.isTCP && c.sawSYN && att.tunnels[row] == nil && !used.contains(row) && row != r {
                let x = leg(row)
                guard x.dstPort == bound, !x.hasTunnel else { continue }
                let candidate = ProxyLeg(address: x.srcIP.bytes, port: x.srcPort, openedAt: x.firstSeen,
                                         bytesToTarget: Int(c.bytesFromDst), bytesFromTarget: Int(c.bytesFromSrc))
                guard let m = ProxyLegMatcher.matchBind(client, candidate, toPort: x.dstPort) else { continue }
                if let b = best, b.score >= m.score { continue }
                best = (m.score, row)
            }
            if let b = best { used.insert(b.row); link(client: r, proxyLeg: b.row, exitIsSrc: false, facts, &exits) }
        }
    }

    /// UDP ASSOCIATE: every UDP flow from the relay's address to a target the client's relay flow
    /// exchanged datagrams with, first seen while that flow was live. The relay flow's `linked_frame`
    /// is the earliest of them; each names the client.
    private mutating func linkRelays(_ att: ProxyAttribution, _ facts: LegFactsByRow, _ used: inout Set<Int>, _ exits: inout [Int: ProxyExit]) {
        var udp: [ProxyEndpoint: [Int]] = [:]   // candidate flows by destination
        for (row, f) in att.legs.enumerated() where !f.isTCP && att.relays[row] == nil {
            udp[ProxyEndpoint(address: leg(row).dstIP, port: leg(row).dstPort), default: []].append(row)
        }
        for r in att.relays.keys.sorted(by: { leg($0).firstFrame < leg($1).firstFrame }) {
            let relay = att.relays[r]!
            let from = leg(r).firstSeen.nanoseconds - ProxyLegMatcher.timingSlackNanoseconds
            let to = leg(r).lastSeen.nanoseconds + ProxyLegMatcher.timingSlackNanoseconds
            var linked: [Int] = []
            for target in att.relayTargets[r] ?? [] {
                for c in udp[target] ?? [] where !used.contains(c) && leg(c).srcIP == relay.address
                    && (from...to).contains(leg(c).firstSeen.nanoseconds) {
                    linked.append(c)
                }
            }
            linked.sort { leg($0).firstFrame < leg($1).firstFrame }
            for c in linked.reversed() { used.insert(c); link(client: r, proxyLeg: c, facts, &exits) }   // the earliest last: linked_frame
        }
    }

    /// The first index of `list` (sorted by first packet) whose flow starts at or after `t`.
    private func firstIndex(_ list: [Int], notBefore t: Int64) -> Int {
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if leg(list[mid]).firstSeen.nanoseconds < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// ProxyAttribution.legs by row: AggregatorBox.legEnded records one per kept row, in row order (and
/// FlowFinalizer.absorb keeps it so), so row r's is the r-th; read in place.
struct LegFactsByRow {
    private let legs: ChunkedArray<LegFacts>

    init(_ legs: ChunkedArray<LegFacts>) { self.legs = legs }

    subscript(row: Int) -> LegFacts? { row >= 0 && row < legs.count ? legs[row] : nil }
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
            for id in acc.flows { if let e = exits[id], e.exit == k.ip { acc.rareParts.attributedTo.insert(e.client) } }
        }
    }
}
