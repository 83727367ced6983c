// Committed expected reports (SampleCaptures/expected/), checked by hand against each scenario's
// truth.json when written: the same addresses, infohashes and confidences as the truth, 262,144 bytes
// and 16 pieces each way (every sample torrent is 256 KiB in 16 pieces), `verified` only where the
// info dictionary came over ut_metadata (dht-magnet). Any change to a report shows up here as a diff.
// TORSCAN_UPDATE_GOLDEN=1 rewrites them (then check the diff against truth.json again).
import Foundation
import Testing
import TorscanTestSupport

@Suite struct GoldenReportTests {
    static let cases: [(capture: String, expected: String)] = [
        ("SampleCaptures/tcp-http-tracker/capture.pcap", "tcp-http-tracker.evidence.csv"),
        ("SampleCaptures/utp/capture.pcap", "utp.evidence.csv"),
        ("SampleCaptures/socks5/capture.pcap", "socks5.evidence.csv"),
        ("SampleCaptures/dht-magnet/capture.pcap", "dht-magnet.evidence.csv"),
        ("SampleCaptures/public/bittorrent.pcap", "public-bittorrent.evidence.csv"),
    ]

    @Test(arguments: zip(cases.map(\.capture), cases.map(\.expected)))
    func evidenceMatchesTheCommittedReport(capture: String, expected: String) throws {
        let r = try Torscan.run([capture, "--csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let url = TestPaths.sampleCaptures.appendingPathComponent("expected").appendingPathComponent(expected)
        if ProcessInfo.processInfo.environment["TORSCAN_UPDATE_GOLDEN"] == "1" {
            try Data(r.stdout.utf8).write(to: url)
        }
        let want = try String(contentsOf: url, encoding: .utf8)
        #expect(r.stdout == want, "\(capture): report differs from \(expected)")
    }
}
