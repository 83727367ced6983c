// MSE inside a SOCKS5 tunnel: SampleCaptures/tunnels/socks5-mse-libtorrent.pcap (make-mse-captures.sh),
// the case of DESIGN.md's story (BitTorrent through a VPN provider's SOCKS5 proxies), encrypted.
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

@Suite struct TunnelMSETests {
    @Test func encryptedBitTorrentInsideSOCKS5() throws {
        // socks5-mse-libtorrent.pcap: libtorrent 2.0.8 through microsocks as "alice" to a seeder at
        // 127.0.0.1:16891 with MSE forced. The tunnelled bytes carry the key exchange.
        let cap = try #require(TunnelTestFiles.sample("socks5-mse-libtorrent.pcap"))
        var targets: [String] = [], mse = 0
        for f in cap.tcp where f.responder.port == 11083 {
            // Replay segment by segment, keeping the tunnelled bytes with their direction for MSE.
            var d = TunnelDetector(), tunnelled: [([UInt8], Bool)] = [], started = false
            for s in f.segments {
                let n = s.payload.withUnsafeBytes { d.consume($0, fromClient: s.fromInitiator) }
                guard case .open = d.state else { continue }
                if !started {
                    started = true
                    for c in [true, false] { let b = d.takeDeferredBytes(fromClient: c); if !b.isEmpty { tunnelled.append((b, c)) } }
                }
                if n < s.payload.count { tunnelled.append((Array(s.payload[n...]), s.fromInitiator)) }
            }
            switch d.state {
            case .open(let i):
                #expect(i.username == "alice" && i.authMethod == 2)
                targets.append("\(i.target):\(i.targetPort)")
                if i.targetPort == 16891 {
                    var m = MSEShapeDetector(sawConnectionStart: true)
                    for (b, c) in tunnelled { b.withUnsafeBytes { m.consume($0, fromInitiator: c) } }
                    m.finish()
                    if case .likelyMSE(let e) = m.verdict, e.stepsMatched == 3 { mse += 1 } else { Issue.record("\(m.verdict)") }
                }
            case .failed(let x):
                // microsocks has no UDP ASSOCIATE (REP 7); the tracker also listed the leecher itself
                // (127.0.0.1:16892), which it cannot reach through the proxy (REP 5).
                let expected = x.request?.command == .udpAssociate ? 7 : 5
                #expect(x.reason == .rejected(code: expected), "\(f.initiator.port) \(x)")
                #expect(expected == 7 || x.request?.targetPort == 16892)
            default:
                Issue.record("\(f.initiator.port): \(d.state)")
            }
        }
        #expect(targets.contains("127.0.0.1:16891") && targets.contains("127.0.0.1:16969"))
        #expect(mse == 1)
    }
}
