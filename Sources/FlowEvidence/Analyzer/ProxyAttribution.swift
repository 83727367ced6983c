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
// Linking the legs: ProxyLegLinking.swift.
import WireBytes
import PacketDecode
import BitTorrentClassifier

/// A tunnel that opened on a TCP flow (the client is the flow's `src`, the proxy its `dst`).
struct OpenTunnel {
    var info: TunnelInfo
    var via: ProxyEndpoint
    /// `host:port` as the flow report's `tunnel_target` (made once, not per event), and its EventOrigin.targetID.
    var target: String
    var targetID: Int32
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

/// What linking needs of an ended flow beside its row: `ProxyAttribution.legs[r]` is row r's. 24
/// bytes (issue 6's memory: one per BitTorrent flow, kept to the end of the run): the flow id in 48
/// bits (Flow keeps 48) with the two booleans above it.
struct LegFacts {
    private let idAndFlags: UInt64
    /// Transport payload bytes per direction.
    let bytesFromSrc: Int64, bytesFromDst: Int64

    private static let tcp: UInt64 = 1 << 62, syn: UInt64 = 1 << 63

    init(flowID: Int, isTCP: Bool, sawSYN: Bool, bytesFromSrc: Int64, bytesFromDst: Int64) {
        precondition(flowID >= 0 && flowID <= Flow<Void>.maxCount, "LegFacts: flow id beyond 48 bits")
        idAndFlags = UInt64(flowID) | (isTCP ? Self.tcp : 0) | (sawSYN ? Self.syn : 0)
        self.bytesFromSrc = bytesFromSrc; self.bytesFromDst = bytesFromDst
    }

    var flowID: Int { Int(idAndFlags & UInt64(Flow<Void>.maxCount)) }
    var isTCP: Bool { idAndFlags & Self.tcp != 0 }
    var sawSYN: Bool { idAndFlags & Self.syn != 0 }
}

/// The columns of an ended flow's row that linking reads (ProxyLegLinking), kept instead of the row
/// when the run keeps no flow rows (AnalyzerOptions.keepsAllFlowRows false: the evidence reports,
/// which use the links only): 64 bytes (addresses without their padding, the first frame packed as
/// in Flow) instead of a FlowRow's 240 and its strings (issue 6's memory).
struct LegRow {
    private let srcHi: UInt64, srcLo: UInt64, dstHi: UInt64, dstLo: UInt64
    let firstSeen: Timestamp, lastSeen: Timestamp
    private let firstFramePacked: UInt64
    let srcPort: UInt16, dstPort: UInt16
    private let flags: UInt8

    private static let srcIsV6: UInt8 = 1, dstIsV6: UInt8 = 2, tunnel: UInt8 = 4

    init(srcIP: IPAddress, srcPort: UInt16, dstIP: IPAddress, dstPort: UInt16, hasTunnel: Bool,
         firstSeen: Timestamp, lastSeen: Timestamp, firstFrame: FrameRef) {
        srcHi = srcIP.hi; srcLo = srcIP.lo; dstHi = dstIP.hi; dstLo = dstIP.lo
        self.srcPort = srcPort; self.dstPort = dstPort
        self.firstSeen = firstSeen; self.lastSeen = lastSeen
        firstFramePacked = Flow<Void>.pack(firstFrame)
        flags = (srcIP.isV6 ? Self.srcIsV6 : 0) | (dstIP.isV6 ? Self.dstIsV6 : 0) | (hasTunnel ? Self.tunnel : 0)
    }

    init<C>(_ flow: Flow<C>, hasTunnel: Bool) {
        self.init(srcIP: flow.src, srcPort: flow.srcPort, dstIP: flow.dst, dstPort: flow.dstPort, hasTunnel: hasTunnel,
                  firstSeen: flow.firstSeen, lastSeen: flow.lastSeen, firstFrame: flow.firstFrame)
    }

    init(_ r: FlowRow) {
        self.init(srcIP: r.srcIP, srcPort: r.srcPort, dstIP: r.dstIP, dstPort: r.dstPort, hasTunnel: r.tunnel != nil,
                  firstSeen: r.firstSeen, lastSeen: r.lastSeen, firstFrame: r.firstFrame)
    }

