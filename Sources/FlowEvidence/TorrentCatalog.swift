// `--torrent FILE|DIR`: the .torrent files a run knows (issue 8). Each is parsed with the classifier's
// TorrentMetainfo (BEP 3 v1, BEP 52 v2, hybrid) and indexed by its infohashes: SHA-1 of the raw info
// dictionary (v1 and hybrid), SHA-256 of it (v2 and hybrid), and the 20-byte truncation of the SHA-256
// that v2 peers use on the wire (BEP 52). Each entry gives the name, size, file list and the hash every
// piece must match (PieceSpec) for the PieceVerifier. A directory is walked recursively in sorted order.
import Foundation
import Crypto
import BitTorrentClassifier

public struct TorrentEntry: Sendable {
    public struct File: Sendable, Equatable {
        /// Path below the torrent's name, components joined with "/".
        public var path: String
        public var length: Int64
    }

    /// The .torrent file it came from.
    public var source: String
    public var info: TorrentInfo
    public var pieceLayers: [[UInt8]: [UInt8]]
    /// SHA-1 of the info dictionary (v1 and hybrid torrents).
    public var infoHashV1: InfoHash?
    /// SHA-256 of the info dictionary, 32 bytes (v2 and hybrid torrents).
    public var infoHashV2: InfoHash?

    public var name: String { info.name }
    public var totalLength: Int64 { info.totalLength }
    public var pieceLength: Int { info.pieceLength }
    /// Files without BEP 47 padding, in the torrent's order (v1 list, else v2 file tree).
    public var files: [File] {
        (info.version == .v2 ? info.v2Files : info.files).filter { !$0.isPadding }
            .map { File(path: $0.path.joined(separator: "/"), length: $0.length) }
    }

    /// v2 pieces in peer-wire order: each non-empty file of the file tree starts at a piece boundary.
    struct V2Piece: Sendable { var file: Int; var index: Int }
    let v2Pieces: [V2Piece]

    /// Bytes of the v1 piece stream (files and BEP 47 padding).
    let v1StreamLength: Int64

    init(source: String, info: TorrentInfo, pieceLayers: [[UInt8]: [UInt8]], infoBytes: UnsafeRawBufferPointer) {
        self.source = source
        self.info = info
        self.pieceLayers = pieceLayers
        v1StreamLength = info.files.reduce(Int64(0)) { $0 &+ $1.length }
        infoHashV1 = info.version == .v2 ? nil : InfoHash(bytes: Array(Insecure.SHA1.hash(data: infoBytes)))
        infoHashV2 = info.version == .v1 ? nil : InfoHash(bytes: Array(SHA256.hash(data: infoBytes)))
        var v2: [V2Piece] = []
        if info.version != .v1, info.pieceLength > 0 {
            for (f, file) in info.v2Files.enumerated() where !file.isPadding && file.length > 0 {
                let count = (file.length + Int64(info.pieceLength) - 1) / Int64(info.pieceLength)
                guard v2.count + Int(clamping: count) <= TorrentCatalog.maxPieces else { break }
                for i in 0..<Int(count) { v2.append(V2Piece(file: f, index: i)) }
            }
        }
        v2Pieces = v2
    }

    /// Number of pieces on the wire.
    public var pieceCount: Int { info.version == .v2 ? v2Pieces.count : info.pieceCount }

    /// What piece `index` must hash to, or nil when the torrent does not say (index out of range, a
    /// missing piece layer). Hybrid pieces must match both their SHA-1 and their v2 merkle root.
    public func pieceSpec(_ index: Int) -> PieceSpec? {
        guard index >= 0, index < pieceCount else { return nil }
        var length = 0
        var hashes: [PieceHash] = []
        if info.version != .v2 {
            let start = Int64(index) * Int64(info.pieceLength)
            guard let h = info.pieceHash(index), start < v1StreamLength else { return nil }
            length = Int(min(Int64(info.pieceLength), v1StreamLength - start))
            hashes.append(.sha1(Array(h)))
        }
        if info.version != .v1, index < v2Pieces.count {
            let p = v2Pieces[index]
            let file = info.v2Files[p.file]
            let start = Int64(p.index) * Int64(info.pieceLength)
            let dataLength = Int(min(Int64(info.pieceLength), file.length - start))
            guard let root = file.piecesRoot else { return nil }
            if file.length <= Int64(info.pieceLength) {
                // A file of one piece has no layer: its pieces root is the piece's own root.
                let leaves = BEP52Merkle.paddedWidth((dataLength + BEP52Merkle.blockSize - 1) / BEP52Merkle.blockSize)
                hashes.append(.merkle(root: root, leaves: leaves, dataLength: dataLength))
            } else {
                guard let layer = pieceLayers[root], (p.index + 1) * 32 <= layer.count else { return nil }
                let h = Array(layer[(p.index * 32)..<(p.index * 32 + 32)])
                hashes.append(.merkle(root: h, leaves: info.pieceLength / BEP52Merkle.blockSize, dataLength: dataLength))
            }
            if info.version == .v2 { length = dataLength }
            // A hybrid's v1 piece holds the v2 piece and then padding.
            guard dataLength <= length else { return nil }
        }
        return PieceSpec(length: length, hashes: hashes)
    }
}

