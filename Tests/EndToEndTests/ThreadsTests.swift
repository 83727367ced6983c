// `--threads N` (issue 6): flows are spread over workers by a symmetric hash and the shards merged at
// the end; every report must be byte-identical whatever N is.
import Foundation
import Testing
import TorscanTestSupport
import TorscanCore

@Suite(.serialized) struct ThreadsTests {
    /// All of SampleCaptures/ (13 captures of real clients: peer wire, uTP, DHT, trackers, LSD, MSE,
    /// SOCKS5, IPv6) as one run, and each capture alone, with 1, 2 and 3 threads, in every format.
    /// The JSON run object echoes the command line: only the `--threads N` given may differ there.
    @Test func reportsAreByteIdenticalWhateverTheThreadCount() throws {
        let captures = try FileManager.default.contentsOfDirectory(atPath: TestPaths.packageRoot.appendingPathComponent("SampleCaptures").path)
            .filter { FileManager.default.fileExists(atPath: TestPaths.packageRoot.appendingPathComponent("SampleCaptures/\($0)/capture.pcap").path) }
            .sorted().map { "SampleCaptures/\($0)/capture.pcap" }
        #expect(captures.count >= 10)
        for inputs in [["SampleCaptures/"]] + captures.map({ [$0] }) {
            for args in [["--csv"], ["--per-day", "--csv"], ["--ndjson"], ["--json"], ["--per-day", "--json"], ["flows", "--csv"]] {
                let isFlows = args.first == "flows"
                func command(threads n: String) -> [String] {
                    // --threads first, so that the JSON's echo of it is easy to take out.
                    isFlows ? ["flows", "--threads", n] + inputs + args.dropFirst() : ["--threads", n] + inputs + args
                }
                let one = try Torscan.run(command(threads: "1"))
                #expect(one.status == 0, "\(command(threads: "1")): \(one.stderr)")
                for n in ["2", "3"] {
                    let many = try Torscan.run(command(threads: n))
                    #expect(Self.withoutThreadsArgument(many.stdout) == Self.withoutThreadsArgument(one.stdout),
                            "\(command(threads: n)) differs from --threads 1")
                }
            }
        }
        // A run with evidence at all (the comparison above is not between empty reports).
        let all = try Torscan.run(["SampleCaptures/", "--csv", "--threads", "2"])
        #expect(all.stdout.split(separator: "\r\n").count > 10)
    }

    /// The JSON run object without the `"--threads", "N",` its arguments begin with.
    static func withoutThreadsArgument(_ json: String) -> String {
        json.replacingOccurrences(of: #""--threads",\s*"[0-9]+",\s*"#, with: "", options: .regularExpression)
    }

    /// The JSON comparison above is not vacuous: flows were open at once and the echo taken out was there.
    @Test func jsonCountsOpenFlows() throws {
        let r = try Torscan.run(["--threads", "2", "SampleCaptures/", "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let counts = try #require((obj["run"] as? [String: Any])?["counts"] as? [String: Any])
        #expect(r.stdout.contains("\"--threads\"") && !Self.withoutThreadsArgument(r.stdout).contains("\"--threads\""))
        #expect((counts["peak_live_flows"] as? Int ?? 0) > 50 && counts["peak_live_flows_sampled_every_s"] as? Int == 1, "\(counts)")
    }

    /// The peak counts flows open at once, not flows a table still holds: 3,000 UDP flows, then
    /// 3,000 others 200 s later (the first have timed out at 120 s). A shard that gets none of the
    /// second wave never sweeps its first-wave flows, so the tables' peaks summed exceed one table's;
    /// the report's figure must not.
    @Test func flowsThatTimedOutDoNotCountWhateverTheThreadCount() throws {
        let a = try Self.udpFlows(3_000, distinctAddresses: true, name: "wave-a")
        let b = try Self.udpFlows(3_000, distinctAddresses: true, name: "wave-b", first: 3_000, startSecond: 200)
        defer { for u in [a, b] { try? FileManager.default.removeItem(at: u) } }
        let one = try Torscan.run(["--threads", "1", a.path, b.path, "--json"])
        var held: [Int] = []
        for n in [1, 2, 3] {
            let r = try Torscan.run(["--threads", "\(n)", a.path, b.path, "--json"])
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let counts = try #require((obj["run"] as? [String: Any])?["counts"] as? [String: Any])
            #expect(counts["peak_live_flows"] as? Int == 3_000 && counts["flows_ended_idle_timeout"] as? Int == 3_000, "--threads \(n): \(counts)")
            #expect(Self.withoutThreadsArgument(r.stdout) == Self.withoutThreadsArgument(one.stdout), "--threads \(n)")
            var options = AnalysisOptions()
            options.threads = n
            held.append(try Pipeline.analyze(paths: [a.path, b.path], options: options).peakFlowsInTables)
        }
        // What makes this test able to fail: with threads, the tables held more at once than were open.
        #expect(held[0] == 3_000 && held[1] > 3_000 && held[2] > 3_000, "\(held)")
    }

    /// At the flow limit, threads do not evict flows that one thread keeps: the limit holds for the
    /// shards' sum (FlowBudget), not a share each. 20,000 UDP flows live at once, one datagram each,
    /// with --max-flows 20000.
    @Test func noThreadCountEvictsBelowTheFlowLimit() throws {
        let url = try Self.udpFlows(20_000, distinctAddresses: true, name: "flow-limit")
        defer { try? FileManager.default.removeItem(at: url) }
        for n in ["1", "2", "3"] {
            let counts = try Self.counts([url.path, "--json", "--max-flows", "20000", "--threads", n])
            #expect(counts["flows"] as? Int == 20_000 && counts["flows_ended_evicted"] as? Int == 0, "--threads \(n): \(counts)")
        }
    }

    /// Flows between one address pair all land in one shard (the pipeline shards by address pair):
    /// 40,000 live UDP flows between a CGNAT-like client address and one server, far below
    /// --max-flows, must not be evicted whatever the thread count, though one shard holds them all,
    /// more than its share of the limit (FlowBudget).
    @Test func flowsOfOneAddressPairAreNotEvictedBelowTheFlowLimit() throws {
        let url = try Self.udpFlows(40_000, distinctAddresses: false, name: "one-pair")
        defer { try? FileManager.default.removeItem(at: url) }
        for n in ["1", "2", "3"] {
            let counts = try Self.counts([url.path, "--json", "--threads", n])
            #expect(counts["flows"] as? Int == 40_000 && counts["flows_ended_evicted"] as? Int == 0, "--threads \(n): \(counts)")
        }
    }

    /// Above the limit, threads still keep memory bounded: 30,000 live flows with --max-flows 10000
    /// keep at most the limit and a small margin in the flow tables (the shards' peaks summed: here,
    /// where no flow ends but by eviction, the true peak), and the report's open flows stay under it.
    @Test func threadsKeepLiveFlowsNearTheLimitAboveIt() throws {
        let url = try Self.udpFlows(30_000, distinctAddresses: true, name: "above-limit")
        defer { try? FileManager.default.removeItem(at: url) }
        for n in [1, 2, 3] {
            var options = AnalysisOptions()
            options.analyzer.maxFlows = 10_000
            options.threads = n
            let run = try Pipeline.analyze(paths: [url.path], options: options)
            let counts = Dictionary(uniqueKeysWithValues: run.counts)
            let held = run.peakFlowsInTables, open = try #require(counts["peak_live_flows"]), evicted = try #require(counts["flows_ended_evicted"])
            // FlowBudget: the shards' sum is published within 1/64 of the limit, and a shard with no
            // flow of its own to evict may hold one over (8 shards a thread; 16 allowed for).
            let margin = 10_000 / 64 + 16 * 3
            #expect(held >= 10_000 && held <= 10_000 + margin && evicted == 30_000 - held, "--threads \(n): \(run.counts), held \(held)")
            #expect(open >= 10_000 - margin && open <= held, "--threads \(n): \(run.counts), held \(held)")
        }
    }

    /// A pcap of `count` UDP flows, one datagram each, a millisecond apart (all live at the end):
    /// from `count` client addresses, or from one address and `count` ports, to 192.0.2.1:53.
    /// `first` and `startSecond` make a later wave of other flows.
    static func udpFlows(_ count: Int, distinctAddresses: Bool, name: String, first: Int = 0, startSecond: Int = 0) throws -> URL {
        let datagrams = (first..<(first + count)).map { i in
            let port = distinctAddresses ? 1024 + i % 50_000 : 1024 + i
            let client: [UInt8] = distinctAddresses ? [10, UInt8(i >> 16), UInt8(i >> 8 & 0xff), UInt8(i & 0xff)] : [100, 64, 0, 1]
            return RunClockTests.datagram(from: client, port: port, at: 1_765_000_000 + startSecond + (i - first) / 1000,
                                          micros: ((i - first) % 1000) * 1000)
        }
        return try RunClockTests.pcap(datagrams, name: name)
    }

    static func counts(_ args: [String]) throws -> [String: Any] {
        let r = try Torscan.run(args)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require((obj["run"] as? [String: Any])?["counts"] as? [String: Any])
    }

    @Test func standardInputUsesOneThreadAndGivesTheSameReport() throws {
        let path = "SampleCaptures/tcp-http-tracker/capture.pcap"
        let data = try Data(contentsOf: TestPaths.packageRoot.appendingPathComponent(path))
        let file = try Torscan.run([path, "--csv", "--threads", "1"])
        let piped = try Torscan.run(["-", "--csv", "--threads", "2"], stdin: data)
        // The capture column names the input (standard input is "-", escaped as '- for spreadsheets).
        func strip(_ s: String) -> [String] {
            s.split(separator: "\r\n").map { $0.replacingOccurrences(of: ",\(path),", with: ",-,").replacingOccurrences(of: ",'-,", with: ",-,") }
        }
        #expect(piped.status == 0)
        #expect(strip(piped.stdout) == strip(file.stdout))
    }

    @Test func threadsMustBePositive() throws {
        let r = try Torscan.run(["SampleCaptures/tcp-http-tracker/capture.pcap", "--csv", "--threads", "0"])
        #expect(r.status != 0)
    }
}

/// The run clock restarts at a file that begins before it: SampleCaptures/public holds
/// pcapng-example.pcapng.zst (2015) whose last record is clamped to 2262, read before bittorrent.pcap
/// (2016). Flows of the later files must not all look idle (one flow per packet).
@Suite struct RunClockTests {
    @Test func aBogusLastTimestampDoesNotSplitTheFlowsOfLaterFiles() throws {
        let r = try Torscan.run(["flows", "SampleCaptures/public", "--csv", "--threads", "1"])
        #expect(r.status == 0 || r.status == 3, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\r\n").dropFirst().filter { $0.contains("/bittorrent.pcap,") }
        let packets = rows.map { Int($0.split(separator: ",")[7]) ?? 0 }
        #expect(!rows.isEmpty)
        #expect(packets.contains { $0 > 50 }, "bittorrent.pcap's flows were split: \(rows.count) rows, at most \(packets.max() ?? 0) packets")
        #expect(rows.count < packets.reduce(0, +) / 4)
    }

    /// A flow idle before the clock restarts ends there, whatever else its table holds: file A has
    /// one datagram of flow F, then 200 s of another flow G (one a second, between other addresses);
    /// file B begins 150 s back (a restart) with one more datagram of F. At the restart, F has been
    /// idle 200 s (timeout 120 s), so B's datagram starts a second flow: with one thread (one table,
    /// swept by G's packets) and with several (F's shard got no packet after F's own, so no sweep
    /// ended it, and it took B's datagram: one flow of 2 packets before FlowTable.restartClock).
    @Test func aFlowIdleBeforeTheClockRestartsEndsWhateverTheThreadCount() throws {
        let t0 = 1_765_000_000
        let g = (0..<200).map { i in Self.datagram(from: [10, 9, 9, 9], port: 5000, at: t0 + 1 + i) }
        let a = try Self.pcap([Self.datagram(from: [10, 1, 1, 1], port: 4000, at: t0)] + g, name: "restart-a")
        let b = try Self.pcap([Self.datagram(from: [10, 1, 1, 1], port: 4000, at: t0 + 50)], name: "restart-b")
        defer { for u in [a, b] { try? FileManager.default.removeItem(at: u) } }
        var reports: [String] = []
        for n in ["1", "2", "3"] {
            let r = try Torscan.run(["flows", "--threads", n, a.path, b.path, "--csv"])
            #expect(r.status == 0, "\(r.stderr)")
            let f = r.stdout.split(separator: "\r\n").filter { $0.contains(",10.1.1.1,4000,") }
            #expect(f.count == 2, "--threads \(n): \(f)")
            #expect(f.allSatisfy { $0.split(separator: ",")[7] == "1" }, "--threads \(n): \(f)")
            reports.append(r.stdout)
        }
        #expect(Set(reports).count == 1)
    }

    /// A pcap (microseconds) of Ethernet frames.
    static func pcap(_ frames: [(seconds: Int, micros: Int, frame: [UInt8])], name: String) throws -> URL {
        var pcap: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]
        for (t, us, frame) in frames {
            for v in [t, us, frame.count, frame.count] { pcap += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24 & 0xff)] }
            pcap += frame
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("torscan-\(name)-\(getpid()).pcap")
        try Data(pcap).write(to: url)
        return url
    }

    /// A 4-byte UDP datagram from `client`:`port` to 192.0.2.1:53 at `seconds` and `micros`.
    static func datagram(from client: [UInt8], port: Int, at seconds: Int, micros: Int = 0) -> (seconds: Int, micros: Int, frame: [UInt8]) {
        func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        let udp = be16(port) + be16(53) + be16(12) + [0, 0, 1, 2, 3, 4]
        let ip: [UInt8] = [0x45, 0] + be16(20 + udp.count) + [0, 0, 0x40, 0, 64, 17, 0, 0] + client + [192, 0, 2, 1]
        return (seconds, micros, [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0] + ip + udp)
    }
}

