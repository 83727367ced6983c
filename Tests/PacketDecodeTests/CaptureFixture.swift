// A tiny pcap/pcapng reader for decoder tests only (the real reader is CaptureFile's). It reads
// classic pcap (µs/ns magic, both byte orders) and pcapng (SHB byte order, IDB link type and
// if_tsresol, EPB/SPB/obsolete PB) and stops quietly at the first damaged record.
import Foundation
import PacketDecode
import TorscanTestSupport
import WireBytes

struct Frame {
    var number: Int          // 1-based, as Wireshark numbers frames
    var linkType: LinkType
    var timestamp: Timestamp
    var bytes: [UInt8]
}

enum CaptureFixture {
    /// ../shared/corpus/public, or the directory named by TORSCAN_PUBLIC_CORPUS (worktrees sit one level deeper).
    static var corpus: URL? {
        if let c = TestPaths.publicCorpus { return c }
        if let env = ProcessInfo.processInfo.environment["TORSCAN_PUBLIC_CORPUS"], FileManager.default.fileExists(atPath: env) {
            return URL(fileURLWithPath: env)
        }
        return nil
    }

    static func url(_ relative: String) -> URL? { corpus?.appendingPathComponent(relative) }

    /// Frames of a corpus file (path relative to the corpus root), or nil when the corpus is absent.
    static func frames(_ relative: String) -> [Frame]? {
        guard let u = url(relative), let data = try? Data(contentsOf: u) else { return nil }
        return frames(of: [UInt8](data))
    }

    static func frames(of d: [UInt8]) -> [Frame] {
        d.withUnsafeBytes { b -> [Frame] in
            guard let magic = b.u32le(at: 0) else { return [] }
            switch magic {
            case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1: return pcap(b)
            case 0x0a0d0d0a: return pcapng(b)
            default: return []
            }
        }
    }

    private static func pcap(_ b: UnsafeRawBufferPointer) -> [Frame] {
        let m = b.u32le(at: 0)!
        let be = m == 0xd4c3b2a1 || m == 0x4d3cb2a1
        let nano = m == 0xa1b23c4d || m == 0x4d3cb2a1
        guard let lt = b.u32(at: 20, bigEndian: be) else { return [] }
        var out: [Frame] = [], off = 24
        while let s = b.u32(at: off, bigEndian: be), let f = b.u32(at: off + 4, bigEndian: be),
              let cap = b.u32(at: off + 8, bigEndian: be), b.has(off + 16, Int(cap)) {
            let ts = Timestamp(seconds: Int64(s), nanos: nano ? Int64(f) : Int64(f) * 1000)
            out.append(Frame(number: out.count + 1, linkType: LinkType(lt & 0x0fff_ffff), timestamp: ts,
                             bytes: Array(b.slice(off + 16, Int(cap)))))
            off += 16 + Int(cap)
        }
        return out
    }

    private static func pcapng(_ b: UnsafeRawBufferPointer) -> [Frame] {
        var out: [Frame] = [], off = 0, be = false
        var interfaces: [(LinkType, Int64)] = []   // link type, units per second
        while let t0 = b.u32le(at: off) {
            if t0 == 0x0a0d0d0a {
                guard let bom = b.u32le(at: off + 8) else { break }
                be = bom != 0x1a2b3c4d
                interfaces = []
            }
            guard let type = b.u32(at: off, bigEndian: be), let len = b.u32(at: off + 4, bigEndian: be).map(Int.init),
                  len >= 12, len % 4 == 0, b.has(off, len) else { break }
            switch type {
            case 1:
                let lt = LinkType(UInt32(b.u16(at: off + 8, bigEndian: be)!))
                var units: Int64 = 1_000_000, o = off + 16
                while o + 4 <= off + len - 4, let code = b.u16(at: o, bigEndian: be), let ol = b.u16(at: o + 2, bigEndian: be), code != 0 {
                    if code == 9, let r = b.u8(at: o + 4) {
                        let e = Int64(r & 0x7f)
                        units = r & 0x80 != 0 ? (e < 62 ? 1 << e : 1_000_000) : (e <= 18 ? Int64(pow(10.0, Double(e))) : 1_000_000)
                    }
                    o += 4 + ((Int(ol) + 3) & ~3)
                }
                interfaces.append((lt, units))
            case 6, 2:
                let iface = type == 6 ? Int(b.u32(at: off + 8, bigEndian: be)!) : Int(b.u16(at: off + 8, bigEndian: be)!)
                guard iface < interfaces.count, let hi = b.u32(at: off + 12, bigEndian: be), let lo = b.u32(at: off + 16, bigEndian: be),
                      let cap = b.u32(at: off + 20, bigEndian: be), Int(cap) <= len - 32 else { break }
                let (lt, units) = interfaces[iface]
                let raw = Int64(hi) << 32 | Int64(lo)
                let ns = units == 1_000_000_000 ? raw : raw / units * 1_000_000_000 + (raw % units) * 1_000_000_000 / units
                out.append(Frame(number: out.count + 1, linkType: lt, timestamp: Timestamp(nanoseconds: ns),
                                 bytes: Array(b.slice(off + 28, Int(cap)))))
            case 3:
                guard let (lt, _) = interfaces.first, let orig = b.u32(at: off + 8, bigEndian: be) else { break }
                let cap = min(Int(orig), len - 16)
                out.append(Frame(number: out.count + 1, linkType: lt, timestamp: Timestamp(nanoseconds: 0), bytes: Array(b.slice(off + 12, cap))))
            default: break
            }
            off += len
        }
        return out
    }
}

extension PacketDecoder {
    /// Decodes a test frame (the payload view is only valid inside this call, so tests copy it).
    mutating func decode(_ f: Frame) -> (DecodedPacket, [UInt8]) {
        f.bytes.withUnsafeBytes { b in
            let p = decode(b, linkType: f.linkType, timestamp: f.timestamp)
            return (p, Array(p.payload))
        }
    }

    mutating func decode(hex: String, linkType: LinkType = .ethernet) -> (DecodedPacket, [UInt8]) {
        decode(Frame(number: 1, linkType: linkType, timestamp: Timestamp(nanoseconds: 0), bytes: hexBytes(hex)))
    }
}
