// Peer id to client name and version: BEP 20 (https://www.bittorrent.org/beps/bep_0020.html),
// "Peer ID Conventions", and the conventions it records.
//
// BEP 20: "Azureus-style uses the following encoding: '-', two characters for client id, four
// ascii digits for version number, '-', followed by random numbers. For example: '-AZ2060-'...".
// "Shadow's style uses the following encoding: one ascii alphanumeric for client identification,
// up to five characters for version number (padded with '-'), followed by three characters
// (commonly '---', but not always the case), followed by random characters. Each character in the
// version string represents a number from 0 to 63. '0'=0, ..., '9'=9, 'A'=10, ..., 'Z'=35,
// 'a'=36, ..., 'z'=61, '.'=62, '-'=63." Mainline: "'M4-3-6--' or 'M4-20-8-'".
// Plus a few clients with their own prefix (BitComet `exbc`/`FUTB`, BitsOnWheels `-BOW`).

public struct ClientInfo: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var version: String?
    public init(name: String, version: String?) { self.name = name; self.version = version }
    public var description: String { version.map { "\(name) \($0)" } ?? name }
}

public enum ClientIdentifier {
    /// Azureus-style two-character codes (BEP 20 and the lists it cites; case matters: `LT` is
    /// libtorrent (Rasterbar), `lt` is libTorrent (rakshasa)).
    public static let azureusCodes: [String: String] = [
        "7T": "aTorrent", "AG": "Ares", "A~": "Ares", "AR": "Arctic", "AT": "Artemis", "AV": "Avicora",
        "AX": "BitPump", "AZ": "Vuze", "BB": "BitBuddy", "BC": "BitComet", "BE": "BitTorrent SDK",
        "BF": "Bitflu", "BG": "BTG", "BI": "BiglyBT", "BL": "BitBlinder", "BP": "BitTorrent Pro",
        "BR": "BitRocket", "BS": "BTSlave", "BT": "BitTorrent", "BW": "BitWombat", "BX": "BittorrentX",
        "CD": "Enhanced CTorrent", "CT": "CTorrent", "DE": "Deluge", "DP": "Propagate Data Client",
        "EB": "EBit", "ES": "electric sheep", "FC": "FileCroc", "FD": "Free Download Manager",
        "FG": "FlashGet", "FT": "FoxTorrent", "FW": "FrostWire", "FX": "Freebox BitTorrent",
        "GS": "GSTorrent", "HK": "Hekate", "HL": "Halite", "HM": "hMule", "HN": "Hydranode",
        "IL": "iLivid", "JS": "Justseed.it", "JT": "JavaTorrent", "KG": "KGet", "KT": "KTorrent",
        "LC": "LeechCraft", "LH": "LH-ABC", "LP": "Lphant", "LT": "libtorrent", "lt": "libTorrent (rakshasa)",
        "LW": "LimeWire", "MK": "Meerkat", "MO": "MonoTorrent", "MP": "MooPolice", "MR": "Miro",
        "MT": "MoonlightTorrent", "NB": "Net::BitTorrent", "NX": "Net Transport", "OS": "OneSwarm",
        "OT": "OmegaTorrent", "PB": "Protocol::BitTorrent", "PD": "Pando", "PI": "PicoTorrent",
        "PT": "PHPTracker", "qB": "qBittorrent", "QD": "QQDownload", "QT": "Qt 4 Torrent example",
        "RT": "Retriever", "RZ": "RezTorrent", "S~": "Shareaza alpha/beta", "SB": "Swiftbit",
        "SD": "Thunder", "SM": "SoMud", "SP": "BitSpirit", "SS": "SwarmScope", "ST": "SymTorrent",
        "st": "sharktorrent", "SZ": "Shareaza", "TB": "Torch", "TE": "terasaur Seed Bank",
        "TL": "Tribler", "TN": "TorrentDotNET", "TR": "Transmission", "TS": "Torrentstorm",
        "TT": "TuoTu", "UL": "uLeecher!", "UM": "µTorrent Mac", "UT": "µTorrent", "UW": "µTorrent Web",
        "VG": "Vagaa", "WD": "WebTorrent Desktop", "WT": "BitLet", "WW": "WebTorrent", "WY": "FireTorrent",
        "XF": "Xfplay", "XL": "Xunlei", "XS": "XSwifter", "XT": "XanTorrent", "XX": "Xtorrent",
        "ZT": "ZipTorrent",
    ]

    /// Shadow-style one-character codes (BEP 20).
    public static let shadowCodes: [UInt8: String] = [
        UInt8(ascii: "A"): "ABC", UInt8(ascii: "O"): "Osprey Permaseed", UInt8(ascii: "Q"): "BTQueue",
        UInt8(ascii: "R"): "Tribler", UInt8(ascii: "S"): "Shadow", UInt8(ascii: "T"): "BitTornado",
        UInt8(ascii: "U"): "UPnP NAT Bit Torrent",
    ]