/// The public BitTorrent captures read together (overlapping times, timestamp regressions: the case
/// that made thread counts disagree before flows ended by their own idleness), and each file alone.
@Suite struct CorpusThreadsTests {
    static let corpus = TestPaths.publicCorpus

    /// The uncompressed captures of a corpus folder (compressed input makes a run use one thread).
    static func captures(in folder: String) throws -> [String] {
        let dir = corpus!.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func publicCapturesGiveTheSameReportsWhateverTheThreadCount() throws {
        let files = try Self.captures(in: "bittorrent")
        #expect(files.count >= 20)
        for inputs in [files] + files.map({ [$0] }) {
            for args in [["--csv"], ["--json"], ["flows", "--csv"]] {
                func command(threads n: String) -> [String] {
                    args.first == "flows" ? ["flows", "--threads", n] + inputs + ["--csv"] : ["--threads", n] + inputs + args
                }
                let one = try Torscan.run(command(threads: "1"))
                let two = try Torscan.run(command(threads: "2"))
                #expect(ThreadsTests.withoutThreadsArgument(one.stdout) == ThreadsTests.withoutThreadsArgument(two.stdout),
                        "\(inputs.count == 1 ? inputs[0] : "all") \(args)")
            }
        }
    }

    /// The negative corpus as one run: merged captures whose times overlap (the clock restarts at
    /// several files). Before FlowTable.restartClock, one GTP flow of rtmp.pcap took four datagrams
    /// of false_positives.pcapng with one thread and not with two.
    @Test(.enabled(if: corpus != nil, "needs ../shared/corpus/public"))
    func negativeCapturesAsOneRunGiveTheSameFlowsWhateverTheThreadCount() throws {
        let files = try Self.captures(in: "negative")
        #expect(files.count >= 60)
        let reports = try ["1", "2", "3"].map { n in try Torscan.run(["flows", "--threads", n] + files + ["--csv", "--quiet"]).stdout }
        #expect(reports[0].split(separator: "\r\n").count > 1_000)
        #expect(reports[1] == reports[0] && reports[2] == reports[0])
    }
}
