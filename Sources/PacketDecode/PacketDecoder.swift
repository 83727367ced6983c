// The packet decoder: link layer -> IPv4/IPv6 (+ fragment reassembly) -> TCP/UDP, lax like
// etherparse's LaxSlicedPacket: each layer is decoded as far as its bytes allow, and `stop` says
// where and why decoding ended. Nothing here allocates on the non-fragment path.
import WireBytes

public struct PacketDecoder {
    public let limits: DecoderLimits
    /// Anomalies seen so far, by name.
    public internal(set) var anomalies = DecodeAnomalies()
    /// Shared by copies of this decoder: copy a decoder only before use.
    private let reassembler: FragmentReassembler

    public init(limits: DecoderLimits = .default) {
        self.limits = limits
        self.reassembler = FragmentReassembler(limits: limits)
    }

    /// Datagrams waiting for more fragments.
    public var pendingDatagrams: Int { reassembler.pending.count }

    /// `frame` is borrowed; the returned payload points into it, or into the decoder's reassembly buffer
    /// (valid until the next decode call).
    public mutating func decode(_ frame: UnsafeRawBufferPointer, linkType: LinkType, timestamp: Timestamp) -> DecodedPacket {
        // Most frames of most captures: Ethernet, IPv4, TCP or UDP, nothing odd (EthernetIPv4FastPath).
        var p = DecodedPacket()
        if linkType == .ethernet, Self.decodeEthernetIPv4(frame, into: &p) { return p }
        return decodeLayered(frame, linkType: linkType, timestamp: timestamp)
    }

    /// Every frame, layer by layer (`decode` without its fast path; the tests compare the two).
    mutating func decodeLayered(_ frame: UnsafeRawBufferPointer, linkType: LinkType, timestamp: Timestamp) -> DecodedPacket {
        var p = DecodedPacket()
        let link: LinkParse
        switch linkType {
        case .ethernet: link = Ethernet.parse(frame, limits: limits)
        case .linuxSLL: link = LinuxSLL.parse(frame, limits: limits)
        case .linuxSLL2: link = LinuxSLL2.parse(frame, limits: limits)
        case .raw, .rawDLT12, .rawDLT14, .ipv4, .ipv6: link = RawIP.parse(linkType)
        case .null: link = NullLoopback.parse(frame, networkOrderOnly: false)
        case .loop: link = NullLoopback.parse(frame, networkOrderOnly: true)
        default: link = .stop(.link, .unknownLinkType, at: 0)
        }
        switch link {
        case let .stop(layer, reason, at):
            stop(&p, layer, reason, at)
        case let .network(kind, at):
            let ip = frame.slice(at, frame.count - at)
            var version = kind == .ipv4 ? 4 : 6
            if kind == .versionNibble, let first = ip.u8(at: 0) { version = Int(first >> 4) }
            p.ipOffset = at
            if version == 6 {
                decodeIPv6(ip, at: at, timestamp: timestamp, into: &p)
            } else if version == 4 || ip.isEmpty {
                decodeIPv4(ip, at: at, timestamp: timestamp, into: &p)
            } else {
                stop(&p, .ipv4, .badIPVersion, at)
            }
        }
        return p
    }

    // MARK: IPv4

