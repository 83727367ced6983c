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

    /// TestPaths.publicCorpus (../shared beside the checkout), or, for a worktree one level deeper,
    /// ../../shared; TORSCAN_PUBLIC_CORPUS overrides both.
    static var root: URL? {
        if let env = ProcessInfo.processInfo.environment["TORSCAN_PUBLIC_CORPUS"] { return URL(fileURLWithPath: env) }
        if let r = TestPaths.publicCorpus { return r }
        let deeper = TestPaths.packageRoot.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus/public")
        return FileManager.default.fileExists(atPath: deeper.path) ? deeper : nil
    }

    static func file(_ relative: String) -> URL? {
        guard let root else { return nil }
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

    /// Both directions of one TCP stream, reassembled by relative sequence number (retransmissions
    /// dropped), up to the first hole.
    static func tcpStream(_ file: URL, stream: Int) -> (client: [UInt8], server: [UInt8])? {
        let rows = fields(file, filter: "tcp.stream==\(stream) && tcp.len>0", fields: ["tcp.srcport", "tcp.seq", "tcp.payload"])
        guard let first = rows.first?.first else { return nil }
        var segs: [Bool: [(Int, [UInt8])]] = [true: [], false: []]
        for r in rows where r.count == 3 {
            guard let seq = Int(r[1]) else { continue }
            segs[r[0] == first]!.append((seq, fastHex(r[2])))
        }
        func assemble(_ list: [(Int, [UInt8])]) -> [UInt8] { runs(list).first?.bytes ?? [] }
        return (assemble(segs[true]!), assemble(segs[false]!))
    }

    /// The longer direction of a TCP stream as contiguous runs, each with the count of bytes lost
    /// before it (holes in the capture).
    static func tcpRunsWithGaps(_ file: URL, stream: Int) -> [(gapBefore: Int, bytes: [UInt8])] {
        let rows = fields(file, filter: "tcp.stream==\(stream) && tcp.len>0", fields: ["tcp.srcport", "tcp.seq", "tcp.payload"])
        var segs: [String: [(Int, [UInt8])]] = [:]
        for r in rows where r.count == 3 { if let seq = Int(r[1]) { segs[r[0], default: []].append((seq, fastHex(r[2]))) } }
        guard let longest = segs.values.max(by: { $0.count < $1.count }) else { return [] }
        return runs(longest)
    }

    static func runs(_ list: [(Int, [UInt8])]) -> [(gapBefore: Int, bytes: [UInt8])] {
        let sorted = list.sorted { $0.0 < $1.0 }
        guard var cursor = sorted.first?.0 else { return [] }
        var out: [(gapBefore: Int, bytes: [UInt8])] = [(0, [])]
        for (seq, bytes) in sorted {
            if seq > cursor { out.append((seq - cursor, [])); cursor = seq }
            let end = seq + bytes.count
            if end > cursor { out[out.count - 1].bytes += bytes[(cursor - seq)...]; cursor = end }
        }
        return out
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
