// Totality (DESIGN.md rule 2) of the tunnel and MSE parsers on hostile input: seeded random bytes,
// biased towards the first bytes each parser accepts (0x04, 0x05, "CONNECT ", "HTTP/"), cut into
// random segments in both directions. Nothing may trap, consume must return 0...count, and the
// detector must settle (never keep .probing past TunnelLimits.maxHandshakeBytes per direction).
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

@Suite struct TunnelRobustnessTests {
    static let prefixes: [[UInt8]] = [[5, 1, 0], [5, 2, 0, 2], [4, 1], [4, 1, 0, 80, 0, 0, 0, 1], Array("CONNECT ".utf8),
                                      Array("CONNECT a:1 HTTP/1.1\r\n\r\n".utf8), [1, 5], [0, 0x5a], [5, 0], Array("HTTP/1.1 ".utf8)]

    @Test func randomHandshakes() {
        var g = TestRandomBytes(state: 99)
        var settled = 0
        for round in 0..<2000 {
            var d = TunnelDetector()
            var sentByClient = 0, sentByServer = 0
            for step in 0..<8 {
                let fromClient = step % 2 == 0 || g.next(1)[0] < 64
                let pick = Int(g.next(1)[0]) % (Self.prefixes.count + 4)
                var msg = pick < Self.prefixes.count ? Self.prefixes[pick] : []
                msg += g.next(Int(g.next(1)[0]) % (round % 50 == 0 ? 2000 : 40))
                let n = msg.withUnsafeBytes { d.consume($0, fromClient: fromClient) }
                #expect(n >= 0 && n <= msg.count)
                if fromClient { sentByClient += msg.count } else { sentByServer += msg.count }
            }
            if d.state != .probing { settled += 1 }
            else { #expect(sentByClient <= TunnelLimits.maxHandshakeBytes && sentByServer <= TunnelLimits.maxHandshakeBytes) }
            _ = d.takeDeferredBytes(fromClient: true); _ = d.takeDeferredBytes(fromClient: false)
            let dg = g.next(Int(g.next(1)[0]) % 40)
            _ = dg.withUnsafeBytes { SOCKS5UDPHeader.parse($0) }
        }
        #expect(settled > 1500)
    }

    /// `cannotOpen` (the flow layer's shortcut, issue 6): when it says so, a fresh detector fed those
    /// first bytes goes `.notATunnel` at once, holding nothing; checked for every first byte, both
    /// directions, and the prefixes above with a byte changed. (It may say no where the detector
    /// still decides at once, after reading more than the first byte: the flow layer then makes one.)
    @Test func cannotOpenMatchesAFreshDetector() {
        var firsts: [[UInt8]] = (0...255).map { [UInt8($0), 0x41, 0x42] }
        for p in Self.prefixes { for i in p.indices { var q = p; q[i] ^= 0x20; firsts += [p, q, Array(p.prefix(i + 1))] } }
        var decided = 0
        for bytes in firsts {
            for fromClient in [true, false] {
                var d = TunnelDetector()
                let n = bytes.withUnsafeBytes { d.consume($0, fromClient: fromClient) }
                let atOnce = d.state == .notATunnel && n == 0 && d.takeDeferredBytes(fromClient: true).isEmpty
                    && d.takeDeferredBytes(fromClient: false).isEmpty
                let predicted = bytes.withUnsafeBytes { TunnelDetector.cannotOpen(with: $0, fromClient: fromClient) }
                if predicted {
                    #expect(atOnce, "\(bytes) fromClient \(fromClient)")
                    decided += 1
                }
            }
        }
        // Every server-first flow, and client bytes that start neither 0x04, 0x05 nor "CONNECT ".
        let connect = Array("CONNECT ".utf8)
        let client = firsts.filter { b in ![4, 5].contains(b[0]) && !zip(b, connect).allSatisfy { $0 == $1 } }.count
        #expect(decided == firsts.count + client, "\(decided)")
        #expect(!TunnelDetector.cannotOpen(with: UnsafeRawBufferPointer(start: nil, count: 0), fromClient: false))
    }

    @Test func randomSegmentsIntoMSE() {
        var g = TestRandomBytes(state: 5)
        for _ in 0..<1000 {
            var d = MSEShapeDetector(sawConnectionStart: true)
            for _ in 0..<6 {
                let seg = g.next(Int(g.next(1)[0]) * 3)
                seg.withUnsafeBytes { d.consume($0, fromInitiator: g.next(1)[0] < 160) }
            }
            d.finish()
            if case .undecided(let n) = d.verdict { #expect((0...1).contains(n)) }
        }
    }
}
