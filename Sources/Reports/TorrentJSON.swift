// A known torrent as reports show it (issue 8: name, total size, file list in JSON).
import FlowEvidence

extension TorrentEntry {
    public func json() -> JSONValue {
        .object([
            ("name", .string(name)),
            ("total_size", .int(totalLength)),
            ("piece_length", .int(pieceLength)),
            ("pieces", .int(pieceCount)),
            ("version", .string(info.version.rawValue)),
            ("infohash_v1", .optional(infoHashV1?.hex)),
            ("infohash_v2", .optional(infoHashV2?.hex)),
            ("files", .array(files.map { .object([("path", .string($0.path)), ("length", .int($0.length))]) })),
            ("source", .string(source)),
        ])
    }
}
