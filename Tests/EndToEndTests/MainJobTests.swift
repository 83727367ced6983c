// The main job as users run it: the built binary on captures made by real clients
// (SampleCaptures/, Scripts/make-sample-captures) and on public captures.
import Foundation
import Testing
import TorscanTestSupport

@Suite(.serialized) struct MainJobTests {
    static let transfer = "SampleCaptures/tcp-http-tracker/capture.pcap"

    func rows(_ csv: String) -> [[String: String]] {
        let lines = csv.split(separator: "\r\n").map(String.init)
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else { return [] }
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    /// Issue 4, "Done when": two hosts exchange a torrent (aria2 seeds, Transmission leeches; truth.json
    /// from the generator). Both hosts, the infohash, `transfer`, bytes and pieces in each direction
    /// (16 pieces of 16 KiB), first/last seen inside the capture, and first_frame = each host's handshake.
    @Test func twoHostsExchangingATorrent() throws {
        let r = try Torscan.run([Self.transfer, "--csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("ip,infohash,first_seen,last_seen,active_days,confidence,signals,flows,peers,bytes_up,bytes_down,pieces_up,pieces_down,pieces_verified,client,torrent_name,capture,first_frame,via,target,attributed_to\r\n"))
        let byIP = Dictionary(uniqueKeysWithValues: rows(r.stdout).map { ($0["ip"]!, $0) })
        let seeder = try #require(byIP["10.77.0.2"]), leecher = try #require(byIP["10.77.0.3"])
        for row in [seeder, leecher] {
            #expect(row["infohash"] == "ec75cc6e5031b8d3604d21136a2d47600c4cc2f9")
            #expect(row["confidence"] == "transfer")
            #expect(row["signals"] == "extension;handshake;piece;tracker_http")
        }
        #expect(seeder["bytes_up"] == "262144" && seeder["pieces_up"] == "16" && seeder["bytes_down"] == "0")
        #expect(leecher["bytes_down"] == "262144" && leecher["pieces_down"] == "16" && leecher["bytes_up"] == "0")
        #expect(seeder["client"] == "aria2/1.36.0" && leecher["client"] == "Transmission 3.00")
        if toolExists("tshark") {
            // first_frame is the frame Wireshark shows as that host's handshake.
            let t = try runTool("tshark", ["-r", Self.transfer, "-Y", "bittorrent.info_hash",
                                           "-T", "fields", "-e", "frame.number", "-e", "ip.src"], in: TestPaths.packageRoot)
            var firstHandshake: [String: String] = [:]
            for line in t.stdout.split(separator: "\n") {
                let f = line.split(separator: "\t").map(String.init)
                if f.count == 2, firstHandshake[f[1]] == nil { firstHandshake[f[1]] = f[0] }
            }
            #expect(firstHandshake["10.77.0.2"] == seeder["first_frame"])
            #expect(firstHandshake["10.77.0.3"] == leecher["first_frame"])
            // first/last seen lie inside the capture's span (capinfos-style bounds from `torscan info`).
            let info = try Torscan.run(["info", "--json", "--no-hash", Self.transfer])
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [[String: Any]]).first!
            let first = try #require(obj["first_seen"] as? String), last = try #require(obj["last_seen"] as? String)
            for row in [seeder, leecher] {
                #expect(row["first_seen"]! >= String(first.prefix(26)) && row["last_seen"]! <= last)
            }
        } else {
            print("tshark not installed: frame check skipped")
        }
    }

    @Test func reportsAreByteIdenticalRunToRun() throws {
        for args in [["--csv"], ["--json"], ["--per-day", "--csv"], ["--ndjson"]] {
            let a = try Torscan.run(["SampleCaptures/"] + args), b = try Torscan.run(["SampleCaptures/"] + args)
            #expect(a.stdout == b.stdout, "\(args)")
            #expect(!a.stdout.isEmpty)
        }
        let flowsA = try Torscan.run(["flows", "SampleCaptures/", "--csv"]), flowsB = try Torscan.run(["flows", "SampleCaptures/", "--csv"])
        #expect(flowsA.stdout == flowsB.stdout)
    }

    @Test func perDayAddsTheDayColumn() throws {
        let r = try Torscan.run([Self.transfer, "--per-day", "--csv"])
        let header = r.stdout.prefix { $0 != "\r\n" }
        #expect(header.hasSuffix(",capture,first_frame,via,target,attributed_to,day"))
        #expect(rows(r.stdout).allSatisfy { $0["day"] == "2026-12-06" })
    }

    @Test func selectionOptions() throws {
        let none = try Torscan.run([Self.transfer, "--csv", "--infohash", String(repeating: "0", count: 40)])
        #expect(rows(none.stdout).isEmpty)
        let one = try Torscan.run([Self.transfer, "--csv", "--ip", "10.77.0.3/32"])
        #expect(rows(one.stdout).map { $0["ip"] } == ["10.77.0.3"])
        let filtered = try Torscan.run([Self.transfer, "--csv", "--filter", "udp"])  // no TCP: no peer wire, no evidence
        #expect(filtered.status == 0 && rows(filtered.stdout).isEmpty)
        let late = try Torscan.run([Self.transfer, "--csv", "--since", "2030-01-01"])
        #expect(rows(late.stdout).isEmpty)
    }

    @Test func exitStatusesAreTheDocumentedOnes() throws {
        #expect(try Torscan.run(["/nonexistent.pcap", "--csv"]).status == 66)
        #expect(try Torscan.run([Self.transfer, "--csv", "--filter", "tcp port"]).status == 64)
        #expect(try Torscan.run([Self.transfer, "--csv", "--infohash", "xyz"]).status == 64)
        // A truncated copy: read what can be read, say where it broke, exit 3.
        let data = try Data(contentsOf: TestPaths.packageRoot.appendingPathComponent(Self.transfer))
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("torscan-cut-\(getpid()).pcap")
        try data.prefix(data.count - 700).write(to: cut)
        defer { try? FileManager.default.removeItem(at: cut) }
        let r = try Torscan.run([cut.path, "--csv"])
        #expect(r.status == 3)
        #expect(r.stderr.contains(cut.path))
        #expect(rows(r.stdout).count == 2)
    }

    @Test func outWritesAtomicallyAndFailsCleanly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("torscan-out-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("evidence.csv").path
        let r = try Torscan.run([Self.transfer, "--csv", "--out", out])
        #expect(r.status == 0 && r.stdout.isEmpty)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == (try Torscan.run([Self.transfer, "--csv"])).stdout)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["evidence.csv"])  // no temporary left
        let bad = try Torscan.run([Self.transfer, "--csv", "--out", "/nonexistent-dir/evidence.csv"])
        #expect(bad.status == 73)
    }

    @Test func jsonRunObjectNamesInputsOptionsAndCounts() throws {
        let r = try Torscan.run([Self.transfer, "--json", "--ip", "10.77.0.0/24"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let run = try #require(obj["run"] as? [String: Any])
        let inputs = try #require(run["inputs"] as? [[String: Any]])
        #expect(inputs.first?["path"] as? String == Self.transfer)
        #expect((run["options"] as? [String: Any])?["ip"] as? [String] == ["10.77.0.0/24"])
        #expect((run["counts"] as? [String: Any])?["flows"] as? Int ?? 0 > 0)
        #expect((obj["rows"] as? [Any])?.count == 2)
    }

    @Test func standardInputIsACapture() throws {
        let data = try Data(contentsOf: TestPaths.packageRoot.appendingPathComponent(Self.transfer))
        let piped = try Torscan.run(["-", "--csv"], stdin: data)
        let direct = try Torscan.run([Self.transfer, "--csv"])
        #expect(rows(piped.stdout).map { $0["ip"]! + $0["bytes_up"]! } == rows(direct.stdout).map { $0["ip"]! + $0["bytes_up"]! })
    }
}

@Suite struct CustodyTests {
    /// Issue 8: the manifest names every input with its SHA-256 and packet count, and the SHA-256 of
    /// the report and workbook it accompanies; both equal what sha256sum says of the files.
    @Test func manifestRecordsInputsAndOutputs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("torscan-custody-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("e.csv").path, xlsx = dir.appendingPathComponent("e.xlsx").path
        let manifest = dir.appendingPathComponent("m.json").path
        let capture = MainJobTests.transfer
        let r = try Torscan.run([capture, "--csv", "--out", csv, "--xlsx", xlsx, "--manifest", manifest])
        #expect(r.status == 0, "\(r.stderr)")
        let m = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest))) as? [String: Any])
        func sha(_ path: String) throws -> String {
            String(try runTool("sha256sum", [path], in: TestPaths.packageRoot).stdout.prefix(64))
        }
        let input = try #require((m["inputs"] as? [[String: Any]])?.first)
        #expect(input["sha256"] as? String == (try sha(capture)))
        #expect(input["packets"] as? Int == 118)
        let outputs = try #require(m["outputs"] as? [[String: Any]])
        #expect(outputs.first { $0["role"] as? String == "report" }?["sha256"] as? String == (try sha(csv)))
        #expect(outputs.first { $0["role"] as? String == "workbook" }?["sha256"] as? String == (try sha(xlsx)))
        // A second run gives byte-identical report and workbook (the run times live only in the manifest).
        let (csvHash, xlsxHash) = (try sha(csv), try sha(xlsx))
        _ = try Torscan.run([capture, "--csv", "--out", csv, "--xlsx", xlsx, "--manifest", manifest])
        #expect(try sha(csv) == csvHash)
        #expect(try sha(xlsx) == xlsxHash)
    }
}

