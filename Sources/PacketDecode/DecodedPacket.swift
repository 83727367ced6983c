// The decoder's output: plain values plus a borrowed view of the L4 payload (DESIGN.md rule 1).
import WireBytes

/// TCP control bits (RFC 9293 section 3.1, with RFC 3168's ECE and CWR).
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    // Inlinable constants, not stored globals (read through an accessor call from other modules).
    @inlinable public static var fin: TCPFlags { TCPFlags(rawValue: 0x01) }
    @inlinable public static var syn: TCPFlags { TCPFlags(rawValue: 0x02) }
    @inlinable public static var rst: TCPFlags { TCPFlags(rawValue: 0x04) }
    @inlinable public static var psh: TCPFlags { TCPFlags(rawValue: 0x08) }
    @inlinable public static var ack: TCPFlags { TCPFlags(rawValue: 0x10) }
    @inlinable public static var urg: TCPFlags { TCPFlags(rawValue: 0x20) }
    @inlinable public static var ece: TCPFlags { TCPFlags(rawValue: 0x40) }
    @inlinable public static var cwr: TCPFlags { TCPFlags(rawValue: 0x80) }

    @inlinable public var fin: Bool { contains(.fin) }
    @inlinable public var syn: Bool { contains(.syn) }
    @inlinable public var rst: Bool { contains(.rst) }
    @inlinable public var psh: Bool { contains(.psh) }
    @inlinable public var ack: Bool { contains(.ack) }
}

/// TCP header fields (RFC 9293 section 3.1). Options are skipped, not parsed.
public struct TCPInfo: Hashable, Sendable {
    public var seq: UInt32
    /// The acknowledgment number (the ACK flag is `flags.ack`).
    public var ack: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    /// Data offset in bytes (20...60).
    public var headerLength: Int

    public init(seq: UInt32, ack: UInt32, flags: TCPFlags, window: UInt16, headerLength: Int) {
        self.seq = seq; self.ack = ack; self.flags = flags; self.window = window; self.headerLength = headerLength
    }
}

public struct DecodedPacket {
    /// Nil when decoding reached the payload with every announced byte present.
    public var stop: DecodeStop?
    public var isIPv6: Bool
    /// Meaningful when `hasIP`.
    public var src: IPAddress
    public var dst: IPAddress
    public var hasIP: Bool
    /// Upper-layer protocol: 6 TCP, 17 UDP, ... (IPv6: the first header after the extension chain).
    public var ipProtocol: UInt8
    /// 0 when not TCP/UDP. Set as soon as the first 4 transport bytes are present, even if the rest is cut.
    public var srcPort: UInt16
    public var dstPort: UInt16
    public var tcp: TCPInfo?
    /// L4 payload bytes present (may be shorter than `payloadLength` when cut). For protocols other than
    /// TCP and UDP, the IP payload. Points into the frame, or into the decoder's reassembly buffer when
    /// `reassembled` (valid until the next decode call).
    public var payload: UnsafeRawBufferPointer
    /// Payload length per the IP/UDP length fields.
    public var payloadLength: Int
    /// A fragment was stored; nothing to deliver yet.
    public var fragmentPending: Bool
    /// The packet was rebuilt from fragments; `payload` points into the decoder's reassembly buffer.
    public var reassembled: Bool
    /// Offset of the IP header in the frame (-1 when no IP header was found).
    public var ipOffset: Int

    @inlinable public init() {
        stop = nil; isIPv6 = false
        src = IPAddress(v4: 0); dst = IPAddress(v4: 0); hasIP = false
        ipProtocol = 0; srcPort = 0; dstPort = 0; tcp = nil
        payload = UnsafeRawBufferPointer(start: nil, count: 0); payloadLength = 0
        fragmentPending = false; reassembled = false; ipOffset = -1
    }

    @inlinable public var isTCP: Bool { hasIP && ipProtocol == 6 }
    @inlinable public var isUDP: Bool { hasIP && ipProtocol == 17 }
}
