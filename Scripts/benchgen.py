#!/usr/bin/env python3
"""Deterministic benchmark capture for Scripts/bench (issue 6): background traffic with an IMIX-like
packet-size mix and many flows, with copies of the real BitTorrent flows of SampleCaptures/*/capture.pcap
mixed in. Same arguments, same bytes (a seeded random.Random; no clock, no hash order).

Usage: benchgen.py OUT.pcap [--size BYTES] [--bt-share 0.1] [--seed 6] [--samples DIR]

Background (little-endian microsecond Ethernet pcap, one packet every 100 us):
  - 4,000 flows live at once; when one ends a new one starts (so flows >> 200,000 at 2 GB).
  - TCP (55% of flows): SYN, SYN/ACK, ACK, data, FIN each way; IP sizes drawn from IMIX 7:4:1 of
    40/576/1500 bytes (40 = a bare ACK).
  - DNS-like UDP (30%): a 60-90 byte query to port 53 and a 100-300 byte answer.
  - Other UDP (15%, QUIC/RTP-like): IMIX sizes, at least 64 bytes.
  Payloads are slices of a fixed pseudo-random pool (like encrypted traffic), addresses 172.16/12
  clients and 198.18/15 servers (RFC 2544 benchmark range).
BitTorrent copies: every record of SampleCaptures/*/capture.pcap, copy k with the middle two octets of
every IPv4 address (bytes 4-5 of every IPv6 address) XORed with k, and timestamps shifted so that the
copies are spread evenly over the background's time span.
Checksums: IPv4 header checksums are correct (recomputed for copies). TCP checksums are left 0 in the
background and stale in the copies (the pseudo-header changed); UDP checksums are 0 ("none", RFC 768)
in the background and stale in the copies. torscan, tcpdump -w, nDPI and tshark's defaults do not check them.
"""
import argparse, glob, os, random, struct, sys

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--size", type=float, default=2e9, help="bytes (default 2e9); accepts 2e9, 5e7, ...")
p.add_argument("--bt-share", type=float, default=0.1, help="fraction of bytes that are BitTorrent copies")
p.add_argument("--seed", type=int, default=6)
p.add_argument("--samples", default=os.path.join(os.path.dirname(__file__), "..", "SampleCaptures"))
a = p.parse_args()
size = int(a.size)
rng = random.Random(a.seed)

# --- the BitTorrent templates --------------------------------------------------------------------
templates = []   # (relative ns, bytes, [address offsets], ipv4 header offset or -1, address kind)
for path in sorted(glob.glob(os.path.join(a.samples, "*", "capture.pcap"))):
    b = open(path, "rb").read()
    if b[:4] != b"\xd4\xc3\xb2\xa1" or struct.unpack_from("<I", b, 20)[0] != 1:
        continue  # little-endian microsecond Ethernet only
    off, t0 = 24, None
    while off + 16 <= len(b):
        s, us, incl, orig = struct.unpack_from("<IIII", b, off)
        data = b[off + 16: off + 16 + incl]
        off += 16 + incl
        if len(data) < incl: break
        t = (s * 1_000_000 + us) * 1000
        t0 = t if t0 is None else t0
        l3, etype = 14, struct.unpack_from(">H", data, 12)[0] if len(data) >= 14 else 0
        if etype == 0x8100 and len(data) >= 18: l3, etype = 18, struct.unpack_from(">H", data, 16)[0]
        if etype == 0x0800 and len(data) >= l3 + 20:
            templates.append((t - t0, data, orig, [l3 + 12, l3 + 16], l3, 4))
        elif etype == 0x86DD and len(data) >= l3 + 40:
            templates.append((t - t0, data, orig, [l3 + 8, l3 + 24], -1, 6))
        else:
            templates.append((t - t0, data, orig, [], -1, 0))
bt_bytes_per_copy = sum(16 + len(t[1]) for t in templates)

