// The bundled public captures (SampleCaptures/public, provenance in PROVENANCE.tsv): no ../shared
// needed. Expected values are capinfos' (Wireshark 4.0) and sha256sum's.
import CaptureFile
import Foundation
import Testing
import TorscanTestSupport
import WireBytes

@Suite struct SampleCaptureTests {
    static func sample(_ name: String) -> String { TestPaths.sampleCaptures.appendingPathComponent("public/\(name)").path }

    @Test func bittorrentPcap() throws {
        let s = try CaptureSummary.read(path: Self.sample("bittorrent.pcap"))
        #expect(s.format == .pcap && s.compression == .none && s.byteOrder == .little)
        #expect(s.linkTypes == [.ethernet])
        #expect(s.result.packets == 299)
        #expect(s.result.bytes == 305_728)
        #expect(s.result.firstTimestamp?.rfc3339(fractionDigits: 6) == "2016-02-14T17:12:47.246718Z")
        #expect(s.result.lastTimestamp?.rfc3339(fractionDigits: 6) == "2016-02-14T17:13:02.106134Z")
        #expect(s.sha256 == "84b6a5fa9c8f4088b9845ee72f98c7970851fb74013220295aeb6399b01a8a99")
        #expect(s.result.damage.isEmpty)
    }

    @Test func bittorrentPcapng() throws {
        let s = try CaptureSummary.read(path: Self.sample("bittorrent_tcp_miss.pcapng"))
        #expect(s.format == .pcapng)
        #expect(s.result.packets == 100)
        #expect(s.result.firstTimestamp?.nanoseconds == 1_673_446_123_917_965_000)
        #expect(s.result.lastTimestamp?.nanoseconds == 1_673_446_124_229_821_000)
        #expect(s.sha256 == "daafd00a8a0f45d11433e2f0dd2254f24f5c48f4d1932c654f0cc1b27244cce0")
    }

    @Test func gzipPcap() throws {
        let s = try CaptureSummary.read(path: Self.sample("zeek_iso-download.pcap.gz"))
        #expect(s.compression == .gzip && s.format == .pcap)
        #expect(s.result.packets == 289)
        #expect(s.result.firstTimestamp?.nanoseconds == 1_708_505_656_503_033_000)
        #expect(s.result.lastTimestamp?.nanoseconds == 1_708_505_656_505_381_000)
        #expect(s.sha256 == "7dddb3bb2495a321379a875be4151bc022c93bb5e1a068fd33ff0ba0111a2b62")
        #expect(s.result.damage.isEmpty)
    }

    @Test func zstdPcapngWithTwoInterfaces() throws {
        let s = try CaptureSummary.read(path: Self.sample("pcapng-example.pcapng.zst"))
        #expect(s.compression == .zstd && s.format == .pcapng)
        #expect(s.linkTypes == [.ethernet, .linuxSLL])
        #expect(s.timestampResolutions == [.nanoseconds, .microseconds])
        #expect(s.result.packets == 159)
        #expect(s.result.truncatedBySnaplen == 39)
        // Interface 1 stamps lie past 2262 (wiretap shows 18446744073204 s): clamped and counted.
        #expect(s.result.anomalies[.timestampOverflow] == 100)
        #expect(s.result.firstTimestamp?.nanoseconds == 1_422_527_998_578_402_281)
        #expect(s.sha256 == "6d8a34ec75e9ee54a3b0c265272a18ec6a2d6549d9e0ec3c8b4bdb50b760b163")
    }

    @Test func directoryExpansionIsSortedAndFiltered() throws {
        let dir = TestPaths.sampleCaptures.appendingPathComponent("public").path
        let files = try CaptureInputs.expand([dir])
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent } ==
                ["bittorrent.pcap", "bittorrent_tcp_miss.pcapng", "pcapng-example.pcapng.zst", "zeek_iso-download.pcap.gz"])
        #expect(try CaptureInputs.expand(["-", "/x/y.pcap"]) == ["-", "/x/y.pcap"])   // named paths are kept
    }
}