    var srcIP: IPAddress { IPAddress(hi: srcHi, lo: srcLo, isV6: flags & Self.srcIsV6 != 0) }
    var dstIP: IPAddress { IPAddress(hi: dstHi, lo: dstLo, isV6: flags & Self.dstIsV6 != 0) }
    /// The row's `tunnel` column is set (a tunnel opened, or a proxy handshake that failed).
    var hasTunnel: Bool { flags & Self.tunnel != 0 }
    var firstFrame: FrameRef { Flow<Void>.unpack(firstFramePacked) }
}

/// The kept rows' LegRows when the run keeps no flow rows (FlowFinalizer.legRows), 40 bytes a row
/// (issue 6's memory: one per BitTorrent flow, kept to the end of the run): an IPv4 address in 4
/// bytes, an IPv6 one as an index into `v6`, which holds the few IPv6 ends.
struct LegRows {
    struct Packed {   // internal for the size test
        let src: UInt32, dst: UInt32
        let firstSeen: Int64, lastSeen: Int64
        let firstFramePacked: UInt64
        let srcPort: UInt16, dstPort: UInt16
        let flags: UInt8
    }
    private static let srcIsV6: UInt8 = 1, dstIsV6: UInt8 = 2, tunnel: UInt8 = 4

    private var packed = ChunkedArray<Packed>()
    private var v6 = ChunkedArray<IPAddress>()

    init() {}

    var count: Int { packed.count }

    mutating func append(_ r: LegRow) {
        let src = r.srcIP, dst = r.dstIP
        packed.append(Packed(src: store(src), dst: store(dst), firstSeen: r.firstSeen.nanoseconds, lastSeen: r.lastSeen.nanoseconds,
                             firstFramePacked: Flow<Void>.pack(r.firstFrame), srcPort: r.srcPort, dstPort: r.dstPort,
                             flags: (src.isV6 ? Self.srcIsV6 : 0) | (dst.isV6 ? Self.dstIsV6 : 0) | (r.hasTunnel ? Self.tunnel : 0)))
    }

    subscript(i: Int) -> LegRow {
        let p = packed[i]
        return LegRow(srcIP: address(p.src, isV6: p.flags & Self.srcIsV6 != 0), srcPort: p.srcPort,
                      dstIP: address(p.dst, isV6: p.flags & Self.dstIsV6 != 0), dstPort: p.dstPort, hasTunnel: p.flags & Self.tunnel != 0,
                      firstSeen: Timestamp(nanoseconds: p.firstSeen), lastSeen: Timestamp(nanoseconds: p.lastSeen),
                      firstFrame: Flow<Void>.unpack(p.firstFramePacked))
    }

    static func += (a: inout LegRows, b: LegRows) {
        for i in 0..<b.count { a.append(b[i]) }
    }

    private mutating func store(_ a: IPAddress) -> UInt32 {
        guard a.isV6 else { return UInt32(truncatingIfNeeded: a.lo) }
        precondition(v6.count < Int(UInt32.max), "LegRows: more than 2^32 IPv6 ends")
        v6.append(a)
        return UInt32(v6.count - 1)
    }

    private func address(_ v: UInt32, isV6: Bool) -> IPAddress { isV6 ? v6[Int(v)] : IPAddress(v4: v) }
}

/// Side records of the run, kept by AggregatorBox (not in the per-flow state).
struct ProxyAttribution {
    /// Tunnels of live flows, by flow id.
    var open: [Int: OpenTunnel] = [:]
    /// Every kept row's LegFacts, by row.
    var legs = ChunkedArray<LegFacts>()
    /// Ended client legs, by row index: TCP tunnels, and UDP flows relayed by a SOCKS5 relay.
    var tunnels: [Int: OpenTunnel] = [:]
    var relays: [Int: ProxyEndpoint] = [:]
    /// SOCKS5 UDP relays: the target of the datagram being classified (EventOrigin.targetID), each
    /// target's text made once (one entry per distinct target, as flows are); the address targets
    /// each client's relay flow exchanged datagrams with, while live (by client end and relay) and
    /// once ended (by row).
    var currentRelayTarget: Int32 = 0
    var relayTargetNames: [RelayedTarget: Int32] = [:]
    var liveRelayTargets: [RelayLegKey: Set<ProxyEndpoint>] = [:]
    var relayTargets: [Int: Set<ProxyEndpoint>] = [:]
    /// A relay flow's address targets kept for linking (a DHT client behind a relay queries many
    /// nodes): beyond this many, the relay's datagrams to further targets are not linked.
    static let maxTargetsPerRelayFlow = 4096

