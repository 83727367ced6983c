// .torrent files made by real tools for the piece verifier and catalog tests: mktorrent (v1) and
// libtorrent's create_torrent (v2 only, and hybrid v1+v2), over deterministic synthetic content in a
// temporary directory. Their piece hashes, read back with libtorrent's bdecode, are the oracle.
import Foundation
import TorscanTestSupport

struct TorrentFixtures {
    static let pieceLength = 32 * 1024  // mktorrent's smallest (2^15)
    /// a.bin: several pieces with a short last one; b.bin: under one piece; c.bin: exactly two pieces.
    static let files: [(String, Int)] = [("a.bin", 100_000), ("b.bin", 5_000), ("c.bin", 65_536)]

    let dir: URL
    /// Per torrent ("v1", "v2", "hybrid"): what libtorrent reads in it.
    let described: [String: Any]

    /// Nil (tests say they are skipped) without mktorrent or python3 with libtorrent.
    static func make() throws -> TorrentFixtures? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mktorrent"),
              let py = Python.interpreter(with: "libtorrent") else { return nil }
        let dir = try Python.temporaryDirectory("torscan-torrents")
        let content = dir.appendingPathComponent("content")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        for (name, size) in files { try Data(bytes(name, size)).write(to: content.appendingPathComponent(name)) }
        let out = try Python.run(py, script, [dir.path, String(pieceLength)])
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        return TorrentFixtures(dir: dir, described: json)
    }

    /// Deterministic content (xorshift64 seeded by the name), so no test data is committed.
    static func bytes(_ name: String, _ size: Int) -> [UInt8] {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(name.utf8.reduce(0) { $0 &* 31 &+ Int($1) })
        return (0..<size).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt8(truncatingIfNeeded: x >> 24)
        }
    }

    func torrentPath(_ kind: String) -> String { dir.appendingPathComponent(kind + ".torrent").path }
    func remove() { try? FileManager.default.removeItem(at: dir) }

    static let script = #"""
    import sys, os, json, subprocess, libtorrent as lt
    d, pl = sys.argv[1], int(sys.argv[2])
    os.chdir(d)
    subprocess.run(["mktorrent", "-l", str(pl.bit_length() - 1), "-a", "http://tracker.invalid/announce",
                    "-o", "v1.torrent", "content"], check=True, stdout=subprocess.DEVNULL)
    for name, flags in [("v2", lt.create_torrent.v2_only), ("hybrid", 0)]:
        fs = lt.file_storage()
        lt.add_files(fs, "content")
        t = lt.create_torrent(fs, pl, flags=flags)
        lt.set_piece_hashes(t, ".")
        open(name + ".torrent", "wb").write(lt.bencode(t.generate()))
    out = {}
    for name in ["v1", "v2", "hybrid"]:
        t = lt.bdecode(open(name + ".torrent", "rb").read())
        info = t[b"info"]
        hashes = lt.torrent_info(name + ".torrent").info_hashes()
        desc = {"piece_length": info[b"piece length"], "name": info[b"name"].decode(),
                "v1_infohash": str(hashes.v1) if hashes.has_v1() else None,
                "v2_infohash": str(hashes.v2) if hashes.has_v2() else None}
        if b"pieces" in info:
            p = info[b"pieces"]
            files = info.get(b"files") or [{b"length": info[b"length"], b"path": [info[b"name"]]}]
            desc["v1_files"] = [[None if b"p" in f.get(b"attr", b"") else b"/".join(f[b"path"]).decode(), f[b"length"]] for f in files]
            desc["v1_pieces"] = [p[i:i + 20].hex() for i in range(0, len(p), 20)]
        if b"file tree" in info:
            layers = t.get(b"piece layers", {})
            v2 = []
            for fname, node in info[b"file tree"].items():
                f = node[b""]
                layer = layers.get(f[b"pieces root"], b"")
                v2.append([fname.decode(), f[b"length"], f[b"pieces root"].hex(), [layer[i:i + 32].hex() for i in range(0, len(layer), 32)]])
            desc["v2_files"] = v2
        out[name] = desc
    print(json.dumps(out))
    """#
}
