// Piece verification against .torrent files made by mktorrent and libtorrent (v1, v2, hybrid), and the
// assembler's handling of out-of-order, overlapping, conflicting and out-of-range blocks and its limits.
import Foundation
import Testing
import Crypto
@testable import FlowEvidence
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct PieceVerifierTests {
    static let ih = InfoHash(hex: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")!

    static func hex(_ s: String) -> [UInt8] { hexBytes(s) }
    static func sha1(_ b: [UInt8]) -> [UInt8] { Array(Insecure.SHA1.hash(data: b)) }

    /// Sends `bytes` as blocks of `blockSize`, last block first and (when there are several) twice in a
    /// row; returns every outcome.
    static func feed(_ v: inout PieceVerifier<Int>, sender: Int = 1, piece: Int, _ bytes: [UInt8], _ spec: PieceSpec,
                     blockSize: Int = 16_384) -> [PieceOutcome] {
        var starts = Array(stride(from: 0, to: bytes.count, by: blockSize)).reversed() as [Int]
        if starts.count > 1 { starts.insert(starts[0], at: 1) }
        return starts.map { s in
            let block = Array(bytes[s..<min(s + blockSize, bytes.count)])
            return block.withUnsafeBytes { v.add(sender: sender, infoHash: ih, piece: piece, begin: s, block: $0, spec: spec) }
        }
    }

    // MARK: Against real .torrent files

    /// Pieces (bytes and spec) of one fixture torrent, in peer-wire index order.
    static func pieces(_ f: TorrentFixtures, _ kind: String) -> [([UInt8], PieceSpec)] {
        let d = f.described[kind] as! [String: Any]
        let pl = d["piece_length"] as! Int
        var v1: [([UInt8], PieceSpec)] = []
        if let files = d["v1_files"] as? [[Any]], let hashes = d["v1_pieces"] as? [String] {
            var stream: [UInt8] = []
            for file in files {
                let length = file[1] as! Int
                if let name = file[0] as? String {
                    stream += TorrentFixtures.bytes(String(name.split(separator: "/").last!), length)
                } else {
                    stream += [UInt8](repeating: 0, count: length)  // a BEP 47 pad file
                }
            }
            for (i, h) in hashes.enumerated() {
                let bytes = Array(stream[(i * pl)..<min((i + 1) * pl, stream.count)])
                v1.append((bytes, PieceSpec(length: bytes.count, hashes: [.sha1(hex(h))])))
            }
        }
        var v2: [([UInt8], PieceSpec)] = []
        if let files = d["v2_files"] as? [[Any]] {
            for file in files {
                let (name, length, root, layer) = (file[0] as! String, file[1] as! Int, file[2] as! String, file[3] as! [String])
                let content = TorrentFixtures.bytes(name, length)
                if length <= pl {
                    let leaves = BEP52Merkle.paddedWidth((length + 16_383) / 16_384)
                    v2.append((content, PieceSpec(length: length, hashes: [.merkle(root: hex(root), leaves: leaves, dataLength: length)])))
                } else {
                    for (i, h) in layer.enumerated() {
                        let bytes = Array(content[(i * pl)..<min((i + 1) * pl, length)])
                        v2.append((bytes, PieceSpec(length: bytes.count, hashes: [.merkle(root: hex(h), leaves: pl / 16_384, dataLength: bytes.count)])))
                    }
                }
            }
        }
        if v1.isEmpty { return v2 }
        if v2.isEmpty { return v1 }
        // Hybrid: the same indexes; the v1 piece (with pad bytes) must match both hashes.
        return zip(v1, v2).map { a, b in (a.0, PieceSpec(length: a.1.length, hashes: a.1.hashes + b.1.hashes)) }
    }

    @Test(arguments: ["v1", "v2", "hybrid"])
    func verifiesEveryPieceOfARealTorrent(kind: String) throws {
        guard let f = try TorrentFixtures.make() else {
            print("skipped: needs mktorrent and python3 with libtorrent (Scripts/setup)"); return
        }
        defer { f.remove() }
        let pieces = Self.pieces(f, kind)
        // 100000 + 5000 + 65536 bytes in 32 KiB pieces: v1 packs files (6 pieces), v2 aligns them (4+1+2).
        #expect(pieces.count == (kind == "v1" ? 6 : 7))
        var v = PieceVerifier<Int>()
        for (i, (bytes, spec)) in pieces.enumerated() {
            let outcomes = Self.feed(&v, piece: i, bytes, spec)
            #expect(outcomes.last == .verified(piece: i), "\(kind) piece \(i)")
            #expect(outcomes.dropLast().allSatisfy { $0 == .incomplete })
        }
        #expect(v.verifiedCount == pieces.count && v.mismatchCount == 0 && v.piecesInFlight == 0 && v.heldBytes == 0)

        // A seeder serving a damaged piece: one flipped bit gives a mismatch, never a verification.
        var damaged = pieces[1].0
        damaged[damaged.count / 2] ^= 0x01
        #expect(Self.feed(&v, piece: 1, damaged, pieces[1].1).last == .mismatch(piece: 1))
        #expect(v.mismatchCount == 1)
    }

    @Test func hybridPadBytesMustBeZero() throws {
        guard let f = try TorrentFixtures.make() else {
            print("skipped: needs mktorrent and python3 with libtorrent (Scripts/setup)"); return
        }
        defer { f.remove() }
        // a.bin's last piece in the hybrid is 1696 data bytes and pad zeros: v2 alone would ignore the pad.
        let (bytes, spec) = Self.pieces(f, "hybrid")[3]
        #expect(spec.length == 32_768 && bytes.count == 32_768)
        var padded = bytes
        padded[32_767] = 1
        var v = PieceVerifier<Int>()
        #expect(Self.feed(&v, piece: 3, padded, spec).last == .mismatch(piece: 3))
    }

    // MARK: Assembly

    @Test func oddBlocksOutOfOrderWithOverlaps() {
        let bytes = TorrentFixtures.bytes("odd", 50_000)
        let spec = PieceSpec(length: 50_000, hashes: [.sha1(Self.sha1(bytes))])
        var v = PieceVerifier<Int>()
        // Ranges chosen to overlap and leave gaps that later blocks fill: [30000,50000) [0,10000) [5000,31000).
        let blocks = [(30_000, 50_000), (0, 10_000), (5_000, 31_000)]
        var outcomes: [PieceOutcome] = []
        for (lo, hi) in blocks {
            let b = Array(bytes[lo..<hi])
            outcomes.append(b.withUnsafeBytes { v.add(sender: 7, infoHash: Self.ih, piece: 3, begin: lo, block: $0, spec: spec) })
        }
        #expect(outcomes == [.incomplete, .incomplete, .verified(piece: 3)])
        #expect(v.count(.conflictingDuplicate) == 0)
    }

    @Test func completesExactlyWhenCoveredWhateverTheOrder() {
        // Random blocks (seeded): the piece verifies on the block that covers its last missing byte, never before.
        let bytes = TorrentFixtures.bytes("cover", 5_000)
        let spec = PieceSpec(length: bytes.count, hashes: [.sha1(Self.sha1(bytes))])
        var seed: UInt64 = 42
        func rand(_ n: Int) -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int(seed >> 33) % n }
        for round in 0..<20 {
            var v = PieceVerifier<Int>()
            var covered = [Bool](repeating: false, count: bytes.count)
            var done = false
            while !done {
                let lo = rand(bytes.count), len = 1 + rand(700)
                let hi = min(bytes.count, lo + len)
                for k in lo..<hi { covered[k] = true }
                let outcome = Array(bytes[lo..<hi]).withUnsafeBytes { v.add(sender: round, infoHash: Self.ih, piece: 0, begin: lo, block: $0, spec: spec) }
                done = !covered.contains(false)
                #expect(outcome == (done ? .verified(piece: 0) : .incomplete), "round \(round)")
                if outcome != .incomplete && !done { return }
            }
        }
    }

    @Test func conflictingDuplicateKeepsFirstCopy() {
        let bytes = TorrentFixtures.bytes("dup", 32_768)
        let spec = PieceSpec(length: bytes.count, hashes: [.sha1(Self.sha1(bytes))])
        var v = PieceVerifier<Int>()
        let first = Array(bytes[0..<16_384])
        var forged = first
        forged[100] ^= 0xFF
        _ = first.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: spec) }
        _ = forged.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: spec) }
        let rest = Array(bytes[16_384...])
        let last = rest.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 16_384, block: $0, spec: spec) }
        #expect(last == .verified(piece: 0))
        #expect(v.count(.conflictingDuplicate) == 1)
    }

    @Test func sendersAreAssembledApart() {
        // Two senders each send half of the same piece: neither completes it.
        let bytes = TorrentFixtures.bytes("two", 32_768)
        let spec = PieceSpec(length: bytes.count, hashes: [.sha1(Self.sha1(bytes))])
        var v = PieceVerifier<Int>()
        let a = Array(bytes[0..<16_384]), b = Array(bytes[16_384...])
        #expect(a.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: spec) } == .incomplete)
        #expect(b.withUnsafeBytes { v.add(sender: 2, infoHash: Self.ih, piece: 0, begin: 16_384, block: $0, spec: spec) } == .incomplete)
        #expect(v.piecesInFlight == 2)
    }

    @Test func rejectsBlocksOutsideThePiece() {
        let spec = PieceSpec(length: 1_000, hashes: [.sha1([UInt8](repeating: 0, count: 20))])
        var v = PieceVerifier<Int>()
        let block = [UInt8](repeating: 1, count: 100)
        for (piece, begin) in [(0, 901), (0, -1), (-1, 0), (0, Int.max)] {
            #expect(block.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: piece, begin: begin, block: $0, spec: spec) } == .incomplete)
        }
        #expect([UInt8]().withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: spec) } == .incomplete)
        #expect(v.count(.blockOutOfRange) == 5 && v.piecesInFlight == 0)
        // The same index announced with another length later does not mix into the held piece.
        _ = block.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: spec) }
        let other = PieceSpec(length: 2_000, hashes: spec.hashes)
        _ = block.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 100, block: $0, spec: other) }
        #expect(v.count(.lengthDisagrees) == 1)
    }

    @Test func emptyHashListNeverVerifies() {
        var v = PieceVerifier<Int>()
        let b = [UInt8](repeating: 2, count: 10)
        #expect(b.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: PieceSpec(length: 10, hashes: [])) } == .mismatch(piece: 0))
    }

    // MARK: Limits

    @Test func sixteenMebibytePieceVerifiesAndLargerIsRefused() {
        let length = PieceVerifierLimits().maxPieceLength
        let bytes = [UInt8](repeating: 0x5A, count: length)
        let v2leaves = BEP52Merkle.leafHashes(bytes.withUnsafeBytes { $0 })
        let root = BEP52Merkle.root(leaves: v2leaves, width: length / 16_384)!
        let spec = PieceSpec(length: length, hashes: [.sha1(Self.sha1(bytes)), .merkle(root: root, leaves: length / 16_384, dataLength: length)])
        var v = PieceVerifier<Int>()
        let outcomes = Self.feed(&v, piece: 9, bytes, spec, blockSize: 1 << 20)
        #expect(outcomes.last == .verified(piece: 9))
        let big = PieceSpec(length: length + 1, hashes: spec.hashes)
        #expect(bytes.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: UnsafeRawBufferPointer(rebasing: $0[0..<10]), spec: big) } == .incomplete)
        #expect(v.count(.pieceTooLarge) == 1)
    }

    @Test func evictsOldestPieceOfASender() {
        var limits = PieceVerifierLimits()
        limits.maxPiecesPerSender = 2
        var v = PieceVerifier<Int>(limits: limits)
        let spec = PieceSpec(length: 100, hashes: [])
        let b = [UInt8](repeating: 0, count: 10)
        for piece in 0..<3 { _ = b.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: piece, begin: 0, block: $0, spec: spec) } }
        _ = b.withUnsafeBytes { v.add(sender: 2, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: spec) }
        #expect(v.count(.evictedSenderLimit) == 1)
        #expect(v.piecesInFlight == 3 && v.heldBytes == 300)
        // Piece 0 of sender 1 was the oldest: a block for it starts it again, evicting piece 1.
        _ = b.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 50, block: $0, spec: spec) }
        #expect(v.count(.evictedSenderLimit) == 2 && v.piecesInFlight == 3)
    }

    @Test func bookkeepingStaysBoundedBehindAStuckPiece() {
        // Piece 0 never completes; 10,000 others complete behind it: the start-order list must not keep them.
        var v = PieceVerifier<Int>()
        let b = [UInt8](repeating: 1, count: 8)
        let spec = PieceSpec(length: 8, hashes: [.sha1(Self.sha1(b))])
        _ = b.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 0, begin: 0, block: UnsafeRawBufferPointer(rebasing: $0[0..<4]), spec: spec) }
        for piece in 1...10_000 {
            #expect(b.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: piece, begin: 0, block: $0, spec: spec) } == .verified(piece: piece))
        }
        #expect(v.piecesInFlight == 1 && v.verifiedCount == 10_000)
        #expect(v.order.count - v.orderHead <= 2 * v.piecesInFlight + 64)
    }

    @Test func staysUnderTheMemoryLimit() {
        var limits = PieceVerifierLimits()
        limits.maxTotalBytes = 1_000
        var v = PieceVerifier<Int>(limits: limits)
        let spec = PieceSpec(length: 300, hashes: [])
        let b = [UInt8](repeating: 0, count: 10)
        for sender in 0..<1_000 {
            _ = b.withUnsafeBytes { v.add(sender: sender, infoHash: Self.ih, piece: 0, begin: 0, block: $0, spec: spec) }
            #expect(v.heldBytes <= 1_000)
        }
        #expect(v.piecesInFlight == 3 && v.count(.evictedMemoryLimit) == 997)
        // A piece that can never fit is refused, not half-held.
        let huge = PieceSpec(length: 1_001, hashes: [])
        _ = b.withUnsafeBytes { v.add(sender: 1, infoHash: Self.ih, piece: 1, begin: 0, block: $0, spec: huge) }
        #expect(v.heldBytes <= 1_000 && v.count(.pieceTooLarge) == 1)
    }

    // MARK: BEP 52 merkle

    @Test func merklePadsWithZeroHashes() {
        let leaf = Array(SHA256.hash(data: [UInt8]("x".utf8)))
        let zero = [UInt8](repeating: 0, count: 32)
        func h(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: a + b)) }
        #expect(BEP52Merkle.root(leaves: [leaf], width: 1) == leaf)
        #expect(BEP52Merkle.root(leaves: [leaf], width: 2) == h(leaf, zero))
        #expect(BEP52Merkle.root(leaves: [leaf], width: 4) == h(h(leaf, zero), h(zero, zero)))
        #expect(BEP52Merkle.root(leaves: [leaf, leaf], width: 3) == nil)
        #expect(BEP52Merkle.root(leaves: [leaf, leaf, leaf], width: 2) == nil)
        #expect([0, 1, 2, 3, 5, 1024, 1025].map(BEP52Merkle.paddedWidth) == [1, 1, 2, 4, 8, 1024, 2048])
    }
}
