// Metainfo (.torrent) files and info dictionaries.
// BEP 3  (https://www.bittorrent.org/beps/bep_0003.html): "Metainfo files (also known as .torrent files)
//   are bencoded dictionaries with the following keys: announce [...] info: This maps to a dictionary".
//   Info: "name", "piece length", "pieces" ("a string whose length is a multiple of 20 [...] each of
//   which is the SHA1 hash of the piece at the corresponding index"), and "There is also a key length
//   or a key files, but not both or neither"; each file has "length" and "path" ("A list of UTF-8
//   encoded strings corresponding to subdirectory names, the last of which is the actual file name").
// BEP 52 (https://www.bittorrent.org/beps/bep_0052.html): v2 info has "meta version" (2) and "file
//   tree", "a tree of dictionaries where dictionary keys represent UTF-8 encoded path elements.
//   Entries with zero-length keys describe the properties of the composed path at that point"
//   ("length", "pieces root": 32 bytes, absent for empty files); the outer metainfo has "piece
//   layers" mapping each "pieces root" to the concatenated SHA-256 hashes of its piece layer. A hybrid
//   torrent carries both the v1 keys and the v2 keys in one info dictionary.
// BEP 47 (https://www.bittorrent.org/beps/bep_0047.html): file "attr" containing "p" marks padding files.
// BEP 12 "announce-list", BEP 19 "url-list", BEP 27 "private".
//
// The v1 infohash is SHA-1 of the raw `info` bytes, the v2 infohash SHA-256 of the same bytes:
// `TorrentMetainfo.infoRange` locates them. Hashing is the caller's (this module has no crypto).
import WireBytes

public enum TorrentError: Error, Equatable, Sendable {
    case bencode(BencodeError)
    case notADictionary
    case missingInfo
    case missingField(String)
    case badField(String)
    /// File lengths that do not add up in 63 bits.
    case lengthOverflow
}

public struct TorrentFile: Hashable, Sendable {
    /// Path components below the torrent's `name` (single-file v1: `[name]`).
    public var path: [String]
    public var length: Int64
    /// BEP 52 `pieces root` (32 bytes); nil for v1 files and empty v2 files.
    public var piecesRoot: [UInt8]?
    /// BEP 47 padding file (hybrid torrents align v1 files with them).
    public var isPadding: Bool
    public init(path: [String], length: Int64, piecesRoot: [UInt8]? = nil, isPadding: Bool = false) {
        self.path = path; self.length = length; self.piecesRoot = piecesRoot; self.isPadding = isPadding
    }
}

public struct TorrentInfo: Sendable {
    public enum Version: String, Sendable { case v1, v2, hybrid }

    /// Names, path components and URLs longer than this are cut.
    public static let maximumNameLength = 4_096
    /// BEP 52: "piece length [...] must be a power of two and at least 16KiB".
    public static let minimumV2PieceLength = 16_384

    public var name: String
    public var pieceLength: Int
    /// Sum of the lengths of the non-padding files.
    public var totalLength: Int64
    /// v1 `pieces`: concatenated 20-byte SHA-1 hashes (empty for v2-only).
    public var pieces: [UInt8]
    /// v1 file list (single-file torrents: one file named `name`), in wire order.
    public var files: [TorrentFile]
    /// v2 files from `file tree`, depth-first in key order.
    public var v2Files: [TorrentFile]
    public var metaVersion: Int?
    public var isPrivate: Bool
    public var version: Version

    public var pieceCount: Int { pieces.count / 20 }
    public func pieceHash(_ index: Int) -> ArraySlice<UInt8>? {
        guard index >= 0, index < pieceCount else { return nil }
        return pieces[(index * 20)..<(index * 20 + 20)]
    }

    /// Parses a raw info dictionary (from a .torrent file or assembled from ut_metadata).
    public init(infoDictionary bytes: UnsafeRawBufferPointer) throws(TorrentError) {
        let root: BencodeItem
        do throws(BencodeError) { root = try BencodeScanner.document(bytes, limits: .metainfo) } catch { throw .bencode(error) }
        try self.init(root)
    }

