// Decodes N frames (real frames from Tests/PacketDecodeTests/Vectors.swift: PPPoE/IPv4/TCP, raw IPv6/UDP,
// Ethernet/IPv6 hop-by-hop + routing/UDP, SLL2/IPv4/TCP) with one PacketDecoder. Built and run under valgrind
// by Scripts/decode-alloc-check.sh, which compares total malloc calls for N = 1,000 and N = 100,000.
import PacketDecode
import WireBytes

let hexes: [(String, LinkType)] = [
    ("00 90 1a a0 3d a4 00 11 f5 13 d7 a3 88 64 11 00 06 9d 00 32 00 21 45 00 00 30 01 37 40 00 80 06 58 a7 ac ca f6 39 40 0c bd d9 04 27 01 bb e9 42 87 55 00 00 00 00 70 02 ff ff 6b ed 00 00 02 04 05 82 01 01 04 02", .ethernet),
    ("60 00 00 00 00 25 11 40 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 26 20 00 fe 00 00 00 00 00 00 00 00 00 00 00 09 30 39 00 35 00 25 98 b3 12 34 01 00 00 01 00 00 00 00 00 00 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01", .raw),
    ("ff ff ff ff ff ff 00 00 00 00 00 00 86 dd 60 00 00 00 00 3b 00 40 20 01 04 f8 00 04 00 07 02 e0 81 ff fe 52 ff ff 20 01 04 f8 00 04 00 07 02 e0 81 ff fe 52 9a 6b 2b 00 01 04 00 00 00 00 11 04 00 02 00 00 00 00 20 01 00 78 00 01 00 32 00 00 00 00 00 00 00 01 20 01 00 78 00 01 00 32 00 00 00 00 00 00 00 02 00 35 00 35 00 0b 86 31 58 58 58", .ethernet),
    ("08 00 00 00 00 00 00 14 00 01 00 06 f0 3f 95 8f 82 63 00 00 45 00 00 28 87 2d 40 00 2c 06 71 8c 74 3f 42 6c 07 f9 97 72 01 bb df cc aa ce b5 e9 a7 ab 9f bf 50 11 00 3f cf d2 00 00", .linuxSLL2),
]
let frames = hexes.map { h, lt -> (UnsafeMutableRawBufferPointer, LinkType) in
    let bytes = h.split(separator: " ").map { UInt8($0, radix: 16)! }
    let b = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
    b.copyBytes(from: bytes)
    return (b, lt)
}
let n = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1000
var decoder = PacketDecoder()
var checksum = 0
for i in 0..<n {
    let (b, lt) = frames[i % frames.count]
    let p = decoder.decode(UnsafeRawBufferPointer(b), linkType: lt, timestamp: Timestamp(nanoseconds: Int64(i)))
    checksum &+= Int(p.srcPort) &+ p.payload.count
}
print(checksum, decoder.anomalies.total)
