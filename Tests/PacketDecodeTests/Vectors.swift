// Real frames pasted as hex (file, frame number and tshark one-line summary above each), shared by the
// layer tests and the truncation sweep. All files are under ../shared/corpus/public.
import WireBytes

struct Vector: Sendable, CustomStringConvertible {
    var name: String
    var linkType: LinkType
    var hex: String
    var description: String { name }
}

enum Vectors {
    // formats/arkime_pppoe.pcap frame 1: 172.202.246.57 → 64.12.189.217 TCP 70 1063 → 443 [SYN] Seq=0 Win=65535 Len=0 MSS=1410 SACK_PERM
    static let pppoeTCP = Vector(name: "pppoe-tcp", linkType: .ethernet, hex: """
        00 90 1a a0 3d a4 00 11 f5 13 d7 a3 88 64 11 00 06 9d 00 32 00 21 45 00 00 30 01 37 40 00 80 06
        58 a7 ac ca f6 39 40 0c bd d9 04 27 01 bb e9 42 87 55 00 00 00 00 70 02 ff ff 6b ed 00 00 02 04
        05 82 01 01 04 02
        """)
    // formats/zeek_vlan-qinqinq.pcap frame 1: 141.142.228.5 → 192.150.187.43 TCP 90 59856 → 80 [SYN] Seq=0 Win=65535 Len=0 MSS=1460 WS=16 ...
    static let vlan3TCP = Vector(name: "vlan3-tcp", linkType: .ethernet, hex: """
        00 10 db 88 d2 ef c8 bc c8 96 d2 a0 81 00 00 1e 81 00 00 14 81 00 00 0a 08 00 45 00 00 40 df 8e
        40 00 40 06 6d d3 8d 8e e4 05 c0 96 bb 2b e9 d0 00 50 fe 21 32 3a 00 00 00 00 b0 02 ff ff 3b c0
        00 00 02 04 05 b4 01 03 03 04 01 01 08 0a 16 4a dd 20 00 00 00 00 04 02 00 00
        """)
    // formats/dot1ad.pcap frame 1: 47.245.159.156 → 92.104.109.0 ICMP 50 Echo (ping) request (802.1ad S-tag + 802.1Q C-tag)
    static let qinqICMP = Vector(name: "qinq-icmp", linkType: .ethernet, hex: """
        40 8f 9d 6e c7 d8 88 d9 8f 5f c5 48 88 a8 05 f5 81 00 00 1e 08 00 45 00 00 1c 00 01 00 00 40 01
        e1 e6 2f f5 9f 9c 5c 68 6d 00 08 00 f7 ff 00 00 00 00
        """)
    // negative/stun.pcap frame 15: 10.206.50.239 → 10.77.110.51 TCP 64 42000 → 41588 [RST, ACK] Seq=637 Ack=589 Win=0 Len=0
    // (802.1Q tag; 6 bytes of Ethernet padding after the 40-byte IP datagram)
    static let vlanPaddedRST = Vector(name: "vlan-padded-rst", linkType: .ethernet, hex: """
        00 00 00 00 00 00 00 08 00 00 00 23 81 00 06 4b 08 00 45 00 00 28 72 c8 40 00 7d 06 d4 ca 0a ce
        32 ef 0a 4d 6e 33 a4 10 a2 74 e7 c5 0e 9b cd 4e aa fb 50 14 00 00 44 63 00 00 00 00 00 00 00 00
        """)
    // formats/tcp-handshake-nano.pcap frame 1 (Linux SLL): 131.155.215.69 → 137.116.81.94 TCP 76 46656 → 80 [SYN] Seq=0 Win=27200 Len=0 ...
    static let sllTCP = Vector(name: "sll-tcp", linkType: .linuxSLL, hex: """
        00 04 02 00 00 00 00 00 00 00 00 00 00 00 08 00 45 00 00 3c 29 a9 40 00 40 06 db 5f 83 9b d7 45
        89 74 51 5e b6 40 00 50 2f 84 2a cb 00 00 00 00 a0 02 6a 40 50 c4 00 00 02 04 05 50 04 02 08 0a
        43 6a 03 62 00 00 00 00 01 03 03 07
        """)
    // formats/PcapPlusPlus_sll2.pcap frame 2 (Linux SLL2): 116.63.66.108 → 7.249.151.114 TCP 60 443 → 57292 [FIN, ACK] Seq=32 Ack=1 Win=63 Len=0
    static let sll2TCP = Vector(name: "sll2-tcp", linkType: .linuxSLL2, hex: """
        08 00 00 00 00 00 00 14 00 01 00 06 f0 3f 95 8f 82 63 00 00 45 00 00 28 87 2d 40 00 2c 06 71 8c
        74 3f 42 6c 07 f9 97 72 01 bb df cc aa ce b5 e9 a7 ab 9f bf 50 11 00 3f cf d2 00 00
        """)
    // formats/null_loopback.pcap frame 2 (NULL, AF_INET little-endian): 172.16.1.117 → 172.16.1.255 BJNP 48 Scanner Command: Discover (UDP 55369 → 8612)
    static let nullUDP = Vector(name: "null-udp", linkType: .null, hex: """
        02 00 00 00 45 00 00 2c c1 69 00 00 40 11 5d c3 ac 10 01 75 ac 10 01 ff d8 49 21 a4 00 18 17 ae
        42 4a 4e 42 02 01 00 00 00 00 00 00 00 00 00 00
        """)
    // formats/raw_ip.pcap frame 1 (LINKTYPE_RAW): 2001:618:400::5199:cc70 → 2001:618:1:8000::5 TCP 80 35995 → 80 [SYN] Seq=0 Win=5680 Len=0 ...
    static let rawIPv6TCP = Vector(name: "raw-ipv6-tcp", linkType: .raw, hex: """
        60 00 00 00 00 28 06 40 20 01 06 18 04 00 00 00 00 00 00 00 51 99 cc 70 20 01 06 18 00 01 80 00
        00 00 00 00 00 00 00 05 8c 9b 00 50 6a e7 07 36 00 00 00 00 a0 02 16 30 29 9c 00 00 02 04 05 8c
        04 02 08 0a 00 dd 1a 39 00 00 00 00 01 03 03 02
        """)
    // formats/linktype_ipv4.pcap frame 1 (LINKTYPE_IPV4): 10.0.0.1 → 10.0.0.138 DNS 60 Standard query 0x6305 A www.ynet.co.il (UDP 58121 → 53)
    static let ipv4UDP = Vector(name: "linktype-ipv4-udp", linkType: .ipv4, hex: """
        45 00 00 3c 21 cf 00 00 80 11 00 00 0a 00 00 01 0a 00 00 8a e3 09 00 35 00 28 14 c4 63 05 01 00
        00 01 00 00 00 00 00 00 03 77 77 77 04 79 6e 65 74 02 63 6f 02 69 6c 00 00 01 00 01
        """)
    // formats/LINKTYPE_RAW_ipv6.pcap frame 1: 2001:db8::1 → 2620:fe::9 DNS 77 Standard query 0x1234 A example.com (UDP 12345 → 53)
    static let rawIPv6UDP = Vector(name: "raw-ipv6-udp", linkType: .raw, hex: """
        60 00 00 00 00 25 11 40 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 26 20 00 fe 00 00 00 00
        00 00 00 00 00 00 00 09 30 39 00 35 00 25 98 b3 12 34 01 00 00 01 00 00 00 00 00 00 07 65 78 61
        6d 70 6c 65 03 63 6f 6d 00 00 01 00 01
        """)
    // formats/zeek_ipv6-hbh-routing0.pcap frame 1: 2001:4f8:4:7:2e0:81ff:fe52:ffff → 2001:78:1:32::2 DNS 113 [Malformed Packet]
    // (Hop-by-Hop, then a type 0 Routing header, then UDP 53 → 53 with 3 payload bytes "XXX")
    static let ipv6HopByHopRouting = Vector(name: "ipv6-hbh-routing", linkType: .ethernet, hex: """
        ff ff ff ff ff ff 00 00 00 00 00 00 86 dd 60 00 00 00 00 3b 00 40 20 01 04 f8 00 04 00 07 02 e0
        81 ff fe 52 ff ff 20 01 04 f8 00 04 00 07 02 e0 81 ff fe 52 9a 6b 2b 00 01 04 00 00 00 00 11 04
        00 02 00 00 00 00 20 01 00 78 00 01 00 32 00 00 00 00 00 00 00 01 20 01 00 78 00 01 00 32 00 00
        00 00 00 00 00 02 00 35 00 35 00 0b 86 31 58 58 58
        """)
    // formats/pl7m_ipv6_ext_hop-by-hop_and_destination-opt.pcap frame 1: fc00::1 → fc00::3 ICMPv6 114 Echo (ping) request id=0x0bad, seq=0
    static let ipv6HopByHopDestOpts = Vector(name: "ipv6-hbh-dstopts-icmpv6", linkType: .ethernet, hex: """
        aa bb cc 00 02 00 aa bb cc 00 01 00 86 dd 60 00 00 00 00 3c 00 40 fc 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 01 fc 00 00 00 00 00 00 00 00 00 00 00 00 00 00 03 3c 00 01 04 00 00 00 00 3a 00
        01 04 00 00 00 00 80 00 48 a1 0b ad 00 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11
        12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23
        """)
    // formats/pl7m_ipv6_ext_routing-header.pcap frame 1: fc00::1 → fc00::8 UDP 118 50540 → 33434 Len=0 (Routing header, segment routing)
    static let ipv6Routing = Vector(name: "ipv6-routing-udp", linkType: .ethernet, hex: """
        aa bb cc 00 06 30 aa bb cc 00 01 30 86 dd 60 00 00 00 00 40 2b 01 fc 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 01 fc 00 00 00 00 00 00 00 00 00 00 00 00 00 00 06 11 06 00 03 00 00 00 00 fc 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 07 fc 00 00 00 00 00 00 00 00 00 00 00 00 00 00 09 fc 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 08 c5 6c 82 9a 00 08 bf cc
        """)
    // formats/ndpi_fuzz-2006-06-26-2594.pcap frame 86: 192.168.1.2 → 147.234.1.253 TCP 54 58657 → 47645 [Malformed Packet]
    // (IHL 7: 8 bytes of IPv4 options; total length 40 leaves only 12 bytes for a 20-byte TCP header)
    static let ipv4OptionsShortTCP = Vector(name: "ipv4-options-short-tcp", linkType: .ethernet, hex: """
        00 30 54 00 34 56 00 e0 ed 01 6e bd 08 00 47 00 00 28 69 bc 40 00 80 06 39 82 c0 a8 01 02 93 ea
        01 fd 0a a1 e6 77 1b ea 98 8b e5 21 ba 1d 50 10 42 24 d1 50 00 00
        """)

    /// Frames that decode completely (no stop) and are the positives of the truncation sweep.
    static let positives: [Vector] = [pppoeTCP, vlan3TCP, qinqICMP, vlanPaddedRST, sllTCP, sll2TCP, nullUDP, rawIPv6TCP,
                                      ipv4UDP, rawIPv6UDP, ipv6HopByHopRouting, ipv6HopByHopDestOpts, ipv6Routing]
}