# --- background model ------------------------------------------------------------------------------
DT_NS = 100_000                      # one background packet every 100 us
IMIX = [40] * 7 + [576] * 4 + [1500]
BG_AVG = 16 + 14 + 380               # record bytes per background packet, measured (for the copy spacing)
copies = int(size * a.bt_share / bt_bytes_per_copy) if templates else 0
bg_packets_est = max(1, (size - copies * bt_bytes_per_copy) // BG_AVG)
span_ns = bg_packets_est * DT_NS
T0 = 1_765_000_000 * 1_000_000_000   # 2025-12-06

events = []  # (absolute ns, copy, template index)
for k in range(copies):
    start = T0 + k * span_ns // copies
    for i, t in enumerate(templates):
        events.append((start + t[0], k, i))
events.sort()

POOL = bytes(rng.getrandbits(8) for _ in range(1 << 16)) * 2
ETH = bytes.fromhex("020000000001" "020000000002")
TCP_HDR = struct.Struct(">6s6sH BBHHHBBH II HHIIBBHHH")   # Ethernet, IPv4 (20), TCP (20)
UDP_HDR = struct.Struct(">6s6sH BBHHHBBH II HHHH")        # Ethernet, IPv4 (20), UDP (8)
REC = struct.Struct("<IIII")
SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08
W = 4000

def new_flow():
    r = rng.random()
    client = (172 << 24) | (16 << 16) | rng.randrange(1 << 20)
    server = (198 << 24) | (18 << 16) | rng.randrange(1 << 17)
    sport = rng.randrange(1024, 65536)
    if r < 0.55:
        n = 7 + int(rng.expovariate(1 / 25))
        return [6, client, server, sport, rng.choice((443, 80, 8443, 993)), n, 0, rng.getrandbits(32), rng.getrandbits(32)]
    if r < 0.85:
        return [17, client, (8 << 24) | rng.randrange(1 << 16), sport, 53, 2, 0, 0, 0]
    return [17, client, server, sport, rng.choice((443, 3478, 5004)), 2 + int(rng.expovariate(1 / 30)), 0, 0, 0]

def ipsum(src, dst, proto):
    return 0x4500 + (64 << 8 | proto) + (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF)

def cks(s):
    s = (s & 0xFFFF) + (s >> 16); s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

flows = [new_flow() for _ in range(W)]
for f in flows: f.append(ipsum(f[1], f[2], f[0]))
stats = {"bg_packets": 0, "bt_packets": 0, "flows": W, "ip40": 0, "ip576": 0, "ip1500": 0, "other": 0}

out = open(a.out, "wb")
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
written, buf, ident, t, ev = 24, [], 0, T0, 0
while written < size:
    t += DT_NS
    while ev < len(events) and events[ev][0] <= t:
        ts, k, i = events[ev]; ev += 1
        _, data, orig, addrs, ip4, kind = templates[i]
        d = bytearray(data)
        for o in addrs:
            if kind == 4: d[o + 1] ^= k >> 8 & 0xFF; d[o + 2] ^= k & 0xFF
            else: d[o + 4] ^= k >> 8 & 0xFF; d[o + 5] ^= k & 0xFF
        if ip4 >= 0:
            ihl = (d[ip4] & 0x0F) * 4
            if len(d) >= ip4 + ihl:
                d[ip4 + 10: ip4 + 12] = b"\0\0"
                d[ip4 + 10: ip4 + 12] = struct.pack(">H", cks(sum(struct.unpack_from(">%dH" % (ihl // 2), d, ip4))))
        buf.append(REC.pack(ts // 1_000_000_000, ts // 1000 % 1_000_000, len(d), orig)); buf.append(d)
        written += 16 + len(d); stats["bt_packets"] += 1
    slot = rng.randrange(W)
    f = flows[slot]
    proto, client, server, sport, dport, n, i, cseq, sseq, s0 = f
    size_ip = rng.choice(IMIX)
    ident = (ident + 1) & 0xFFFF
    if proto == 6:
        if i == 0: flags, fromc, pay = SYN, True, 0
        elif i == 1: flags, fromc, pay = SYN | ACK, False, 0
        elif i == 2: flags, fromc, pay = ACK, True, 0
        elif i == n - 2: flags, fromc, pay = FIN | ACK, True, 0
        elif i == n - 1: flags, fromc, pay = FIN | ACK, False, 0
        else:
            pay = size_ip - 40
            flags, fromc = (ACK | PSH if pay else ACK), (rng.random() < 0.3 if pay else rng.random() < 0.7)
        if i == 1: sseq = (sseq + 0) & 0xFFFFFFFF
        seq, ack = (cseq, sseq) if fromc else (sseq, cseq)
        total = 40 + pay
        hdr = TCP_HDR.pack(ETH, ETH, 0x0800, 0x45, 0, total, ident, 0x4000, 64, 6, cks(s0 + total + ident + 0x4000),
                           client if fromc else server, server if fromc else client,
                           sport if fromc else dport, dport if fromc else sport, seq, ack, 0x50, flags, 65535, 0, 0)
        adv = pay + (1 if flags & (SYN | FIN) else 0)
        if fromc: cseq = (cseq + adv) & 0xFFFFFFFF
        else: sseq = (sseq + adv) & 0xFFFFFFFF
        f[7], f[8] = cseq, sseq
    else:
        fromc = (i % 2 == 0) if dport == 53 else rng.random() < 0.5
        total = (rng.randrange(60, 91) if fromc else rng.randrange(100, 301)) if dport == 53 else max(64, size_ip)
        pay = total - 28
        hdr = UDP_HDR.pack(ETH, ETH, 0x0800, 0x45, 0, total, ident, 0x4000, 64, 17, cks(s0 + total + ident + 0x4000),
                           client if fromc else server, server if fromc else client,
                           sport if fromc else dport, dport if fromc else sport, total - 20, 0)
    key = "ip%d" % total
    stats[key if key in stats else "other"] += 1
    o = (ident * 2654435761) & 0xFFFF
    frame = 14 + total
    buf.append(REC.pack(t // 1_000_000_000, t // 1000 % 1_000_000, frame, frame)); buf.append(hdr); buf.append(POOL[o:o + pay])
    written += 16 + frame; stats["bg_packets"] += 1
    i += 1
    if i >= n:
        nf = new_flow(); nf.append(ipsum(nf[1], nf[2], nf[0])); flows[slot] = nf; stats["flows"] += 1
    else:
        f[6] = i
    if len(buf) >= 30000:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
out.close()
print(f"benchgen: {a.out}: {written} bytes, {stats['bg_packets'] + stats['bt_packets']} packets "
      f"({stats['bt_packets']} BitTorrent in {copies} copies of {len(templates)} SampleCaptures records), "
      f"{stats['flows']}+ background flows; background IP sizes 40/576/1500/other: "
      f"{stats['ip40']}/{stats['ip576']}/{stats['ip1500']}/{stats['other']}", file=sys.stderr)
