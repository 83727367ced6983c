import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// Issue 3's bar for the binary half: every infohash tshark decodes from a peer wire handshake
/// (over TCP, or over uTP with `--enable-heuristic bt_utp_udp`) in ../shared/corpus/public/bittorrent
/// is found by TCPStreamClassifier / UDPFlowClassifier, on the same TCP stream.
@Suite struct CorpusInfohashTests {
    static var captures: [URL] {
        guard let root = Corpus.root else { return [] }
        return TestPaths.files(under: root.appendingPathComponent("bittorrent")).filter { NegativeCorpusTests.isCapture($0) }
    }

    @Test func everyHandshakeInfohashTsharkFindsWeFind() throws {
        guard Corpus.tsharkPath != nil, !Self.captures.isEmpty else { print("skipped: corpus or tshark absent"); return }
        var compared = 0
        for file in Self.captures {
            let name = file.lastPathComponent
            // TCP: per stream.
            let tcp = Corpus.fields(file, filter: "tcp && bittorrent.info_hash", fields: ["tcp.stream", "bittorrent.info_hash"])
            var expected: [Int: Set<String>] = [:]
            for r in tcp where r.count == 2 { if let s = Int(r[0]) { expected[s, default: []].formUnion(r[1].split(separator: ",").map(String.init)) } }
            for (stream, hashes) in expected.sorted(by: { $0.key < $1.key }) {
                var found = Set<String>()
                for dir in Corpus.tcpDirectionsWithGaps(file, stream: stream) {
                    var c = TCPStreamClassifier()
                    var sink = RecordingSink()
                    for run in dir {
                        c.gap(run.gapBefore)
                        for start in stride(from: 0, to: run.bytes.count, by: 1460) where c.wantsBytes {
                            run.bytes[start..<min(start + 1460, run.bytes.count)].withUnsafeBytes { c.consume($0, sink: &sink) }
                        }
                    }
                    found.formUnion(sink.handshakes.map(\.infoHash.hex))
                }
                compared += hashes.count
                #expect(hashes.isSubset(of: found), "\(name) tcp.stream \(stream): tshark \(hashes.sorted()) torscan \(found.sorted())")
            }
            // uTP: per capture.
            let utp = Set(Corpus.fields(file, filter: "udp && bittorrent.info_hash", fields: ["bittorrent.info_hash"], extra: ["--enable-heuristic", "bt_utp_udp"])
                .flatMap { $0.flatMap { $0.split(separator: ",").map(String.init) } })
            if !utp.isEmpty {
                let found = Set(classifyUDP(file).values.flatMap { $0.handshakes.map(\.infoHash.hex) })
                compared += utp.count
                #expect(utp.isSubset(of: found), "\(name) uTP: tshark \(utp.sorted()) torscan \(found.sorted())")
            }
        }
        #expect(compared > 10)
    }
}

extension Corpus {
    /// Both directions of a TCP stream as contiguous runs with the bytes lost before each.
    static func tcpDirectionsWithGaps(_ file: URL, stream: Int) -> [[(gapBefore: Int, bytes: [UInt8])]] {
        let rows = fields(file, filter: "tcp.stream==\(stream) && tcp.len>0", fields: ["tcp.srcport", "tcp.seq", "tcp.payload"])
        var segs: [String: [(Int, [UInt8])]] = [:]
        for r in rows where r.count == 3 { if let seq = Int(r[1]) { segs[r[0], default: []].append((seq, fastHex(r[2]))) } }
        return segs.keys.sorted().map { runs(segs[$0]!) }
    }
}