    init(_ info: BencodeItem) throws(TorrentError) {
        guard info.kind == .dictionary else { throw .notADictionary }
        guard let name = info["name"]?.string(maxBytes: Self.maximumNameLength) else { throw .missingField("name") }
        guard let pieceLength = info["piece length"]?.integer(in: 1...Int64(Int32.max)) else { throw .missingField("piece length") }
        self.name = name
        self.pieceLength = pieceLength
        self.isPrivate = info["private"]?.integer == 1
        self.metaVersion = info["meta version"]?.integer(in: 0...255)
        self.pieces = []
        self.files = []
        self.v2Files = []

        let hasV1 = info["pieces"] != nil
        if let p = info["pieces"] {
            guard let hashes = p.stringBytes, hashes.count % 20 == 0 else { throw .badField("pieces") }
            pieces = Array(hashes)
            if let length = info["length"] {
                guard let l = length.integer, l >= 0 else { throw .badField("length") }
                files = [TorrentFile(path: [name], length: l)]
            } else if let list = info["files"], list.kind == .list {
                for entry in list.elements { files.append(try Self.v1File(entry)) }
            } else {
                throw .missingField("length")
            }
        }
        let hasV2 = metaVersion == 2
        if hasV2 {
            guard let tree = info["file tree"], tree.kind == .dictionary else { throw .missingField("file tree") }
            guard pieceLength >= Self.minimumV2PieceLength, pieceLength & (pieceLength - 1) == 0 else { throw .badField("piece length") }
            var path: [String] = []
            try Self.walkFileTree(tree, path: &path, into: &v2Files)
        }
        guard hasV1 || hasV2 else { throw .missingField("pieces") }
        version = hasV1 && hasV2 ? .hybrid : (hasV2 ? .v2 : .v1)

        var total: Int64 = 0
        for f in (hasV1 ? files : v2Files) where !f.isPadding {
            let (sum, overflow) = total.addingReportingOverflow(f.length)
            guard !overflow else { throw .lengthOverflow }
            total = sum
        }
        totalLength = total
    }

    static func v1File(_ entry: BencodeItem) throws(TorrentError) -> TorrentFile {
        guard entry.kind == .dictionary, let length = entry["length"]?.integer, length >= 0 else { throw .badField("files.length") }
        guard let pathList = entry["path"], pathList.kind == .list else { throw .badField("files.path") }
        var path: [String] = []
        for component in pathList.elements {
            guard let s = component.string(maxBytes: maximumNameLength) else { throw .badField("files.path") }
            path.append(s)
        }
        guard !path.isEmpty else { throw .badField("files.path") }   // BEP 3: "a zero length list is an error case"
        let padding = entry["attr"]?.stringBytes.map { $0.contains(UInt8(ascii: "p")) } ?? false
        return TorrentFile(path: path, length: length, isPadding: padding)
    }

    /// BEP 52 file tree: a key "" marks a file whose properties are its value.
    static func walkFileTree(_ node: BencodeItem, path: inout [String], into files: inout [TorrentFile]) throws(TorrentError) {
        for (key, value) in node.entries {
            guard value.kind == .dictionary else { throw .badField("file tree") }
            if key.stringLength == 0 {
                guard let length = value["length"]?.integer, length >= 0 else { throw .badField("file tree.length") }
                var root: [UInt8]?
                if let r = value["pieces root"] {
                    guard let bytes = r.stringBytes, bytes.count == 32 else { throw .badField("pieces root") }
                    root = Array(bytes)
                }
                let padding = value["attr"]?.stringBytes.map { $0.contains(UInt8(ascii: "p")) } ?? false
                files.append(TorrentFile(path: path, length: length, piecesRoot: root, isPadding: padding))
            } else {
                guard let component = key.string(maxBytes: maximumNameLength) else { throw .badField("file tree") }
                path.append(component)
                try walkFileTree(value, path: &path, into: &files)
                path.removeLast()
            }
        }
    }
}

public struct TorrentMetainfo: Sendable {
    public var info: TorrentInfo
    /// Byte range of the raw `info` dictionary inside the file: hash it for the infohashes.
    public var infoRange: Range<Int>
    public var announce: String?
    /// BEP 12 tiers.
    public var announceList: [[String]]
    /// BEP 19 web seeds.
    public var urlList: [String]
    /// BEP 52: `pieces root` -> concatenated SHA-256 piece-layer hashes.
    public var pieceLayers: [[UInt8]: [UInt8]]

    public init(bencoded bytes: UnsafeRawBufferPointer) throws(TorrentError) {
        let root: BencodeItem
        do throws(BencodeError) { root = try BencodeScanner.document(bytes, limits: .metainfo) } catch { throw .bencode(error) }
        guard root.kind == .dictionary else { throw .notADictionary }
        guard let info = root["info"] else { throw .missingInfo }
        self.info = try TorrentInfo(info)
        infoRange = info.range
        announce = root["announce"]?.string(maxBytes: TorrentInfo.maximumNameLength)
        announceList = []
        if let tiers = root["announce-list"] {
            for tier in tiers.elements where tier.kind == .list {
                announceList.append(tier.elements.compactMap { $0.string(maxBytes: TorrentInfo.maximumNameLength) })
            }
        }
        urlList = []
        if let urls = root["url-list"] {
            if let single = urls.string(maxBytes: TorrentInfo.maximumNameLength) { urlList = [single] }
            for url in urls.elements { if let s = url.string(maxBytes: TorrentInfo.maximumNameLength) { urlList.append(s) } }
        }
        pieceLayers = [:]
        if let layers = root["piece layers"] {
            for (key, value) in layers.entries {
                guard let k = key.stringBytes, k.count == 32, let v = value.stringBytes, v.count % 32 == 0 else {
                    throw .badField("piece layers")
                }
                pieceLayers[Array(k)] = Array(v)
            }
        }
    }
}
