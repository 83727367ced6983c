// A tiny builder of pcap and pcapng bytes for tests, in either byte order (pcap-savefile(5),
// draft-ietf-opsawg-pcapng). Every format feature and damage case is built from these.
import Foundation

struct Bytes {
    var b: [UInt8] = []
    let bigEndian: Bool
    init(bigEndian: Bool = false) { self.bigEndian = bigEndian }
    mutating func u8(_ v: UInt8) { b.append(v) }
    mutating func u16(_ v: UInt16) { let x = bigEndian ? v.bigEndian : v.littleEndian; withUnsafeBytes(of: x) { b += $0 } }
    mutating func u32(_ v: UInt32) { let x = bigEndian ? v.bigEndian : v.littleEndian; withUnsafeBytes(of: x) { b += $0 } }
    mutating func u64(_ v: UInt64) { let x = bigEndian ? v.bigEndian : v.littleEndian; withUnsafeBytes(of: x) { b += $0 } }
    mutating func raw(_ v: [UInt8]) { b += v }
    mutating func pad4() { while b.count % 4 != 0 { b.append(0) } }
}

/// A packet payload whose bytes tell where they come from: n, n+1, ...
func payload(_ n: Int, seed: UInt8 = 0) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &+ Int(seed)) } }

enum Pcap {
    static func header(bigEndian: Bool = false, nanos: Bool = false, snaplen: UInt32 = 65535, linkType: UInt32 = 1) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        w.u32(nanos ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        w.u16(2); w.u16(4); w.u32(0); w.u32(0); w.u32(snaplen); w.u32(linkType)
        return w.b
    }
    static func record(bigEndian: Bool = false, sec: UInt32, frac: UInt32, data: [UInt8], orig: Int? = nil, incl: Int? = nil) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        w.u32(sec); w.u32(frac); w.u32(UInt32(incl ?? data.count)); w.u32(UInt32(orig ?? data.count)); w.raw(data)
        return w.b
    }
    /// A file of `n` records, one second apart, payload sizes 60 + i.
    static func file(n: Int, bigEndian: Bool = false, nanos: Bool = false, start: UInt32 = 1_600_000_000) -> [UInt8] {
        var out = header(bigEndian: bigEndian, nanos: nanos)
        for i in 0..<n { out += record(bigEndian: bigEndian, sec: start + UInt32(i), frac: UInt32(i * 7), data: payload(60 + i % 40, seed: UInt8(i & 0xff))) }
        return out
    }
}

enum Pcapng {
    static func block(_ type: UInt32, bigEndian: Bool = false, body: [UInt8]) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        var bodyPadded = body
        while bodyPadded.count % 4 != 0 { bodyPadded.append(0) }
        let len = UInt32(12 + bodyPadded.count)
        w.u32(type); w.u32(len); w.raw(bodyPadded); w.u32(len)
        return w.b
    }
    static func shb(bigEndian: Bool = false) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        w.u32(0x1A2B_3C4D); w.u16(1); w.u16(0); w.u64(UInt64.max)
        return block(0x0A0D_0D0A, bigEndian: bigEndian, body: w.b)
    }
    /// options: (code, value) pairs; an end-of-options is appended.
    static func idb(bigEndian: Bool = false, linkType: UInt16 = 1, snaplen: UInt32 = 0, options: [(UInt16, [UInt8])] = []) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        w.u16(linkType); w.u16(0); w.u32(snaplen)
        for (code, value) in options { w.u16(code); w.u16(UInt16(value.count)); w.raw(value); w.pad4() }
        if !options.isEmpty { w.u16(0); w.u16(0) }
        return block(1, bigEndian: bigEndian, body: w.b)
    }
    static func tsresol(_ v: UInt8) -> (UInt16, [UInt8]) { (9, [v]) }
    static func tsoffset(_ v: Int64, bigEndian: Bool = false) -> (UInt16, [UInt8]) {
        var w = Bytes(bigEndian: bigEndian); w.u64(UInt64(bitPattern: v)); return (14, w.b)
    }
    static func epb(bigEndian: Bool = false, interface: UInt32 = 0, ts: UInt64, data: [UInt8], orig: Int? = nil, caplen: Int? = nil) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        w.u32(interface); w.u32(UInt32(ts >> 32)); w.u32(UInt32(ts & 0xFFFF_FFFF))
        w.u32(UInt32(caplen ?? data.count)); w.u32(UInt32(orig ?? data.count)); w.raw(data); w.pad4()
        return block(6, bigEndian: bigEndian, body: w.b)
    }
    static func spb(bigEndian: Bool = false, orig: Int, data: [UInt8]) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        w.u32(UInt32(orig)); w.raw(data); w.pad4()
        return block(3, bigEndian: bigEndian, body: w.b)
    }
    /// The obsolete Packet Block (type 2): 16-bit interface id and drops count.
    static func pb(bigEndian: Bool = false, interface: UInt16 = 0, ts: UInt64, data: [UInt8]) -> [UInt8] {
        var w = Bytes(bigEndian: bigEndian)
        w.u16(interface); w.u16(0); w.u32(UInt32(ts >> 32)); w.u32(UInt32(ts & 0xFFFF_FFFF))
        w.u32(UInt32(data.count)); w.u32(UInt32(data.count)); w.raw(data); w.pad4()
        return block(2, bigEndian: bigEndian, body: w.b)
    }
    /// A file: SHB, one Ethernet IDB (µs), `n` EPBs one second apart.
    static func file(n: Int, bigEndian: Bool = false) -> [UInt8] {
        var out = shb(bigEndian: bigEndian) + idb(bigEndian: bigEndian)
        for i in 0..<n {
            out += epb(bigEndian: bigEndian, ts: UInt64(1_600_000_000 + i) * 1_000_000 + UInt64(i), data: payload(60 + i % 40, seed: UInt8(i & 0xff)))
        }
        return out
    }
}

/// Writes bytes to a fresh temporary file and returns its path.
func tempFile(_ bytes: [UInt8], suffix: String = ".bin") -> String {
    let path = NSTemporaryDirectory() + "torscan-capture-\(UUID().uuidString)\(suffix)"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}
