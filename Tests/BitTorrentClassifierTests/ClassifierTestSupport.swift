// Shared helpers for the classifier tests: a sink that records events as comparable values, and
// payload extraction from the public corpus with tshark (tests that need it are skipped without it).
import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// Events as plain values. Piece payload is collected separately (its chunking depends on the
/// caller's segmentation), so two runs with different chunk sizes compare equal.
enum Recorded: Equatable {
    case handshake(PeerWireHandshake)
    case message(id: UInt8, length: UInt32)
    case block(index: UInt32, begin: UInt32, length: UInt32)
    case extended(id: UInt8, payload: [UInt8])
    case utp(UTPHeader)
    case tracker(UDPTrackerMessage)
    case lsd(LSDAnnounce)
    case malformed(ClassifierAnomaly)
    case other
}

struct RecordingSink: ClassifierSink {
    var events: [Recorded] = []
    var pieceData: [UInt8] = []
    /// (index, offset) of every pieceBytes chunk must continue the previous one of its block.
    var pieceOffsetsContinuous = true
    private var nextOffset: (UInt32, UInt32)?

    mutating func receive(_ event: ClassifierEvent) {
        switch event {
        case .handshake(let h): events.append(.handshake(h))
        case .peerMessage(let id, let length): events.append(.message(id: id, length: length))
        case .pieceBlock(let i, let b, let l): events.append(.block(index: i, begin: b, length: l)); nextOffset = (i, b)
        case .pieceBytes(let i, let off, let bytes):
            if let n = nextOffset, n != (i, off) { pieceOffsetsContinuous = false }
            nextOffset = (i, off &+ UInt32(bytes.count))
            pieceData.append(contentsOf: bytes)
        case .extendedMessage(let id, let p): events.append(.extended(id: id, payload: Array(p)))
        case .utpPacket(let h): events.append(.utp(h))
        case .udpTracker(let m): events.append(.tracker(m))
        case .lsd(let a): events.append(.lsd(a))
        case .malformed(let a): events.append(.malformed(a))
        default: events.append(.other)
        }
    }

    var handshakes: [PeerWireHandshake] { events.compactMap { if case .handshake(let h) = $0 { h } else { nil } } }
    var messageIDs: [UInt8] { events.compactMap { if case .message(let id, _) = $0 { id } else { nil } } }
    var malformed: [ClassifierAnomaly] { events.compactMap { if case .malformed(let a) = $0 { a } else { nil } } }
}

func withBytes<R>(_ a: [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R { a.withUnsafeBytes(body) }

enum Corpus {
    static var tsharkPath: String? {
        ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func file(_ relative: String) -> URL? {
        guard let root = TestPaths.publicCorpus else { return nil }
        let u = root.appendingPathComponent(relative)
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    /// Runs tshark with `-T fields` and returns the tab-separated rows.
    static func fields(_ file: URL, filter: String, fields: [String], extra: [String] = []) -> [[String]] {
        guard let tshark = tsharkPath else { return [] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tshark)
        p.arguments = ["-r", file.path, "-n"] + extra + ["-Y", filter, "-T", "fields"] + fields.flatMap { ["-e", $0] }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return [] }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Both directions of one TCP stream, payload concatenated in capture order (the test
    /// captures have no retransmissions in the streams used).
    static func tcpStream(_ file: URL, stream: Int) -> (client: [UInt8], server: [UInt8])? {
        let rows = fields(file, filter: "tcp.stream==\(stream) && tcp.len>0", fields: ["tcp.srcport", "tcp.payload"])
        guard let first = rows.first?.first else { return nil }
        var a: [UInt8] = [], b: [UInt8] = []
        for r in rows where r.count == 2 {
            if r[0] == first { a += fastHex(r[1]) } else { b += fastHex(r[1]) }
        }
        return (a, b)
    }
}

/// Hex digits (no whitespace) to bytes, fast enough for whole captures; stops at the first bad digit.
func fastHex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count / 2)
    var hi: UInt8? = nil
    for c in s.utf8 {
        let v: UInt8
        switch c {
        case 48...57: v = c - 48
        case 97...102: v = c - 87
        case 65...70: v = c - 55
        default: return out
        }
        if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
    }
    return out
}