@Suite struct PieceVerificationTests {
    /// Issue 8: with the scenario's .torrent, the seeder's row is `verified` with all 16 pieces.
    @Test func seederRowIsVerified() throws {
        let r = try Torscan.run([MainJobTests.transfer, "--csv", "--torrent", "SampleCaptures/tcp-http-tracker/alpha.bin.torrent"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = MainJobTests().rows(r.stdout)
        let seeder = try #require(rows.first { $0["ip"] == "10.77.0.2" })
        #expect(seeder["confidence"] == "verified" && seeder["pieces_verified"] == "16" && seeder["torrent_name"] == "alpha.bin")
        // The leecher sent no piece: its row stays `transfer`.
        #expect(rows.first { $0["ip"] == "10.77.0.3" }?["confidence"] == "transfer")
    }

    /// A seeder serving a damaged piece: one byte of the first full-size segment the seeder sent is
    /// flipped in a copy of the capture (as a corrupted file on its disk would). That piece must fail,
    /// be counted as a mismatch, and never count as verified.
    @Test func damagedPieceIsAMismatchNotAVerification() throws {
        var data = try Data(contentsOf: TestPaths.packageRoot.appendingPathComponent(MainJobTests.transfer))
        // pcap: 24-byte file header, then 16-byte record headers (little-endian, as this capture is).
        var offset = 24
        var flipped = false
        while offset + 16 <= data.count {
            let caplen = Int(data[offset + 8]) | Int(data[offset + 9]) << 8 | Int(data[offset + 10]) << 16 | Int(data[offset + 11]) << 24
            let frame = offset + 16
            // Ethernet + IPv4 source 10.77.0.2 at bytes 26..29 of the frame.
            if caplen > 1000, data[frame + 26] == 10, data[frame + 27] == 77, data[frame + 28] == 0, data[frame + 29] == 2 {
                data[frame + caplen - 1] ^= 0xFF
                flipped = true
                break
            }
            offset = frame + caplen
        }
        #expect(flipped)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("torscan-damaged-\(getpid()).pcap")
        try data.write(to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let r = try Torscan.run([copy.path, "--json", "--torrent", "SampleCaptures/tcp-http-tracker/alpha.bin.torrent"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try #require(obj["rows"] as? [[String: Any]])
        let seeder = try #require(rows.first { $0["ip"] as? String == "10.77.0.2" })
        #expect(seeder["pieces_verified"] as? Int == 15)
        let anomalies = (obj["run"] as? [String: Any])?["anomalies"] as? [String: Any]
        #expect(anomalies?["piece_hash_mismatch"] as? Int == 1)
    }

    /// Without a .torrent: the info dictionary fetched with ut_metadata (dht-magnet: a magnet link),
    /// once its SHA-1 matches the infohash, verifies the pieces that follow on that flow.
    @Test func wireMetadataVerifiesPiecesWithoutATorrentFile() throws {
        let r = try Torscan.run(["SampleCaptures/dht-magnet/capture.pcap", "--csv"])
        let rows = MainJobTests().rows(r.stdout)
        let seeder = try #require(rows.first { $0["ip"] == "10.77.0.2" })
        #expect(seeder["confidence"] == "verified" && seeder["pieces_verified"] == "16" && seeder["torrent_name"] == "delta.bin")
    }

    @Test func aBadTorrentFileIsAUsageError() throws {
        let r = try Torscan.run([MainJobTests.transfer, "--csv", "--torrent", MainJobTests.transfer])
        #expect(r.status == 64)
        #expect(r.stderr.contains("not a torrent"))
    }
}

@Suite struct TunnelColumnsTests {
    /// Issue 7: a flow carried through a proxy names the tunnel and the tunnelled target (socks5
    /// scenario: libtorrent through microsocks; the client's leg to the proxy's port 1080).
    @Test func proxyLegsCarryTunnelAndTarget() throws {
        let r = try Torscan.run(["flows", "SampleCaptures/socks5/capture.pcap", "--csv"])
        let rows = MainJobTests().rows(r.stdout)
        let tunnelled = rows.filter { $0["tunnel"] == "socks5" }
        #expect(!tunnelled.isEmpty)
        #expect(tunnelled.allSatisfy { $0["dst_port"] == "1080" && !($0["tunnel_target"] ?? "").isEmpty })
        #expect(tunnelled.contains { $0["label"]?.hasPrefix("bittorrent") == true })
    }
}