    public static func identify(_ peerID: PeerID) -> ClientInfo? {
        let b = peerID.bytes
        return identifySpecial(b) ?? identifyAzureus(b) ?? identifyMainline(b) ?? identifyShadow(b)
    }

    // MARK: - Styles

    static func identifySpecial(_ b: [UInt8]) -> ClientInfo? {
        if hasPrefix(b, "exbc") || hasPrefix(b, "FUTB") || hasPrefix(b, "xUTB") {
            // BitComet before 0.59: bytes 4 and 5 are the major and minor version as numbers.
            let name = hasPrefix(b, "exbc") ? "BitComet" : "BitComet (mod)"
            return ClientInfo(name: name, version: "\(b[4]).\(twoDigits(b[5]))")
        }
        if hasPrefix(b, "-BOW") {
            return ClientInfo(name: "BitsOnWheels", version: ascii(b[4...6]))
        }
        return nil
    }

    /// `-XXvvvv-`.
    static func identifyAzureus(_ b: [UInt8]) -> ClientInfo? {
        guard b[0] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        let code = String(decoding: b[1...2], as: UTF8.self)
        guard let name = azureusCodes[code] else { return nil }
        let v = Array(b[3...6])
        guard v.allSatisfy(isAlphanumeric) else { return ClientInfo(name: name, version: nil) }
        // Version characters are digits or letters, case-insensitive: "-BT7a5S-" is 7.10.5, "-lt0D80-" 0.13.8.
        let d = v.map { c in Int(c <= 57 ? c - 48 : (c | 0x20) - 87) }
        let version: String
        switch code {
        case "TR":
            // Transmission: "-TR2940-" is 2.94; from 4.0 "-TR4000-" is 4.0.0. 'Z'/'X' mark betas.
            if d[0] >= 4 { version = "\(d[0]).\(d[1]).\(d[2])" }
            else { version = "\(d[0]).\(d[1])\(d[2])" }
        case "UT", "UM", "UW", "qB", "DE", "LT", "lt", "BT", "BI", "PI":
            // Three components; the fourth character is a build/beta marker.
            version = "\(d[0]).\(d[1]).\(d[2])"
        default:
            version = d[3] == 0 ? "\(d[0]).\(d[1]).\(d[2])" : "\(d[0]).\(d[1]).\(d[2]).\(d[3])"
        }
        return ClientInfo(name: name, version: version)
    }

    /// `M4-3-6--` / `M4-20-8-` (BEP 20 "Mainline").
    static func identifyMainline(_ b: [UInt8]) -> ClientInfo? {
        guard b[0] == UInt8(ascii: "M") else { return nil }
        var parts: [String] = []
        var cur = ""
        var i = 1
        while i < 8 {
            let c = b[i]
            if c >= 48 && c <= 57 { cur.append(Character(Unicode.Scalar(c))) }
            else if c == UInt8(ascii: "-") {
                if cur.isEmpty { break }
                parts.append(cur); cur = ""
            } else { return nil }
            i += 1
        }
        guard parts.count == 3, i < 8 || b[7] == UInt8(ascii: "-") else { return nil }
        return ClientInfo(name: "Mainline", version: parts.joined(separator: "."))
    }

    /// One code character, up to five version characters, then at least two '-'.
    static func identifyShadow(_ b: [UInt8]) -> ClientInfo? {
        guard let name = shadowCodes[b[0]] else { return nil }
        var digits: [Int] = []
        var i = 1
        while i <= 5, b[i] != UInt8(ascii: "-"), let v = shadowValue(b[i]), v < 62 { digits.append(v); i += 1 }
        // Five version characters padded with '-'; a full-length version must be followed by "---".
        let padding = i <= 5 ? Array(i...5) : [6, 7, 8]
        guard digits.count >= 2, padding.allSatisfy({ b[$0] == UInt8(ascii: "-") }) else { return nil }
        return ClientInfo(name: name, version: digits.map(String.init).joined(separator: "."))
    }

    // MARK: - Helpers

    /// BEP 20 Shadow digit value: 0-9, A-Z = 10-35, a-z = 36-61, '.' = 62, '-' = 63.
    static func shadowValue(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: Int(c - 48)
        case 65...90: Int(c - 55)
        case 97...122: Int(c - 61)
        case 46: 62
        case 45: 63
        default: nil
        }
    }
    static func isAlphanumeric(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) }
    static func hasPrefix(_ b: [UInt8], _ p: StaticString) -> Bool {
        b.withUnsafeBytes { $0.matches(p) }
    }
    static func ascii(_ s: ArraySlice<UInt8>) -> String? {
        s.allSatisfy { $0 >= 0x20 && $0 < 0x7f } ? String(decoding: s, as: UTF8.self) : nil
    }
    static func twoDigits(_ v: UInt8) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