    mutating func absorb(_ other: ProxyAttribution, rowOffset: Int) {
        legs += other.legs   // appended one by one: no array of them all (flow ids are unique across shards)
        for (r, t) in other.tunnels { tunnels[r + rowOffset] = t }
        for (r, e) in other.relays { relays[r + rowOffset] = e }
        for (r, t) in other.relayTargets { relayTargets[r + rowOffset] = t }
    }
}

extension AggregatorBox {
    /// The event's origin with the proxy path of its flow, when the flow is a client leg.
    @inline(__always)
    func tag(_ origin: EventOrigin, state: AnalyzerFlowState, ends: @autoclosure () -> FlowEnds) -> EventOrigin {
        guard state.isProxyLeg else { return origin }
        var o = origin
        if state.tunnel != nil, let t = attribution.open[origin.flowID] {
            o.via = t.via; o.targetID = t.targetID
        } else if let relay = relayEndpoint(ends()) {
            o.via = relay
            o.targetID = attribution.currentRelayTarget != 0 ? attribution.currentRelayTarget : state.relayTarget.map { value.proxyTargetID($0) } ?? 0
        }
        return o
    }

    /// The SOCKS5 UDP relay end of a relayed UDP flow.
    func relayEndpoint(_ ends: FlowEnds) -> ProxyEndpoint? {
        if udpRelays[RelayEndpoint(address: ends.dst, port: ends.dstPort)] != nil { return ProxyEndpoint(address: ends.dst, port: ends.dstPort) }
        if udpRelays[RelayEndpoint(address: ends.src, port: ends.srcPort)] != nil { return ProxyEndpoint(address: ends.src, port: ends.srcPort) }
        return nil
    }

    /// Called by StreamFeed when the proxy's reply opened a tunnel on flow `flowID`.
    func tunnelOpened(_ info: TunnelInfo, flowID: Int, ends: FlowEnds, at time: Timestamp, handshake: (fromClient: Int, fromServer: Int)) {
        let target = Self.target(info)
        attribution.open[flowID] = OpenTunnel(info: info, via: ProxyEndpoint(address: ends.dst, port: ends.dstPort),
                                              target: target, targetID: value.proxyTargetID(target), openedAt: time,
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
        if let id = attribution.relayTargetNames[key] {
            attribution.currentRelayTarget = id
        } else {
            let id = value.proxyTargetID("\(h.target):\(h.port)")
            attribution.relayTargetNames[key] = id
            attribution.currentRelayTarget = id
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
    /// Every kept row, the placeholder rows of forgotten flows included (their state is shared: only
    /// the flow record is read then).
    func legEnded(_ flow: Flow<FlowContext>, state: AnalyzerFlowState, row: Int) {
        precondition(attribution.legs.count == row, "legEnded: rows are recorded in order")
        attribution.legs.append(LegFacts(flowID: flow.id, isTCP: state.isTCP, sawSYN: flow.sawSYN,
                                         bytesFromSrc: flow.bytesFromSrc, bytesFromDst: flow.bytesFromDst))
        if let t = attribution.open.removeValue(forKey: flow.id) { attribution.tunnels[row] = t }
        if state.relayTarget != nil, let relay = relayEndpoint(FlowEnds(flow)) {
            attribution.relays[row] = relay
            let client = relay.address == flow.dst && relay.port == flow.dstPort ? (flow.src, flow.srcPort) : (flow.dst, flow.dstPort)
            let leg = RelayLegKey(client: client.0, clientPort: client.1, relay: relay)
            attribution.relayTargets[row] = attribution.liveRelayTargets.removeValue(forKey: leg)
        }
    }
}
