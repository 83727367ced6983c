// Entry point of the FuzzTorrent libFuzzer target (replayed by FuzzReplayTests): the input is a
// .torrent file (BEP 3, BEP 52) given to TorrentMetainfo(bencoded:), and also, whole, to
// TorrentInfo(infoDictionary:) as if it were an info dictionary fetched with ut_metadata (BEP 9).
import BitTorrentClassifier
import WireBytes

/// Parses one input both ways. Returns 2 when both parse, 1 when one does, 0 when neither.
@discardableResult
public func torrentFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    var parsed = 0
    if let t = try? TorrentMetainfo(bencoded: bytes) {
        parsed += 1
        precondition(t.infoRange.lowerBound >= 0 && t.infoRange.upperBound <= bytes.count && !t.infoRange.isEmpty)
        check(t.info)
        // The info dictionary parsed on its own (its bytes are what the infohash covers) gives the same info.
        let again = try? TorrentInfo(infoDictionary: bytes.slice(t.infoRange.lowerBound, t.infoRange.count))
        precondition(again != nil, "the info range does not parse on its own")
        if let again {
            precondition(again.name == t.info.name && again.pieces == t.info.pieces && again.files == t.info.files
                         && again.v2Files == t.info.v2Files && again.totalLength == t.info.totalLength, "info parses differently alone")
        }
        for (root, layer) in t.pieceLayers { precondition(root.count == 32 && layer.count % 32 == 0) }
    }
    if let info = try? TorrentInfo(infoDictionary: bytes) {
        parsed += 1
        check(info)
    }
    return parsed
}

private func check(_ info: TorrentInfo) {
    precondition(info.pieceLength >= 1 && info.totalLength >= 0)
    precondition(info.pieces.count % 20 == 0 && info.pieceHash(info.pieceCount) == nil && info.pieceHash(-1) == nil)
    if info.pieceCount > 0 { precondition(info.pieceHash(info.pieceCount - 1)?.count == 20) }
    precondition(info.name.utf8.count <= 3 * TorrentInfo.maximumNameLength)
    switch info.version {
    case .v1: precondition(!info.files.isEmpty && info.v2Files.isEmpty)
    case .v2: precondition(info.pieces.isEmpty && info.files.isEmpty && info.pieceLength >= TorrentInfo.minimumV2PieceLength)
    case .hybrid: precondition(info.pieceLength >= TorrentInfo.minimumV2PieceLength)
    }
    for f in info.files + info.v2Files {
        precondition(f.length >= 0)
        if let r = f.piecesRoot { precondition(r.count == 32) }
    }
    for f in info.files { precondition(!f.path.isEmpty) }
}
