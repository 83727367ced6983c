// Replays the BitTorrentClassifier fuzz targets' seeds (Fuzz/Corpus/<target>/, real payloads listed in
// each PROVENANCE.tsv) and every input that ever crashed them (Fuzz/FailCases/<target>/) through the
// same entry points as the libFuzzer binaries. The entry points check their invariants with
// `precondition`, so a regression crashes the test run; the counts below check the seeds still reach
// the parsers (a seed that stopped parsing would make the fuzzer start from nothing).
import Foundation
import Testing
import FuzzEntryPoints

@Suite struct ClassifierFuzzReplayTests {
    /// Runs `entry` on every seed and fail case of `target`; returns (seeds, sum of results).
    static func replay(_ target: String, _ entry: (UnsafeRawBufferPointer) -> Int) throws -> (Int, Int) {
        let seeds = FuzzReplayTests.inputs("Corpus", target).filter { $0.pathExtension != "tsv" }
        var total = 0
        for f in seeds + FuzzReplayTests.inputs("FailCases", target) {
            let data = try Data(contentsOf: f)
            total += data.withUnsafeBytes { entry($0) }
        }
        return (seeds.count, total)
    }

    @Test func bencodeSeedsReplay() throws {
        let (seeds, items) = try Self.replay("FuzzBencode", bencodeFuzzInput)
        #expect(seeds >= 8)
        #expect(items > 200, "the seeds are KRPC messages and torrents (323 items at commit time)")
    }

    @Test func dhtSeedsReplay() throws {
        let (seeds, events) = try Self.replay("FuzzDHT", dhtFuzzInput)
        #expect(seeds >= 10)
        #expect(events >= seeds, "every seed is one real KRPC message")
    }

    @Test func peerWireSeedsReplay() throws {
        let (seeds, events) = try Self.replay("FuzzPeerWire", peerWireFuzzInput)
        #expect(seeds >= 10)
        #expect(events > 3 * seeds, "80 events at commit time")
    }

    @Test func udpFlowSeedsReplay() throws {
        let (seeds, events) = try Self.replay("FuzzUTP", udpFlowFuzzInput)
        #expect(seeds >= 5)
        #expect(events > 2 * seeds)
    }

    @Test func httpTrackerSeedsReplay() throws {
        let (seeds, events) = try Self.replay("FuzzHTTPTracker", httpTrackerFuzzInput)
        #expect(seeds >= 4)
        #expect(events >= seeds / 2)
    }

    @Test func torrentSeedsReplay() throws {
        let (seeds, parsed) = try Self.replay("FuzzTorrent", torrentFuzzInput)
        #expect(seeds >= 4)
        #expect(parsed >= seeds, "every seed is a real .torrent file")
    }

    @Test func tunnelSeedsReplay() throws {
        let (seeds, taken) = try Self.replay("FuzzTunnel", tunnelFuzzInput)
        #expect(seeds >= 8)
        #expect(taken >= seeds / 2, "the seeds are proxy handshakes")
    }

    @Test func emptyAndTinyInputs() {
        for input: [UInt8] in [[], [0], [0xff], [0, 0], [1, 0x80, 0]] {
            input.withUnsafeBytes { b in
                _ = bencodeFuzzInput(b); _ = dhtFuzzInput(b); _ = peerWireFuzzInput(b); _ = udpFlowFuzzInput(b)
                _ = httpTrackerFuzzInput(b); _ = torrentFuzzInput(b); _ = tunnelFuzzInput(b)
            }
        }
        #expect([UInt8]().withUnsafeBytes { dhtFuzzInput($0) } == 0)
    }

    @Test func peerWireLayout() {
        // n = 2 controls: a 16-byte segment (c = 1) then a 2-byte gap (0x81); the rest is one last segment.
        // Stream: a handshake cut by the gap, so it is not a peer wire stream.
        var input: [UInt8] = [2, 1, 0x81, 0x13]
        input += Array("BitTorrent protocol".utf8) + [UInt8](repeating: 0, count: 48)
        #expect(input.withUnsafeBytes { peerWireFuzzInput($0) } == 0)
        // The same handshake fed whole (n = 0): one handshake event.
        let whole: [UInt8] = [0, 0x13] + Array("BitTorrent protocol".utf8) + [UInt8](repeating: 1, count: 48)
        #expect(whole.withUnsafeBytes { peerWireFuzzInput($0) } == 1)
    }

    @Test func bencodeNearMisses() {
        // Valid: a dictionary with a list; near misses: non-canonical integer, unterminated list, string past the end.
        #expect(Array("d1:al1:bi3eee".utf8).withUnsafeBytes { bencodeFuzzInput($0) } > 0)
        for bad in ["i03e", "lli1e", "5:ab", "d i1e1:ae", "i-0e"] {
            #expect(Array(bad.utf8).withUnsafeBytes { bencodeFuzzInput($0) } == 0, "\(bad)")
        }
    }

    @Test func peerWireStreamRecognisedMidStreamStaysPeerWire() throws {
        // Found by the FuzzPeerWire invariant "a peer wire stream stays one" (hand-made input): three `have`
        // messages (recognised mid-stream) in a 32-byte segment, then the rest of a fourth and a message with
        // unknown id 0x63. TCPStreamClassifier used to relabel the stream `.other` (and drop all later bytes)
        // instead of resyncing as it does for a handshake-started stream or after a gap.
        let url = FuzzReplayTests.fuzzRoot.appendingPathComponent("FailCases/FuzzPeerWire/peerwire-relabelled-other-after-midstream")
        let data = try Data(contentsOf: url)
        #expect(data.withUnsafeBytes { peerWireFuzzInput($0) } >= 4, "the have messages are reported")
    }
}
