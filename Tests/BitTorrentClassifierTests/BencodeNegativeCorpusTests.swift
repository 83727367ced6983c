import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

/// ../shared/corpus/public/negative (67 captures of other protocols, ethereum's Kademlia discovery,
/// TLS, QUIC, HTTP, gnutella, eDonkey... among them): the bencode-side detectors see nothing there.
/// Each UDP datagram goes to the DHT detector; each TCP segment (as if it started its stream) to the
/// HTTP tracker request and response detectors.
@Suite struct BencodeNegativeCorpusTests {
    @Test func noSignalsInNegativeCaptures() throws {
        guard let corpus = sharedPublicCorpus, Tshark.path != nil else {
            print("skipped: ../shared/corpus/public or tshark absent"); return
        }
        var datagrams = 0, segments = 0
        for file in TestPaths.files(under: corpus.appendingPathComponent("negative"))
        where file.lastPathComponent.hasSuffix("cap") || file.pathExtension == "pcapng" {
            for (frame, udp, payload) in Tshark.transportPayloads(file) ?? [] {
                var sink = CollectedEvents()
                let where_ = "\(file.lastPathComponent) frame \(frame)"
                if udp {
                    datagrams += 1
                    let r = withBencodeTestBytes(payload) { DHTDetector.inspect($0, sink: &sink) }
                    #expect(r == .noMatch, "\(where_)")
                } else {
                    segments += 1
                    let rq = withBencodeTestBytes(payload) { HTTPTrackerDetector.inspectRequest($0, sink: &sink) }
                    let rs = withBencodeTestBytes(payload) { HTTPTrackerDetector.inspectResponse($0, sink: &sink) }
                    #expect(rq != .match && rs != .match, "\(where_)")
                }
                #expect(sink.events.isEmpty, "\(where_): \(sink.events.count) events")
            }
        }
        #expect(datagrams > 1_000 && segments > 1_000)
        print("negative corpus: \(datagrams) UDP datagrams, \(segments) TCP segments, no signal")
    }
}
