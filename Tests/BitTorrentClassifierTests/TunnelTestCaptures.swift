// Test-only capture reading for the tunnel and MSE tests: a minimal pcap/pcapng reader (Ethernet,
// Linux SLL/SLL2, raw IP, BSD null; IPv4/IPv6; TCP/UDP) that turns a capture into flows of payload
// segments. The real readers (CaptureFile, PacketDecode, FlowEvidence) are written in parallel on
// other branches; these tests must not wait for them, and this file never ships in a product.
import Foundation
import WireBytes

struct TestSegment {
    var frame: Int              // 1-based, as Wireshark numbers them
    var ts: Int64               // capture time, ns for pcap; raw pcapng units (ordering only)
    var fromInitiator: Bool
    var payload: [UInt8]
}

struct TestTCPFlow {
    var initiator: (ip: [UInt8], port: UInt16)
    var responder: (ip: [UInt8], port: UInt16)
    var sawSYN: Bool
    var openedAt: Int64         // time of the first packet (the SYN when seen)
    var segments: [TestSegment]  // payload-carrying, retransmitted bytes removed
}

struct TestDatagram {
    var frame: Int
    var ts: Int64
    var src: (ip: [UInt8], port: UInt16)
    var dst: (ip: [UInt8], port: UInt16)
    var payload: [UInt8]
}

struct TestCapture {
    var tcp: [TestTCPFlow] = []
    var udp: [TestDatagram] = []