public struct TorrentCatalog: Sendable {
    /// Largest .torrent file read. Piece layers of a v2 torrent take 32 bytes per piece: 64 MiB covers
    /// 2 million pieces (16 TiB at 8 MiB pieces).
    public static let maxTorrentFileSize = 64 << 20
    /// Pieces indexed per torrent (the same bound, 2 million).
    public static let maxPieces = 2 << 20

    public enum LoadError: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case tooLarge(path: String)
        case invalid(path: String, reason: String)
        public var description: String {
            switch self {
            case .unreadable(let p, let r): "\(p): cannot read: \(r)"
            case .tooLarge(let p): "\(p): larger than \(TorrentCatalog.maxTorrentFileSize) bytes"
            case .invalid(let p, let r): "\(p): not a torrent: \(r)"
            }
        }
    }

    /// Entries sorted by source path.
    public private(set) var entries: [TorrentEntry] = []
    /// Files that could not be loaded, in path order (reported, not fatal).
    public private(set) var errors: [LoadError] = []
    var index: [InfoHash: Int] = [:]

    public init() {}

    /// Loads every FILE and every `*.torrent` under every DIR (recursively), in sorted path order.
    public init(paths: [String]) {
        var files: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue {
                files += Self.torrentFiles(under: p)
            } else {
                files.append(p)
            }
        }
        for f in files.sorted() {
            do { try add(path: f) } catch let e as LoadError { errors.append(e) } catch {}
        }
    }

    static func torrentFiles(under dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var out: [String] = []
        for case let rel as String in e where rel.lowercased().hasSuffix(".torrent") {
            out.append((dir as NSString).appendingPathComponent(rel))
        }
        return out.sorted()
    }

    public mutating func add(path: String) throws {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attrs[.size] as? NSNumber)?.intValue else {
            throw LoadError.unreadable(path: path, reason: "no such file")
        }
        guard size <= Self.maxTorrentFileSize else { throw LoadError.tooLarge(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError.unreadable(path: path, reason: "read failed")
        }
        try add(bencoded: [UInt8](data), source: path)
    }

    /// Adds one metainfo file's bytes. A torrent already known (same infohash) keeps its first source.
    public mutating func add(bencoded bytes: [UInt8], source: String) throws {
        let entry: TorrentEntry = try bytes.withUnsafeBytes { raw in
            let meta: TorrentMetainfo
            do { meta = try TorrentMetainfo(bencoded: raw) } catch {
                throw LoadError.invalid(path: source, reason: String(describing: error))
            }
            return TorrentEntry(source: source, info: meta.info, pieceLayers: meta.pieceLayers,
                                infoBytes: UnsafeRawBufferPointer(rebasing: raw[meta.infoRange]))
        }
        insert(entry)
    }

    /// Adds an info dictionary assembled from ut_metadata (BEP 9). It has no piece layers, so v2 pieces
    /// of files longer than one piece cannot be verified from it; v1 pieces can.
    public mutating func add(infoDictionary bytes: [UInt8], source: String) throws {
        let entry: TorrentEntry = try bytes.withUnsafeBytes { raw in
            let info: TorrentInfo
            do { info = try TorrentInfo(infoDictionary: raw) } catch {
                throw LoadError.invalid(path: source, reason: String(describing: error))
            }
            return TorrentEntry(source: source, info: info, pieceLayers: [:], infoBytes: raw)
        }
        insert(entry)
    }

    private mutating func insert(_ entry: TorrentEntry) {        let keys = [entry.infoHashV1, entry.infoHashV2, entry.infoHashV2?.truncated].compactMap { $0 }
        guard !keys.contains(where: { index[$0] != nil }) else { return }
        entries.append(entry)
        for k in keys { index[k] = entries.count - 1 }
    }

    /// The torrent with this infohash: v1, full v2, or v2 truncated to 20 bytes as on the wire.
    public func entry(for infoHash: InfoHash) -> TorrentEntry? { index[infoHash].map { entries[$0] } }
}
