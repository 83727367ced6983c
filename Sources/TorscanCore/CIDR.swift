// `--ip CIDR`: which addresses become subjects of the report (RFC 4632 / RFC 4291 prefixes).
import PacketDecode

public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addr = IPAddress(String(parts[0])) else { return nil }
        let maxLen = addr.isV6 ? 128 : 32
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...maxLen).contains(n) else { return nil }
            prefixLength = n
        } else {
            prefixLength = maxLen
        }
        network = CIDR.masked(addr, prefixLength)
    }

    public func contains(_ a: IPAddress) -> Bool {
        a.isV6 == network.isV6 && CIDR.masked(a, prefixLength) == network
    }

    public var description: String { "\(network)/\(prefixLength)" }

    static func masked(_ a: IPAddress, _ len: Int) -> IPAddress {
        if !a.isV6 {
            let mask: UInt32 = len == 0 ? 0 : ~UInt32(0) << UInt32(32 - len)
            return IPAddress(v4: UInt32(truncatingIfNeeded: a.lo) & mask)
        }
        let hiMask: UInt64 = len >= 64 ? ~0 : (len == 0 ? 0 : ~UInt64(0) << UInt64(64 - len))
        let loMask: UInt64 = len <= 64 ? 0 : (len >= 128 ? ~0 : ~UInt64(0) << UInt64(128 - len))
        return IPAddress(v6hi: a.hi & hiMask, v6lo: a.lo & loMask)
    }
}
