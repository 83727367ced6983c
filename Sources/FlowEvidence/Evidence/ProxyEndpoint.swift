// The proxy a tunnelled connection went through, as the client leg shows it: the address and port the
// client connected to (SOCKS4/4a/5, HTTP CONNECT), or the SOCKS5 UDP relay (RFC 1928 section 7) its
// datagrams went to. Part of an evidence row's key (EvidenceRow.via).
import PacketDecode

public struct ProxyEndpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public init(address: IPAddress, port: UInt16) { self.address = address; self.port = port }

    public static func < (a: ProxyEndpoint, b: ProxyEndpoint) -> Bool { (a.address, a.port) < (b.address, b.port) }

    /// `address:port`, written like the flow report's `tunnel_target` (IPv6 unbracketed: the port
    /// follows the last colon).
    public var description: String { "\(address):\(port)" }
}
