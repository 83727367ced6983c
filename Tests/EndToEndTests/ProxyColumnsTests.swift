// The proxy columns (via, target, attributed_to; flow rows' attributed_to, linked_frame) through the
// built binary on SampleCaptures/socks5 (libtorrent through microsocks 10.77.0.1:1080, both legs):
// CSV, per-day CSV, JSON, NDJSON and flows; `verify` keys rows by via and catches an edited
// attributed_to or target; `extract` of the proxy's address keeps both of its rows derivable.
import Foundation
import Testing
@testable import TorscanCore
import TorscanTestSupport

@Suite(.serialized) struct ProxyColumnsTests {
    static let capture = "SampleCaptures/socks5/capture.pcap"
    static let infohash = "29fe705ce4db7cb8ad5ba4dcc56617432fc74605"

    func csv(_ text: String) throws -> [[String: String]] { try CSVTable(parsing: text).dictionaries }

    @Test func csvAndPerDayRowsNameTheProxyPath() throws {
        for args in [["--csv"], ["--per-day", "--csv"]] {
            let r = try Torscan.run([Self.capture] + args)
            #expect(r.status == 0, "\(r.stderr)")
            let rows = try csv(r.stdout).map { [$0["ip"]!, $0["via"]!, $0["target"]!, $0["attributed_to"]!] }
            #expect(rows == [["10.77.0.1", "", "", "10.77.0.4"],
                             ["10.77.0.1", "10.77.0.1:1080", "10.77.0.3:51413", ""],
                             ["10.77.0.3", "", "", ""],
                             ["10.77.0.4", "10.77.0.1:1080", "10.77.0.2:6969;10.77.0.3:51413", ""]], "\(args)")
        }
    }

    @Test func jsonAndNDJSONRowsNameTheProxyPath() throws {
        let r = try Torscan.run([Self.capture, "--ndjson"])
        let rows = try r.stdout.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(rows.count == 4)
        #expect(rows[0]["via"] is NSNull && rows[0]["attributed_to"] as? [String] == ["10.77.0.4"] && rows[0]["target"] as? [String] == [])
        #expect(rows[3]["via"] as? String == "10.77.0.1:1080" && rows[3]["target"] as? [String] == ["10.77.0.2:6969", "10.77.0.3:51413"])
        let j = try Torscan.run([Self.capture, "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        let jrows = try #require(obj["rows"] as? [[String: Any]])
        #expect(jrows.map { $0["via"] as? String ?? "" } == ["", "10.77.0.1:1080", "", "10.77.0.1:1080"])
    }

    @Test func flowRowsLinkTheLegs() throws {
        let r = try Torscan.run(["flows", Self.capture, "--csv"])
        let rows = try csv(r.stdout)
        let proxyLegs = rows.filter { $0["attributed_to"] == "10.77.0.4" }
        #expect(proxyLegs.map { $0["first_frame"]! } == ["55", "86", "386", "414"])
        #expect(proxyLegs.map { $0["linked_frame"]! } == ["45", "71", "372", "406"])
        #expect(rows.filter { $0["tunnel"] == "socks5" && !$0["linked_frame"]!.isEmpty }.map { $0["linked_frame"]! } == ["55", "86", "386", "414"])
    }

    @Test func verifyKeysByViaAndChecksTheProxyColumns() throws {
        let dir = try Python.temporaryDirectory("torscan-proxy-verify")
        defer { try? FileManager.default.removeItem(at: dir) }
        for args in [["--csv"], ["--per-day", "--csv"], ["--ndjson"]] {
            let path = dir.appendingPathComponent("r").path
            let made = try Torscan.run([Self.capture] + args + ["--out", path, "--quiet"])
            #expect(made.status == 0)
            let v = try Torscan.run(["verify", path, Self.capture])
            #expect(v.status == 0 && v.stdout.contains("verify: 4 rows, 4 hold, 0 fail"), "\(args): \(v.stdout)")
            #expect(v.stdout.contains("OK row 2 10.77.0.1 \(Self.infohash) via 10.77.0.1:1080"), "\(args)")
        }
        // An edited attribution, and an edited target, fail.
        let good = try Torscan.run([Self.capture, "--csv"]).stdout
        for (from, to, column) in [(",10.77.0.4\r\n", ",10.77.0.9\r\n", "attributed_to"), ("10.77.0.2:6969;", "10.77.0.2:6970;", "target")] {
            let path = dir.appendingPathComponent("bad.csv").path
            try good.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
            let v = try Torscan.run(["verify", path, Self.capture])
            #expect(v.status == 4 && v.stdout.contains("FAIL row") && v.stdout.contains("column \(column) "), "\(column): \(v.stdout)")
        }
    }
}