    init?(url: URL) {
        guard let data = try? Data(contentsOf: url) else { return nil }
        let bytes = [UInt8](data)
        var frames: [(link: UInt32, ts: Int64, data: ArraySlice<UInt8>)] = []
        guard bytes.count >= 24 else { return nil }
        let magicLE = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        func u32(_ o: Int, _ le: Bool) -> UInt32? {
            guard o >= 0, o + 4 <= bytes.count else { return nil }
            let b = bytes[o..<(o + 4)].map(UInt32.init)
            return le ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 : b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]
        }
        func u16(_ o: Int, _ le: Bool) -> UInt16? {
            guard o >= 0, o + 2 <= bytes.count else { return nil }
            return le ? UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8 : UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1])
        }
        switch magicLE {
        case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
            let le = magicLE == 0xa1b2c3d4 || magicLE == 0xa1b23c4d
            let nanos = magicLE == 0xa1b23c4d || magicLE == 0x4d3cb2a1
            guard let link = u32(20, le) else { return nil }
            var o = 24
            while let incl = u32(o + 8, le), let sec = u32(o, le), let sub = u32(o + 4, le), o + 16 + Int(incl) <= bytes.count {
                let ts = Int64(sec) * 1_000_000_000 + Int64(sub) * (nanos ? 1 : 1000)
                frames.append((link & 0xFFFF, ts, bytes[(o + 16)..<(o + 16 + Int(incl))]))
                o += 16 + Int(incl)
            }
        case 0x0a0d0d0a:
            var le = true
            var links: [UInt32] = []
            var o = 0
            while o + 12 <= bytes.count {
                if u32(o, true) == 0x0a0d0d0a { le = u32(o + 8, true) == 0x1a2b3c4d; links = [] }
                guard let type = u32(o, le), let len = u32(o + 4, le), len >= 12, o + Int(len) <= bytes.count else { break }
                switch type {
                case 1: if let l = u16(o + 8, le) { links.append(UInt32(l)) }
                case 6:
                    if let ifc = u32(o + 8, le), let hi = u32(o + 12, le), let lo = u32(o + 16, le), let cap = u32(o + 20, le),
                       Int(ifc) < links.count, o + 28 + Int(cap) <= bytes.count {
                        frames.append((links[Int(ifc)], Int64(hi) << 32 | Int64(lo), bytes[(o + 28)..<(o + 28 + Int(cap))]))
                    }
                case 3:
                    if let cap = u32(o + 8, le), let l = links.first {
                        let n = min(Int(cap), Int(len) - 16)
                        if n > 0 { frames.append((l, 0, bytes[(o + 12)..<(o + 12 + n)])) }
                    }
                default: break
                }
                o += Int(len)
            }
        default:
            return nil
        }
        var flowIndex: [String: Int] = [:]
        var nextSeq: [String: UInt32] = [:]
        for (i, f) in frames.enumerated() {
            guard let p = TestCapture.decode(link: f.link, frame: Array(f.data)) else { continue }
            let a = "\(p.src)|\(p.sport)", b = "\(p.dst)|\(p.dport)"
            if !p.isTCP {
                udp.append(TestDatagram(frame: i + 1, ts: f.ts, src: (p.src, p.sport), dst: (p.dst, p.dport), payload: p.payload))
                continue
            }
            let key = a < b ? a + "-" + b : b + "-" + a
            if p.syn && !p.ack, let old = flowIndex[key], !tcp[old].segments.isEmpty || tcp[old].sawSYN == false {
                flowIndex[key] = nil  // a new connection on a reused 4-tuple
            }
            if flowIndex[key] == nil {
                flowIndex[key] = tcp.count
                let initiatorIsSrc = !(p.syn && p.ack)
                tcp.append(TestTCPFlow(initiator: initiatorIsSrc ? (p.src, p.sport) : (p.dst, p.dport),
                                       responder: initiatorIsSrc ? (p.dst, p.dport) : (p.src, p.sport),
                                       sawSYN: p.syn && !p.ack, openedAt: f.ts, segments: []))
                nextSeq[key + "0"] = nil; nextSeq[key + "1"] = nil
            }
            let fi = flowIndex[key]!
            let fromInit = tcp[fi].initiator.ip == p.src && tcp[fi].initiator.port == p.sport
            let dk = key + (fromInit ? "1" : "0")
            var payload = p.payload
            var seq = p.seq
            if p.syn { seq = seq &+ 1 }
            if let n = nextSeq[dk] {
                let behind = Int(Int32(bitPattern: n &- seq))
                if behind >= payload.count { continue }            // a pure retransmission
                if behind > 0 { payload.removeFirst(behind); seq = n }
                if Int32(bitPattern: seq &- n) > 0 { nextSeq[dk] = seq }  // a gap: capture loss
            }
            nextSeq[dk] = seq &+ UInt32(payload.count)
            if !payload.isEmpty { tcp[fi].segments.append(TestSegment(frame: i + 1, ts: f.ts, fromInitiator: fromInit, payload: payload)) }
        }
    }

    struct Packet {
        var src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16
        var isTCP: Bool, syn: Bool, ack: Bool, seq: UInt32, payload: [UInt8]
    }

    static func decode(link: UInt32, frame: [UInt8]) -> Packet? {
        var o: Int
        var ethertype: Int
        func be16(_ i: Int) -> Int? { i + 2 <= frame.count ? Int(frame[i]) << 8 | Int(frame[i + 1]) : nil }
        switch link {
        case 1:
            o = 14; guard var t = be16(12) else { return nil }
            while t == 0x8100 || t == 0x88a8 { guard let n = be16(o + 2) else { return nil }; t = n; o += 4 }
            ethertype = t
        case 113: o = 16; guard let t = be16(14) else { return nil }; ethertype = t
        case 276: o = 20; guard let t = be16(0) else { return nil }; ethertype = t
        case 101, 12, 14, 228, 229:
            o = 0; guard let v = frame.first else { return nil }; ethertype = v >> 4 == 6 ? 0x86dd : 0x0800
        case 0, 108:
            o = 4; guard frame.count > 4 else { return nil }; ethertype = frame[4] >> 4 == 6 ? 0x86dd : 0x0800
        default: return nil
        }
        var proto: Int, src: [UInt8], dst: [UInt8], end: Int
        if ethertype == 0x0800 {
            guard o + 20 <= frame.count, frame[o] >> 4 == 4 else { return nil }
            let ihl = Int(frame[o] & 15) * 4
            guard let total = be16(o + 2) else { return nil }
            guard be16(o + 6).map({ $0 & 0x1FFF }) == 0 else { return nil }  // skip non-first fragments
            proto = Int(frame[o + 9]); src = Array(frame[(o + 12)..<(o + 16)]); dst = Array(frame[(o + 16)..<(o + 20)])
            end = min(frame.count, o + total); o += ihl
        } else if ethertype == 0x86dd {
            guard o + 40 <= frame.count, let plen = be16(o + 4) else { return nil }
            proto = Int(frame[o + 6]); src = Array(frame[(o + 8)..<(o + 24)]); dst = Array(frame[(o + 24)..<(o + 40)])
            end = min(frame.count, o + 40 + plen); o += 40
        } else { return nil }
        guard o <= end else { return nil }
        if proto == 6 {
            guard o + 20 <= end, let sp = be16(o), let dp = be16(o + 2) else { return nil }
            let seq = UInt32(frame[o + 4]) << 24 | UInt32(frame[o + 5]) << 16 | UInt32(frame[o + 6]) << 8 | UInt32(frame[o + 7])
            let doff = Int(frame[o + 12] >> 4) * 4, flags = frame[o + 13]
            guard doff >= 20, o + doff <= end else { return nil }
            return Packet(src: src, dst: dst, sport: UInt16(sp), dport: UInt16(dp), isTCP: true, syn: flags & 2 != 0,
                          ack: flags & 16 != 0, seq: seq, payload: Array(frame[(o + doff)..<end]))
        }
        if proto == 17 {
            guard o + 8 <= end, let sp = be16(o), let dp = be16(o + 2) else { return nil }
            return Packet(src: src, dst: dst, sport: UInt16(sp), dport: UInt16(dp), isTCP: false, syn: false, ack: false, seq: 0,
                          payload: Array(frame[(o + 8)..<end]))
        }
        return nil
    }
}

enum TunnelTestFiles {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("SampleCaptures/tunnels")
    static func sample(_ name: String) -> TestCapture? { TestCapture(url: samples.appendingPathComponent(name)) }
}
