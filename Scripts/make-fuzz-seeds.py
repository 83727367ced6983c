#!/usr/bin/env python3
"""Writes Fuzz/Corpus/FuzzDecode seeds from real frames of ../shared/corpus/public (small: < 300 KB total).

Seed layout (see Sources/FuzzEntryPoints/DecodeFuzzInput.swift): 1 selector byte (index into fuzzLinkTypes),
then frames as u16be length + bytes. Each seed is named after its source file and frames.
"""
import os, struct, sys

ROOT = os.path.join(os.path.dirname(__file__), "..")
CORPUS = os.environ.get("TORSCAN_PUBLIC_CORPUS", os.path.join(ROOT, "..", "shared", "corpus", "public"))
OUT = os.path.join(ROOT, "Fuzz", "Corpus", "FuzzDecode")
SELECTOR = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 12: 6, 14: 7, 228: 8, 229: 9}

def frames(path):
    d = open(path, "rb").read()
    m = struct.unpack("<I", d[:4])[0]
    out = []
    if m == 0x0A0D0D0A:
        off, be, links = 0, "<", []
        while off + 12 <= len(d):
            if struct.unpack("<I", d[off:off + 4])[0] == 0x0A0D0D0A:
                be = "<" if struct.unpack("<I", d[off + 8:off + 12])[0] == 0x1A2B3C4D else ">"
                links = []
            t, l = struct.unpack(be + "II", d[off:off + 8])
            if l < 12: break
            if t == 1: links.append(struct.unpack(be + "H", d[off + 8:off + 10])[0])
            if t == 6:
                iface, cap = struct.unpack(be + "I", d[off + 8:off + 12])[0], struct.unpack(be + "I", d[off + 20:off + 24])[0]
                out.append((links[iface] if iface < len(links) else -1, d[off + 28:off + 28 + cap]))
            off += l
        return out
    be = "<" if m in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    lt = struct.unpack(be + "I", d[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(d):
        cap = struct.unpack(be + "I", d[off + 8:off + 12])[0]
        out.append((lt, d[off + 16:off + 16 + cap])); off += 16 + cap
    return out

# (file, first frame, last frame) — 1-based, inclusive.
PICKS = [
    ("formats/arkime_pppoe.pcap", 1, 2), ("formats/zeek_vlan-qinqinq.pcap", 1, 1), ("formats/dot1ad.pcap", 1, 1),
    ("formats/802.1ad_QinQ.pcap", 1, 1), ("formats/pppoes.pcap", 1, 2), ("formats/tcp-handshake-nano.pcap", 1, 3),
    ("formats/PcapPlusPlus_sll2.pcap", 1, 2), ("formats/null_loopback.pcap", 1, 3), ("formats/raw_ip.pcap", 1, 2),
    ("formats/linktype_ipv4.pcap", 1, 2), ("formats/LINKTYPE_RAW_ipv6.pcap", 1, 1), ("formats/zeek_ipv6-hbh-routing0.pcap", 1, 1),
    ("formats/pl7m_ipv6_ext_routing-header.pcap", 1, 1), ("formats/pl7m_ipv6_ext_hop-by-hop_and_destination-opt.pcap", 1, 1),
    ("formats/pl7m_ipv6_ext_destination-opt.pcap", 1, 1), ("formats/zeek_ipv6-mobility-dst-opts.pcap", 1, 1),
    ("formats/zeek_ipv6-http-atomic-frag.pcap", 1, 2), ("formats/ndpi_fuzz-2006-06-26-2594.pcap", 86, 86),
    ("formats/zeek_mixed-vlan-mpls.pcap", 1, 1), ("formats/ip4_bad_fragment.pcap", 1, 1), ("formats/zeek_ip6-trunc.pcap", 1, 1),
    ("formats/zeek_ipv4-truncated-broken-header.pcap", 1, 1), ("formats/zeek_ip6-ext-trunc.pcap", 1, 1),
    ("formats/ip4_fragments.pcap", 1, 6), ("formats/ip6_fragments.pcap", 1, 7), ("formats/zeek_ipv6-fragmented-dns.pcap", 6, 8),
    ("formats/ndpi_ip_fragmented_garbage.pcap", 1, 8), ("negative/dns_fragmented.pcap", 2, 3), ("negative/stun.pcap", 15, 15),
    ("bittorrent/bt-udp.pcap", 1, 3), ("bittorrent/bittorrent.pcap", 1, 4), ("bittorrent/lru_ipv6_caches.pcapng", 1, 3),
    ("formats/ndpi_6in4tunnel.pcap", 1, 1), ("formats/ndpi_4in6tunnel.pcap", 1, 1), ("formats/zeek_Teredo.pcap", 1, 2),
]

os.makedirs(OUT, exist_ok=True)
total = 0
for name, first, last in PICKS:
    fs = frames(os.path.join(CORPUS, name))[first - 1:last]
    if not fs or fs[0][0] not in SELECTOR: print("skip", name, file=sys.stderr); continue
    seed = bytes([SELECTOR[fs[0][0]]]) + b"".join(struct.pack(">H", len(b)) + b for _, b in fs if len(b) < 65536)
    fn = os.path.basename(name).rsplit(".", 1)[0] + f"_{first}-{last}"
    open(os.path.join(OUT, fn), "wb").write(seed)
    total += len(seed)
print(f"{len(os.listdir(OUT))} seeds, {total} bytes")
