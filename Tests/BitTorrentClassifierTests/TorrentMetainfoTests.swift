import Crypto
import Foundation
import Testing
import BitTorrentClassifier
import TorscanTestSupport

enum TorrentVectors {
    // ../shared/corpus/public/bittorrent/BittorrentReconstituter_test.txt.torrent (217 bytes; infohash 2a72ac0b...6bcd).
    static let testTxt = "64383a616e6e6f756e636532393a687474703a2f2f31302e302e302e313a363936392f616e6e6f756e636531333a6372656174696f6e2064617465693132353739393230383365343a696e666f64363a6c656e67746869353865343a6e616d65383a746573742e74787431323a7069656365206c656e67746869333237363865363a70696563657332303aadf071efd9af81e591336adc5c1d2f26d7e482de373a7072697661746569306565383a75726c2d6c6973746c32393a687474703a2f2f31302e302e302e313a363936392f616e6e6f756e63656565"
    // Made with python3-libtorrent 2.0.8 (Debian 12) from two files, a.txt (14 bytes) and sub/b.bin (40000 random bytes):
    //   fs = lt.file_storage(); lt.add_files(fs, "content"); t = lt.create_torrent(fs, 16384)  # hybrid by default
    //   t.add_tracker("http://tracker.invalid/announce"); lt.set_piece_hashes(t, "."); e = t.generate(); del e[b"creation date"]
    // libtorrent's info_hashes(): v1 1a7db310b464f8b6606a87d7b4849e18f755a62a,
    //   v2 977fe456e7ecee25c23918de2faccccd6762ad355ebbededbe14bd2e91801fdf.
    static let hybrid = "64383a616e6e6f756e636533313a687474703a2f2f747261636b65722e696e76616c69642f616e6e6f756e636531303a6372656174656420627933313a6c6962746f7272656e7420322e302e382028746f727363616e207465737429343a696e666f64393a66696c65207472656564353a612e74787464303a64363a6c656e6774686931346531313a70696563657320726f6f7433323aad705111750a94b242910c001e755e78d1e99b516efd42cd3ac3b909af7ec6cf6565333a73756264353a622e62696e64303a64363a6c656e6774686934303030306531313a70696563657320726f6f7433323a621c61b35756ff25a47e0f9a4adee5516a06a3ebc0610cd1bb142dd005b18c0165656565353a66696c65736c64363a6c656e67746869313465343a706174686c353a612e747874656564343a61747472313a70363a6c656e67746869313633373065343a706174686c343a2e706164353a3136333730656564363a6c656e67746869343030303065343a706174686c333a737562353a622e62696e656564343a61747472313a70363a6c656e677468693931353265343a706174686c343a2e706164343a3931353265656531323a6d6574612076657273696f6e693265343a6e616d65373a636f6e74656e7431323a7069656365206c656e67746869313633383465363a70696563657338303a7ead2f9af21252b52735323a997013405c46f4484f8b25df68cd150ab64be87f1cc2c0d6fe92114aba7bb859cd0bea4d5b8214bd647a62bcedf6937dd72b9a05880c46cdec9260c983f2840b8686c5f06531323a7069656365206c61796572736433323a621c61b35756ff25a47e0f9a4adee5516a06a3ebc0610cd1bb142dd005b18c0139363a24d12d2f3cf30b564991fd71acb9155d9f12b101ef51f853970c0fabbbfbe18a1df549c77910a423f34cefb4f2db03c60846dcb3dc64eb102a9ec76992990f9a3e30f012896e90876479a0aafa791c00e3f037f8085e541b250ae05aa0a13fda6565"
    // Same tool, flags=create_torrent.v2_only, one file single.bin (20000 random bytes).
    // info_hashes().v2 ba9b5579ab0ab3050f1c012667772581eef95daadb43db61a7b91bc3d2d810c6.
    static let v2Only = "64383a616e6e6f756e636533313a687474703a2f2f747261636b65722e696e76616c69642f616e6e6f756e636531303a6372656174656420627933313a6c6962746f7272656e7420322e302e382028746f727363616e207465737429343a696e666f64393a66696c6520747265656431303a73696e676c652e62696e64303a64363a6c656e6774686932303030306531313a70696563657320726f6f7433323ad0fddb2d209fb53ba73a91bd69ca75ca18be9af7bf3902f34d555cc83d79982965656531323a6d6574612076657273696f6e693265343a6e616d6531303a73696e676c652e62696e31323a7069656365206c656e677468693136333834656531323a7069656365206c61796572736433323ad0fddb2d209fb53ba73a91bd69ca75ca18be9af7bf3902f34d555cc83d79982936343aef93f4889133253329e77d1b3db4e9806e8294dd0cf5a2f1cfa688a53c37b8c498c0d31d348c459399a32c5a791620aa8955d8222cce4c36c8696e130b32f2f06565"
}

