import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// A deterministic mutation sweep over every positive vector of the bencode-side detectors, fed to
/// every parser (a fuzz replay that needs no fuzzer): no input may trap or read out of range (Swift's
/// debug build checks raw-buffer bounds), and matches must carry well-formed values.
@Suite struct BencodeMutationSweepTests {
    struct XorShift: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
    }
    struct Checker: ClassifierSink {
        mutating func receive(_ event: ClassifierEvent) {
            switch event {
            case .dht(let m):
                #expect(m.nodeID == nil || m.nodeID?.count == 20)
                #expect(m.infoHash == nil || m.infoHash?.byteCount == 20)
            case .metadataPiece(let piece, let total, let bytes):
                #expect(UTMetadata.expectedBlockLength(piece: piece, totalSize: total) == bytes.count)
            case .pex(let added, let dropped):
                #expect((added + dropped).allSatisfy { $0.address.count == 4 || $0.address.count == 16 })
            case .httpTrackerRequest(let r):
                #expect(!r.infoHashes.isEmpty && r.infoHashes.allSatisfy { $0.byteCount == 20 })
            default: break
            }
        }
    }

    static var seeds: [[UInt8]] {
        DHTVectors.allPositives
            + [ExtensionVectors.utorrentHandshake, ExtensionVectors.transmissionPex, ExtensionVectors.pex30].map { hexBytes($0) }
            + [ExtensionVectors.metadataData, ExtensionVectors.metadataRequest]
            + [HTTPTrackerVectors.transmissionAnnounce, HTTPTrackerVectors.rtorrentAnnounce].map { Array(ascii: $0) }
            + [HTTPTrackerVectors.twoPeers, TorrentVectors.testTxt, TorrentVectors.hybrid, TorrentVectors.v2Only].map { hexBytes($0) }
    }

    @Test func mutatedInputsNeverTrap() {
        var rng = XorShift(state: 0x9E37_79B9_7F4A_7C15)
        let alphabet: [UInt8] = Array("0123456789:ield-e%".utf8) + [0, 0xff, 0x0a, 0x0d]
        let seeds = Self.seeds
        var sink = Checker()
        for round in 0..<20_000 {
            var m = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !m.isEmpty {
                let i = Int.random(in: 0..<m.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: m[i] = alphabet.randomElement(using: &rng)!
                case 1: m[i] = UInt8.random(in: 0...255, using: &rng)
                case 2: m.insert(alphabet.randomElement(using: &rng)!, at: i)
                default: m.remove(at: i)
                }
            }
            m.withUnsafeBytes { b in
                _ = DHTDetector.inspect(b, sink: &sink)
                _ = ExtensionMessages.inspect(extendedID: UInt8(round % 3), payload: b, sink: &sink)
                _ = HTTPTrackerDetector.inspectRequest(b, sink: &sink)
                _ = HTTPTrackerDetector.inspectResponse(b, sink: &sink)
                if let t = try? TorrentMetainfo(bencoded: b) {
                    #expect(t.infoRange.upperBound <= b.count && t.info.pieces.count % 20 == 0)
                }
            }
        }
    }
}
