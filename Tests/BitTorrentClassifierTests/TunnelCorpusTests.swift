// TunnelDetector over every TCP flow of every public capture (../shared/corpus/public; skipped when
// absent): tunnels open only in the SOCKS captures, with the targets tshark's socks dissector shows,
// and no other flow of the corpus is taken for a proxy handshake.
import Foundation
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

@Suite struct TunnelCorpusTests {
    @Test func onlySOCKSCapturesHoldTunnels() throws {
        guard let root = MSECorpusTests.corpus else { print("TunnelCorpusTests: corpus absent, skipped"); return }
        var flows = 0, opened: [String: [String]] = [:], failed: [String] = []
        for dir in ["negative", "bittorrent"] {
            for url in TestPaths.files(under: root.appendingPathComponent(dir)) where ["pcap", "pcapng"].contains(url.pathExtension) {
                guard let cap = TestCapture(url: url) else { continue }
                for f in cap.tcp where !f.segments.isEmpty {
                    flows += 1
                    let r = TunnelRun.flow(f)
                    switch r.detector.state {
                    case .open(let i): opened[url.lastPathComponent, default: []].append("\(i.kind.rawValue) \(i.target):\(i.targetPort)")
                    case .failed(let x): failed.append("\(url.lastPathComponent) \(x.reason)")
                    default: break
                    }
                }
            }
        }
        print("Tunnels in corpus: \(flows) TCP flows; open \(opened.sorted { $0.key < $1.key }); failed \(failed)")
        #expect(Set(opened.keys) == ["socks.pcap", "socks4-https.pcap", "socks5-http-302.pcap", "socks5-rdp.pcap",
                                      "socks5-smtp-503.pcap", "zeek_socks.pcap"])
        // nDPI's socks.pcap merges captures: tshark decodes the three flows on port 1080; the fourth
        // (10.0.0.2:1637 -> 10.0.0.1:21477, the bytes of arkime's socks5-http-302) is SOCKS5 on a port
        // tshark's dissector does not watch, and is found here from the handshake alone.
        #expect(opened["socks.pcap"]?.sorted() == ["socks4 93.184.216.119:80", "socks4a www.example.com:80",
                                                   "socks5 93.184.216.119:80", "socks5 www.google.com:80"])
        #expect(opened["socks4-https.pcap"] == ["socks4a login.live.com:443"])
        #expect(opened["zeek_socks.pcap"] == ["socks4 192.150.187.12:80"])
        #expect(failed.isEmpty)
    }
}
