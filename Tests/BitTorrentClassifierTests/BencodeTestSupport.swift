// Helpers for the bencode-side tests (Bencode*, DHT*, Extension*, HTTPTracker*, Torrent*).
import Foundation
import BitTorrentClassifier
import TorscanTestSupport

/// Records events; borrowed byte payloads are copied so they outlive the call.
struct CollectedEvents: ClassifierSink {
    var events: [ClassifierEvent] = []
    var metadataPieces: [(piece: Int, totalSize: Int, bytes: [UInt8])] = []
    mutating func receive(_ event: ClassifierEvent) {
        if case .metadataPiece(let piece, let total, let bytes) = event { metadataPieces.append((piece, total, Array(bytes))) }
        events.append(event)
    }
    var dht: [DHTMessage] { events.compactMap { if case .dht(let m) = $0 { m } else { nil } } }
    var anomalies: [ClassifierAnomaly] { events.compactMap { if case .malformed(let a) = $0 { a } else { nil } } }
    var handshakes: [ExtendedHandshake] { events.compactMap { if case .extendedHandshake(let h) = $0 { h } else { nil } } }
    var trackerRequests: [HTTPTrackerRequest] { events.compactMap { if case .httpTrackerRequest(let r) = $0 { r } else { nil } } }
    var pex: [(added: [PeerEndpoint], dropped: [PeerEndpoint])] { events.compactMap { if case .pex(let a, let d) = $0 { (a, d) } else { nil } } }
    var trackerResponses: [(peers: Int, interval: Int?, failure: String?)] {
        events.compactMap { if case .httpTrackerResponse(let p, let i, let f) = $0 { (p, i, f) } else { nil } }
    }
}

extension Array where Element == UInt8 {
    init(ascii text: String) { self = Array(text.utf8) }
}

/// Runs `body` over the bytes (the pointer is valid only inside).
func withBencodeTestBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes(body)
}

/// The shared public corpus: TestPaths.publicCorpus (../shared beside the checkout), or, for a git
/// worktree one level deeper (wt/<branch>), ../../shared. nil when neither exists (tests skip).
var sharedPublicCorpus: URL? {
    if let c = TestPaths.publicCorpus { return c }
    let url = TestPaths.packageRoot.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus/public")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
}

enum Tshark {
    static let path: String? = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `(frame number, UDP payload)` of every UDP frame of a capture, via tshark (nil without tshark).
    static func udpPayloads(_ file: URL) -> [(frame: Int, payload: [UInt8])]? {
        guard let out = run(["-r", file.path, "-Y", "udp", "-T", "fields", "-e", "frame.number", "-e", "udp.payload"]) else { return nil }
        return out.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count >= 2, let frame = Int(parts[0]), !parts[1].isEmpty else { return nil }
            let hex = parts[1].split(separator: ",").first.map(String.init) ?? ""
            return (frame, hexToBytes(hex))
        }
    }

    /// `(frame number, is UDP, payload)` of every UDP datagram and TCP segment with data.
    static func transportPayloads(_ file: URL) -> [(frame: Int, udp: Bool, payload: [UInt8])]? {
        guard let out = run(["-r", file.path, "-Y", "udp or tcp.len > 0", "-T", "fields", "-e", "frame.number", "-e", "udp.payload", "-e", "tcp.payload"]) else { return nil }
        return out.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count >= 3, let frame = Int(parts[0]) else { return nil }
            if !parts[1].isEmpty { return (frame, true, hexToBytes(String(parts[1].split(separator: ",").first ?? ""))) }
            if !parts[2].isEmpty { return (frame, false, hexToBytes(String(parts[2].split(separator: ",").first ?? ""))) }
            return nil
        }
    }

    /// Frame numbers tshark dissects with `filter`.
    static func frames(_ file: URL, filter: String) -> Set<Int>? {
        guard let out = run(["-r", file.path, "-Y", filter, "-T", "fields", "-e", "frame.number"]) else { return nil }
        return Set(out.split(separator: "\n").compactMap { Int($0) })
    }

    static func run(_ args: [String]) -> String? {
        guard let path else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func hexToBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var hi: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: continue
            }
            if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
        }
        return out
    }
}