    private mutating func decodeIPv4(_ ip: UnsafeRawBufferPointer, at base: Int, timestamp: Timestamp, into p: inout DecodedPacket) {
        let (header, failure, addressesPresent) = IPv4Header.validate(ip)
        if addressesPresent {
            (p.src, p.dst, p.ipProtocol) = IPv4Header.addresses(ip)
            p.hasIP = true
        }
        guard let h = header else { return stop(&p, .ipv4, failure ?? .truncatedIPv4Header, base) }
        // Total length: trims Ethernet padding; less than captured means the frame was cut. Zero is what
        // captures of TCP segmentation offload show: take the captured length (counted).
        var total = h.totalLength
        if total == 0 {
            anomalies.record(.badIPv4TotalLength)
            total = ip.count
        }
        guard total >= h.headerLength else { return stop(&p, .ipv4, .badIPv4TotalLength, base) }
        let announced = total - h.headerLength
        let data = ip.slice(h.headerLength, announced)
        let l4 = base + h.headerLength
        guard h.isFragment else { return transport(data, announced: announced, at: l4, into: &p) }

        let key = FragmentReassembler.Key(src: p.src, dst: p.dst, identification: UInt32(h.identification), proto: p.ipProtocol, isV6: false)
        fragment(data, announced: announced, key: key, offset: h.fragmentOffset, more: h.moreFragments,
                 nextHeader: p.ipProtocol, at: l4, timestamp: timestamp, into: &p)
    }

    // MARK: IPv6

    private mutating func decodeIPv6(_ ip: UnsafeRawBufferPointer, at base: Int, timestamp: Timestamp, into p: inout DecodedPacket) {
        guard let first = ip.u8(at: 0), first >> 4 == 6 else {
            return stop(&p, .ipv6, ip.isEmpty ? .truncatedIPv6Header : .badIPVersion, base)
        }
        guard ip.count >= IPv6Header.length else { return stop(&p, .ipv6, .truncatedIPv6Header, base) }
        (p.src, p.dst) = IPv6Header.addresses(ip)
        p.hasIP = true
        p.isIPv6 = true
        let nextHeader = ip.u8(at: 6)!
        var end = IPv6Header.length + Int(ip.u16be(at: 4)!)
        if end == IPv6Header.length && nextHeader == IPv6Header.hopByHop {
            anomalies.record(.ipv6Jumbogram)
            end = ip.count
        }
        let chain = IPv6Extensions.walk(ip.slice(0, end), nextHeader: nextHeader, at: IPv6Header.length,
                                        limit: limits.maxIPv6ExtensionHeaders)
        p.ipProtocol = chain.proto
        if let reason = chain.stop { return stop(&p, .ipv6Extension, reason, base + chain.offset) }
        let announced = end - chain.offset
        let data = ip.slice(chain.offset, announced)
        let l4 = base + chain.offset
        guard let f = chain.fragment else { return upperLayer(data, announced: announced, at: l4, into: &p) }

        let key = FragmentReassembler.Key(src: p.src, dst: p.dst, identification: f.identification, proto: 0, isV6: true)
        fragment(data, announced: announced, key: key, offset: f.offset, more: f.more, nextHeader: f.nextHeader,
                 at: l4, timestamp: timestamp, into: &p)
    }

    /// IPv6 upper layer: "no next header" ends the packet on purpose; anything else goes to transport.
    private mutating func upperLayer(_ data: UnsafeRawBufferPointer, announced: Int, at offset: Int, into p: inout DecodedPacket) {
        guard p.ipProtocol != IPv6Extensions.noNextHeader else { return stop(&p, .ipv6, .noNextHeader, offset) }
        transport(data, announced: announced, at: offset, into: &p)
    }

    // MARK: Fragments

