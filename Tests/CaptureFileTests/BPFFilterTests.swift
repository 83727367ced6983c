// BPF filters through libpcap: same matches as tcpdump's filter, per link type, clear errors.
import CaptureFile
import Foundation
import PcapFilter
import Testing
import TorscanTestSupport

@Suite struct BPFFilterTests {
    @Test func filtersBittorrentPcapLikeTcpdump() throws {
        let path = SampleCaptureTests.sample("bittorrent.pcap")
        let set = try BPFFilterSet(expression: "host 82.57.97.83")
        let reader = try CaptureReader(path: path)
        var matched: [Int] = []
        _ = reader.forEachRecord { r in
            if set.matches(r) { matched.append(r.frameNumber) }
            return true
        }
        // tcpdump 4.99 -r bittorrent.pcap -n 'host 82.57.97.83' | wc -l
        #expect(matched.count == 10)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") {
            let tcpdump = try tcpdumpCount(path, "host 82.57.97.83")
            #expect(matched.count == tcpdump)
        }
    }

    @Test func compiledPerLinkType() throws {
        let set = try BPFFilterSet(expression: "ip")
        let ipv4 = hexBytes("45000014 00000000 40060000 0a000001 0a000002")
        let eth = hexBytes("ffffffffffff 001122334455 0800") + ipv4
        let rawFilter = try BPFFilter(expression: "ip", linkType: .raw)
        ipv4.withUnsafeBytes { raw in
            let r = CaptureRecord(frameNumber: 1, timestamp: .init(nanoseconds: 0), linkType: .raw, interfaceID: 0,
                                  capturedLength: raw.count, originalLength: raw.count, fileOffset: 0, data: raw)
            #expect(set.matches(r))
            #expect(rawFilter.matches(r))
        }
        eth.withUnsafeBytes { raw in
            let r = CaptureRecord(frameNumber: 2, timestamp: .init(nanoseconds: 0), linkType: .ethernet, interfaceID: 0,
                                  capturedLength: raw.count, originalLength: raw.count, fileOffset: 0, data: raw)
            #expect(set.matches(r))
        }
        // The same bytes as Ethernet: the ethertype would be 0x0000, not IP.
        ipv4.withUnsafeBytes { raw in
            let r = CaptureRecord(frameNumber: 3, timestamp: .init(nanoseconds: 0), linkType: .ethernet, interfaceID: 0,
                                  capturedLength: raw.count, originalLength: raw.count, fileOffset: 0, data: raw)
            #expect(!set.matches(r))
        }
    }

    @Test func badExpressionsSayWhy() {
        #expect(throws: BPFFilterError.self) { try BPFFilterSet(expression: "tcp port") }
        do {
            _ = try BPFFilter(expression: "host 999.1.1.1", linkType: .ethernet)
            Issue.record("accepted a bad address")
        } catch {
            #expect(error.description.contains("host 999.1.1.1"))
            #expect(error.message.isEmpty == false)
        }
    }
}

func tcpdumpCount(_ path: String, _ filter: String) throws -> Int {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/tcpdump")
    p.arguments = ["-r", path, "-n", filter]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").count
}