@Suite struct TorrentMetainfoTests {
    func parse(_ bytes: [UInt8]) throws(TorrentError) -> TorrentMetainfo {
        let result: Result<TorrentMetainfo, TorrentError> = bytes.withUnsafeBytes { b in
            do throws(TorrentError) { return .success(try TorrentMetainfo(bencoded: b)) } catch { return .failure(error) }
        }
        return try result.get()
    }
    func sha1(_ bytes: some Collection<UInt8>) -> String { Insecure.SHA1.hash(data: Array(bytes)).map { String(format: "%02x", $0) }.joined() }
    func sha256(_ bytes: some Collection<UInt8>) -> String { SHA256.hash(data: Array(bytes)).map { String(format: "%02x", $0) }.joined() }

    @Test func v1SingleFile() throws {
        let bytes = hexBytes(TorrentVectors.testTxt)
        let t = try parse(bytes)
        #expect(sha1(bytes[t.infoRange]) == "2a72ac0b7b1e62e0d4f6ac9ec997138e1d636bcd")
        #expect(t.info.version == .v1 && t.info.name == "test.txt" && t.info.totalLength == 58 && t.info.pieceLength == 32768)
        #expect(t.info.pieceCount == 1 && t.info.pieceHash(0)?.count == 20 && t.info.pieceHash(1) == nil)
        #expect(t.info.files == [TorrentFile(path: ["test.txt"], length: 58)] && !t.info.isPrivate)
        #expect(t.announce == "http://10.0.0.1:6969/announce" && t.urlList == ["http://10.0.0.1:6969/announce"])
    }

