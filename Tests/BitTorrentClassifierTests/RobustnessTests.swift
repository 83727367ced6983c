import Testing
import BitTorrentClassifier

/// Parsers are total (DESIGN.md rule 2): random bytes and bit-flipped real vectors never trap,
/// never loop, and never yield a value outside what the input can hold.
@Suite struct RobustnessTests {
    static let positives: [[UInt8]] = [
        PeerWireHandshakeTests.frame4, UTPTests.syn, UTPTests.state, UTPTests.data5, UTPTests.data6,
        UDPTrackerTests.connect, UDPTrackerTests.announce, UDPTrackerTests.announceResponse, UDPTrackerTests.scrape,
        LocalServiceDiscoveryTests.frame1, PeerWireStreamTests.allMessages,
    ]

    struct Xorshift: RandomNumberGenerator {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
    }

    static func exercise(_ d: [UInt8], _ rng: inout Xorshift) {
        d.withUnsafeBytes { b in
            if let h = UTPHeader.parse(b) { #expect(h.payloadOffset >= 20 && h.payloadOffset <= b.count) }
            if let m = UDPTracker.parseRequest(b) { #expect(m.infoHashes.count <= UDPTracker.maxScrapeHashes) }
            _ = UDPTracker.parseResponse(b, ipv6: false)
            _ = LocalServiceDiscovery.parse(b)
            _ = PeerWireHandshake.parse(b)
            var sink = RecordingSink()
            var s = PeerWireStream(expectHandshake: rng.next() & 1 == 0)
            var i = 0
            while i < b.count {
                let n = min(b.count - i, Int(rng.next() % 64) + 1)
                s.consume(b.slice(i, n), sink: &sink)
                if rng.next() % 16 == 0 { s.gap(Int(rng.next() % 32)) }
                i += n
            }
            #expect(sink.pieceData.count <= b.count)
            var t = TCPStreamClassifier()
            t.consume(b, sink: &sink)
            var u = UDPFlowClassifier()
            u.consume(b, fromInitiator: true, sink: &sink)
            u.consume(b, fromInitiator: false, sink: &sink)
        }
    }

    @Test func randomBytes() {
        var rng = Xorshift(s: 0x9e37_79b9_7f4a_7c15)
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 200)
            Self.exercise((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, &rng)
        }
    }

    @Test func bitFlippedPositives() {
        var rng = Xorshift(s: 42)
        for p in Self.positives {
            for _ in 0..<2_000 {
                var d = p
                for _ in 0..<(1 + Int(rng.next() % 4)) { d[Int(rng.next() % UInt64(d.count))] ^= UInt8(1 << (rng.next() % 8)) }
                if rng.next() % 4 == 0 { d = Array(d.prefix(Int(rng.next() % UInt64(d.count + 1)))) }
                Self.exercise(d, &rng)
            }
        }
    }
}
