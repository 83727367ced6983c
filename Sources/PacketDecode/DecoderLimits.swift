// Named limits of the packet decoder (DESIGN.md rule 5), each with the reason for its value.
import WireBytes

public struct DecoderLimits: Sendable, Hashable {
    /// VLAN tags read before giving up. IEEE 802.1ad stacks two tags (S-tag, C-tag); real captures show
    /// three (zeek_vlan-qinqinq.pcap); beyond 8 a frame is garbage, and the bound keeps decoding O(1).
    public var maxVLANTags: Int
    /// MPLS label stack entries read (RFC 3032). Real stacks hold 1-3 labels (transport, service, entropy);
    /// the same bound as VLAN tags. Exceeding it stops with `vlanDepthExceeded` ("too many link-layer tags").
    public var maxMPLSLabels: Int
    /// IPv6 extension headers walked. RFC 8200 section 4.1: each header occurs at most once, except
    /// Destination Options (twice): 7 in the recommended order, plus AH; 10 leaves room for rarer ones.
    public var maxIPv6ExtensionHeaders: Int
    /// Datagrams under reassembly at once. Memory is at most this times `maxDatagramSize`.
    public var maxConcurrentDatagrams: Int
    /// RFC 791: total length is 16 bits, so a reassembled IPv4 datagram is at most 65535 bytes;
    /// RFC 8200 section 4.5 bounds the IPv6 fragmentable part by the 16-bit offset+length the same way.
    public var maxDatagramSize: Int
    /// Fragments kept per datagram (65535 / 8-byte minimum fragment would be 8192; real senders use a few).
    public var maxFragmentsPerDatagram: Int
    /// Reassembly timeout in capture time. RFC 8200 section 4.5: 60 s for IPv6; RFC 791 suggests 15 s
    /// for IPv4 and Linux uses 30 s (ipfrag_time); 60 s covers both without keeping garbage forever.
    public var fragmentTimeout: Int64

    public init(maxVLANTags: Int = 8, maxMPLSLabels: Int = 8, maxIPv6ExtensionHeaders: Int = 10, maxConcurrentDatagrams: Int = 64,
                maxDatagramSize: Int = 65_535, maxFragmentsPerDatagram: Int = 256,
                fragmentTimeoutNanoseconds: Int64 = 60 * 1_000_000_000) {
        self.maxVLANTags = maxVLANTags
        self.maxMPLSLabels = maxMPLSLabels
        self.maxIPv6ExtensionHeaders = maxIPv6ExtensionHeaders
        self.maxConcurrentDatagrams = maxConcurrentDatagrams
        self.maxDatagramSize = maxDatagramSize
        self.maxFragmentsPerDatagram = maxFragmentsPerDatagram
        self.fragmentTimeout = fragmentTimeoutNanoseconds
    }

    public static let `default` = DecoderLimits()
}