    private mutating func fragment(_ data: UnsafeRawBufferPointer, announced: Int, key: FragmentReassembler.Key, offset: Int,
                                   more: Bool, nextHeader: UInt8, at l4: Int, timestamp: Timestamp, into p: inout DecodedPacket) {
        guard data.count == announced else {
            // A fragment cut by the snap length cannot be stored; the first one still names its ports.
            anomalies.record(.fragmentCutBySnaplen)
            if offset == 0 { transport(data, announced: announced, at: l4, into: &p, countAnomalies: false) }
            p.stop = DecodeStop(layer: .fragment, reason: .fragmentCutBySnaplen, offset: l4)
            return
        }
        switch reassembler.add(key, offset: offset, more: more, bytes: data, nextHeader: offset == 0 ? nextHeader : nil,
                               now: timestamp.nanoseconds, anomalies: &anomalies) {
        case .pending:
            p.fragmentPending = true
        case .dropped:
            p.stop = DecodeStop(layer: .fragment, reason: .fragmentDropped, offset: l4)
        case let .complete(whole, nh):
            p.reassembled = true
            p.ipProtocol = nh
            guard key.isV6 else { return transport(whole, announced: whole.count, at: 0, into: &p) }
            // The fragmentable part may begin with more extension headers; a second Fragment header is invalid.
            let chain = IPv6Extensions.walk(whole, nextHeader: nh, at: 0, limit: limits.maxIPv6ExtensionHeaders, allowFragment: false)
            p.ipProtocol = chain.proto
            if let reason = chain.stop { return stop(&p, .ipv6Extension, reason, chain.offset) }
            upperLayer(whole.slice(chain.offset, whole.count - chain.offset), announced: whole.count - chain.offset, at: chain.offset, into: &p)
        }
    }

    // MARK: Transport

    private mutating func transport(_ data: UnsafeRawBufferPointer, announced: Int, at offset: Int, into p: inout DecodedPacket,
                                    countAnomalies: Bool = true) {
        let reason: DecodeStop.Reason?
        let layer: DecodeLayer
        switch p.ipProtocol {
        case 6:
            layer = .tcp
            reason = TCP.decode(data, announced: announced, at: offset, into: &p)
        case 17:
            layer = .udp
            reason = UDP.decode(data, announced: announced, at: offset, into: &p, anomalies: &anomalies)
        default:
            layer = .payload
            p.payloadLength = announced
            p.payload = data
            reason = data.count < announced ? .payloadCutBySnaplen : nil
        }
        guard let reason else { return }
        if reason == .payloadCutBySnaplen {
            p.stop = DecodeStop(layer: .payload, reason: reason, offset: offset + (p.tcp?.headerLength ?? (layer == .udp ? UDP.headerLength : 0)))
        } else {
            p.stop = DecodeStop(layer: layer, reason: reason, offset: offset)
            if countAnomalies, let a = reason.anomaly { anomalies.record(a) }
        }
    }

    private mutating func stop(_ p: inout DecodedPacket, _ layer: DecodeLayer, _ reason: DecodeStop.Reason, _ offset: Int) {
        p.stop = DecodeStop(layer: layer, reason: reason, offset: offset)
        if let a = reason.anomaly { anomalies.record(a) }
    }
}

extension DecodeStop.Reason {
    /// The anomaly counted when decoding stops for this reason (nil: an ordinary end, such as ARP or a snaplen cut).
    var anomaly: DecodeAnomaly? {
        switch self {
        case .unknownLinkType: .unknownLinkType
        case .truncatedLinkHeader: .truncatedLinkHeader
        case .vlanDepthExceeded: .vlanDepthExceeded
        case .badPPPoEHeader: .badPPPoEHeader
        case .badIPVersion: .badIPVersion
        case .truncatedIPv4Header: .truncatedIPv4Header
        case .badIPv4HeaderLength: .badIPv4HeaderLength
        case .badIPv4TotalLength: .badIPv4TotalLength
        case .truncatedIPv6Header: .truncatedIPv6Header
        case .truncatedIPv6ExtensionHeader: .truncatedIPv6ExtensionHeader
        case .ipv6NestedFragment: .ipv6NestedFragment
        case .ipv6ExtensionLimit: .ipv6ExtensionLimit
        case .fragmentCutBySnaplen: .fragmentCutBySnaplen
        case .truncatedTCPHeader, .truncatedTCPOptions: .truncatedTCPHeader
        case .badTCPDataOffset: .badTCPDataOffset
        case .truncatedUDPHeader: .truncatedUDPHeader
        case .badUDPLength: .badUDPLength
        case .nonIPPayload, .noNextHeader, .fragmentDropped, .payloadCutBySnaplen: nil
        }
    }
}
