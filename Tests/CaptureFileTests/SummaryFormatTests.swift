// `torscan info` output: the JSON keys and values others rely on, text lines, escaping.
import CaptureFile
import Reports
import Foundation
import Testing

@Suite struct SummaryFormatTests {
    static func entries() throws -> [CaptureSummaryFormat.Entry] {
        let good = SampleCaptureTests.sample("bittorrent.pcap")
        let cut = tempFile(Array(Pcap.file(n: 3).dropLast(5)), suffix: "\"odd\".pcap")
        var out: [CaptureSummaryFormat.Entry] = []
        for p in [good, cut, "/nonexistent/x.pcap"] {
            do throws(CaptureOpenError) { out.append((p, .success(try CaptureSummary.read(path: p)))) } catch { out.append((p, .failure(error))) }
        }
        return out
    }

    @Test func jsonHasTheContractKeys() throws {
        let json = CaptureSummaryFormat.json(try Self.entries())
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(array.count == 3)
        let g = array[0]
        for key in ["path", "format", "byte_order", "ts_resolution", "compression", "link_types", "packets", "bytes",
                    "first_seen", "last_seen", "snaplen", "truncated_by_snaplen", "anomalies", "damage", "sha256"] {
            #expect(g[key] != nil, "missing \(key)")
        }
        #expect(g["format"] as? String == "pcap")
        #expect(g["link_types"] as? [String] == ["ethernet"])
        #expect(g["packets"] as? Int == 299)
        #expect(g["first_seen"] as? String == "2016-02-14T17:12:47.246718000Z")
        #expect(g["last_seen"] as? String == "2016-02-14T17:13:02.106134000Z")
        #expect(g["sha256"] as? String == "84b6a5fa9c8f4088b9845ee72f98c7970851fb74013220295aeb6399b01a8a99")
        #expect((g["anomalies"] as? [String: Int])?.isEmpty == true)
        let d = array[1]
        #expect((d["path"] as? String)?.hasSuffix("\"odd\".pcap") == true)   // quotes survive escaping
        #expect(d["packets"] as? Int == 2)
        #expect((d["anomalies"] as? [String: Int]) == ["truncated_record": 1])
        #expect((d["damage"] as? [String])?.first?.contains("frame 3: truncated_record") == true)
        #expect(array[2]["reason"] as? String == "missing")
    }

    /// Paths and messages are escaped as in every other JSON report (JSONValue): control
    /// characters and DEL as \u00XX, quotes and backslashes with a backslash.
    @Test func stringsAreEscapedAsInTheOtherJSONReports() {
        #expect(CaptureSummaryFormat.quote("a\u{7f}b\u{1}\"\\\n") == #""a\u007fb\u0001\"\\\n""#)
    }

    @Test func textNamesEverything() throws {
        let text = CaptureSummaryFormat.text(try Self.entries())
        #expect(text.contains("Packets:              299\n"))
        #expect(text.contains("First packet:         2016-02-14T17:12:47.246718000Z\n"))
        #expect(text.contains("Anomalies:            truncated_record=1\n"))
        #expect(text.contains("Error:                missing"))
    }

    @Test func noTimesWhenSomePacketHasNone() {
        var r = CaptureReadResult()
        r.firstTimestamp = .init(nanoseconds: 1); r.lastTimestamp = .init(nanoseconds: 2); r.packetsWithoutTimestamp = 1
        #expect(CaptureSummaryFormat.timeSpan(r).first == nil)
        r.packetsWithoutTimestamp = 0
        #expect(CaptureSummaryFormat.timeSpan(r).last?.nanoseconds == 2)
    }
}