    /// Every .torrent in the corpus: the SHA-1 of the info range is the infohash its .expected file names.
    @Test func corpusTorrentsHashToTheirInfohashes() throws {
        guard let corpus = sharedPublicCorpus else { print("skipped: ../shared/corpus/public absent"); return }
        let dir = corpus.appendingPathComponent("bittorrent")
        var expected: [String: String] = [:]   // name -> infohash
        for file in TestPaths.files(under: dir) where file.lastPathComponent.hasSuffix(".expected.infohash.txt") {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
                let cols = line.split(separator: "\t")
                if cols.count >= 2 { expected[String(cols[1])] = String(cols[0]) }
            }
        }
        var checked = 0
        for file in TestPaths.files(under: dir) where file.pathExtension == "torrent" {
            let bytes = [UInt8](try Data(contentsOf: file))
            let t = try parse(bytes)
            #expect(expected[t.info.name] == sha1(bytes[t.infoRange]), "\(file.lastPathComponent)")
            #expect(t.info.pieceCount == Int((t.info.totalLength + Int64(t.info.pieceLength) - 1) / Int64(t.info.pieceLength)))
            checked += 1
        }
        #expect(checked == 4)
    }

    @Test func hybridTorrent() throws {
        let bytes = hexBytes(TorrentVectors.hybrid)
        let t = try parse(bytes)
        #expect(sha1(bytes[t.infoRange]) == "1a7db310b464f8b6606a87d7b4849e18f755a62a")
        #expect(sha256(bytes[t.infoRange]) == "977fe456e7ecee25c23918de2faccccd6762ad355ebbededbe14bd2e91801fdf")
        let info = t.info
        #expect(info.version == .hybrid && info.metaVersion == 2 && info.name == "content" && info.pieceLength == 16384)
        #expect(info.totalLength == 40_014)
        // v1 list with BEP 47 padding files; v2 file tree in key order.
        #expect(info.files.map(\.path) == [["a.txt"], [".pad", "16370"], ["sub", "b.bin"], [".pad", "9152"]])
        #expect(info.files.map(\.isPadding) == [false, true, false, true])
        #expect(info.v2Files.map(\.path) == [["a.txt"], ["sub", "b.bin"]] && info.v2Files.map(\.length) == [14, 40_000])
        #expect(info.v2Files.allSatisfy { $0.piecesRoot?.count == 32 })
        #expect(info.pieceCount == 4)   // 16384-byte pieces over 14+16370+40000+9152 bytes
        // piece layers: only b.bin spans more than one piece (3 pieces x 32 bytes).
        #expect(t.pieceLayers.count == 1 && t.pieceLayers[info.v2Files[1].piecesRoot!]?.count == 96)
    }

    @Test func v2OnlyTorrent() throws {
        let bytes = hexBytes(TorrentVectors.v2Only)
        let t = try parse(bytes)
        #expect(sha256(bytes[t.infoRange]) == "ba9b5579ab0ab3050f1c012667772581eef95daadb43db61a7b91bc3d2d810c6")
        #expect(t.info.version == .v2 && t.info.pieces.isEmpty && t.info.files.isEmpty)
        #expect(t.info.v2Files.map(\.path) == [["single.bin"]] && t.info.totalLength == 20_000)
        #expect(t.pieceLayers.values.first?.count == 64)
        // The info dictionary alone (as ut_metadata delivers it) parses the same.
        let info = try Array(bytes[t.infoRange]).withUnsafeBytes { try TorrentInfo(infoDictionary: $0) }
        #expect(info.v2Files == t.info.v2Files)
    }

    @Test(arguments: [
        ("le", TorrentError.notADictionary),
        ("d8:announce3:abce", .missingInfo),
        ("d4:infod12:piece lengthi16384e6:pieces0:6:lengthi1eee", .missingField("name")),
        ("d4:infod4:name1:x12:piece lengthi16384e6:pieces3:abc6:lengthi1eee", .badField("pieces")),
        ("d4:infod4:name1:x12:piece lengthi16384e6:pieces0:ee", .missingField("length")),
        ("d4:infod4:name1:x12:piece lengthi16384eee", .missingField("pieces")),
        ("d4:infod5:filesld6:lengthi1e4:pathleee4:name1:x12:piece lengthi16384e6:pieces0:ee", .badField("files.path")),
        ("d4:infod12:meta versioni2e4:name1:x12:piece lengthi1000eee", .missingField("file tree")),
        ("d4:infod9:file treed1:xd0:d6:lengthi1e11:pieces root2:abeee12:meta versioni2e4:name1:x12:piece lengthi16384eee", .badField("pieces root")),
        ("d4:infod5:filesld6:lengthi9223372036854775807e4:pathl1:aeed6:lengthi1e4:pathl1:beee4:name1:x12:piece lengthi16384e6:pieces0:ee", .lengthOverflow),
    ])
    func rejectsBrokenMetainfo(text: String, error: TorrentError) {
        #expect(throws: error) { try parse(Array(ascii: text)) }
    }

    @Test func truncationSweep() {
        for hex in [TorrentVectors.testTxt, TorrentVectors.hybrid, TorrentVectors.v2Only] {
            let bytes = hexBytes(hex)
            for n in 0..<bytes.count {
                do {
                    _ = try parse(Array(bytes.prefix(n)))
                    Issue.record("prefix \(n) parsed")
                } catch {
                    guard case .bencode(let e) = error else { Issue.record("prefix \(n): \(error)"); continue }
                    #expect(e.isNeedMore)
                }
            }
        }
    }
}
