// Reads a capture into plain values (copies: tests only).
import CaptureFile
import Foundation
import WireBytes

struct Rec: Equatable {
    var frame: Int
    var ns: Int64
    var hasTimestamp: Bool
    var linkType: UInt32
    var interface: Int
    var caplen: Int
    var origlen: Int
    var offset: Int
    var data: [UInt8]
}

struct ReadOutcome {
    var records: [Rec]
    var result: CaptureReadResult
    var reader: CaptureReader
}

/// `configure` sets the reader up before reading (buffer size, hashing).
func readAll(path: String, configure: (CaptureReader) -> Void = { _ in }) throws -> ReadOutcome {
    let reader = try CaptureReader(path: path)
    configure(reader)
    var recs: [Rec] = []
    let result = reader.forEachRecord { r in
        recs.append(Rec(frame: r.frameNumber, ns: r.timestamp.nanoseconds, hasTimestamp: r.hasTimestamp,
                        linkType: r.linkType.rawValue, interface: r.interfaceID, caplen: r.capturedLength,
                        origlen: r.originalLength, offset: r.fileOffset, data: Array(r.data)))
        return true
    }
    return ReadOutcome(records: recs, result: result, reader: reader)
}

func readBytes(_ bytes: [UInt8], suffix: String = ".bin") throws -> ReadOutcome {
    let path = tempFile(bytes, suffix: suffix)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try readAll(path: path)
}

func openError(_ path: String) -> CaptureOpenError? {
    do { _ = try CaptureReader(path: path); return nil } catch { return error }
}
