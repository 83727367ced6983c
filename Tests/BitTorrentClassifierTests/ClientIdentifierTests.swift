import Testing
import BitTorrentClassifier

func peerID(_ prefix: String, fill: UInt8 = 0x8e) -> PeerID {
    var b = Array(prefix.utf8)
    while b.count < 20 { b.append(fill) }
    return b.withUnsafeBytes { PeerID(bytes: $0)! }
}

@Suite struct ClientIdentifierTests {
    @Test(arguments: [
        ("-TR3000-", "Transmission 3.00"), ("-TR2940-", "Transmission 2.94"), ("-TR4060-", "Transmission 4.0.6"),
        ("-qB4520-", "qBittorrent 4.5.2"), ("-UT3550-", "µTorrent 3.5.5"), ("-UT345S-", "µTorrent 3.4.5"),
        ("-UM1860-", "µTorrent Mac 1.8.6"), ("-lt0D80-", "libTorrent (rakshasa) 0.13.8"), ("-LT1220-", "libtorrent 1.2.2"),
        ("-LT1100-", "libtorrent 1.1.0"), ("-DE1190-", "Deluge 1.1.9"), ("-AZ5770-", "Vuze 5.7.7"),
        ("-AZ2060-", "Vuze 2.0.6"), ("-BT7a5S-", "BitTorrent 7.10.5"), ("-BC0200-", "BitComet 0.2.0"),
        ("-KT4130-", "KTorrent 4.1.3"), ("-BI3631-", "BiglyBT 3.6.3"), ("-PI3300-", "PicoTorrent 3.3.0"),
        ("-WW0102-", "WebTorrent 0.1.0.2"), ("-SD0100-", "Thunder 0.1.0"), ("-XL0012-", "Xunlei 0.0.1.2"),
        ("-FD6330-", "Free Download Manager 6.3.3"), ("-TL0100-", "Tribler 0.1.0"), ("-MO1000-", "MonoTorrent 1.0.0"),
        ("-SZ2300-", "Shareaza 2.3.0"), ("-HL0300-", "Halite 0.3.0"), ("-FW4000-", "FrostWire 4.0.0"),
        ("-7T0001-", "aTorrent 0.0.0.1"),
        ("S58B-----", "Shadow 5.8.11"), ("T03I--", "BitTornado 0.3.18"), ("A310--", "ABC 3.1.0"),
        ("O0120---", "Osprey Permaseed 0.1.2.0"), ("Q1000---", "BTQueue 1.0.0.0"), ("R34-----", "Tribler 3.4"),
        ("U01-----", "UPnP NAT Bit Torrent 0.1"),
        ("M4-3-6--", "Mainline 4.3.6"), ("M4-20-8-", "Mainline 4.20.8"), ("M7-10-5--", "Mainline 7.10.5"),
        ("exbc\u{00}\u{32}", "BitComet 0.50"), ("FUTB\u{00}\u{3b}", "BitComet (mod) 0.59"), ("-BOWA0C-", "BitsOnWheels A0C"),
    ])
    func identifies(_ prefix: String, _ expected: String) {
        #expect(ClientIdentifier.identify(peerID(prefix))?.description == expected)
    }

    @Test func tableCoversAtLeastFortyClients() {
        #expect(ClientIdentifier.azureusCodes.count + ClientIdentifier.shadowCodes.count >= 40)
        #expect(ClientIdentifier.azureusCodes["LT"] != ClientIdentifier.azureusCodes["lt"])
    }

    @Test(arguments: ["-ZZ1234-", "-TR3000", "XYZ", "S", "T0------", "M4-3", "Mx-3-6--", "\u{00}\u{00}\u{00}\u{00}", "-UT3550X"])
    func unknownOrRandomIDsAreNil(_ prefix: String) {
        #expect(ClientIdentifier.identify(peerID(prefix)) == nil)
    }
}
