#!/usr/bin/env python3
"""Writes Fuzz/Corpus/<target>/ seeds for the BitTorrentClassifier fuzz targets (FuzzBencode, FuzzDHT,
FuzzPeerWire, FuzzUTP, FuzzHTTPTracker, FuzzTorrent, FuzzTunnel) from real payloads, extracted with tshark
from SampleCaptures/*/ and ../shared/corpus/public/bittorrent, and writes one Fuzz/Corpus/<target>/PROVENANCE.tsv
line per seed (seed, source file, frames). Input layouts: see Sources/FuzzEntryPoints/*FuzzInput.swift.
"""
import os, struct, subprocess, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PUBLIC = os.environ.get("TORSCAN_PUBLIC_CORPUS", os.path.join(ROOT, "..", "shared", "corpus", "public"))
OUT = os.path.join(ROOT, "Fuzz", "Corpus")
MAX_SEED = 4096  # Scripts/fuzz.sh runs with -max_len=4096

def src(path):
    return os.path.join(ROOT, path) if path.startswith("SampleCaptures/") else os.path.join(PUBLIC, path)

def packets(path, proto, filt, limit):
    """[(frame, src endpoint, payload)] of `proto` (tcp/udp) packets with a payload matching the display filter."""
    f = f"{proto}.len > 0" + (f" && ({filt})" if filt else "") if proto == "tcp" else (f"udp && ({filt})" if filt else "udp")
    out = subprocess.run(["tshark", "-r", src(path), "-Y", f, "-T", "fields", "-E", "separator=|", "-e", "frame.number",
                          "-e", "ip.src", "-e", "ipv6.src", "-e", f"{proto}.srcport", "-e", f"{proto}.payload"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        n, a4, a6, port, payload = line.split("|")
        if payload:
            rows.append((int(n), (a4 or a6, port), bytes.fromhex(payload.replace(":", ""))))
        if len(rows) >= limit: break
    return rows

def frames(rows):
    ns = [r[0] for r in rows]
    return ",".join(map(str, ns)) if len(ns) <= 4 else f"{ns[0]}-{ns[-1]} ({len(ns)} frames)"

seeds = {}
def seed(target, name, data, source, frame_text):
    data = data[:MAX_SEED]
    seeds.setdefault(target, []).append((name, data, source, frame_text))

def directed(rows, selector):
    """Selector byte then records: u16be (0x8000 = sent by the first packet's sender) + payload."""
    first = rows[0][1]
    out = bytes([selector])
    for _, ep, p in rows:
        p = p[:0x7FFF]
        out += struct.pack(">H", len(p) | (0x8000 if ep == first else 0)) + p
    return out

def one_direction(rows):
    first = rows[0][1]
    return [r for r in rows if r[1] == first]

# DHT and bencode: single KRPC datagrams.
for path, count in [("bittorrent/suricata-verify_bittorrent-dht.pcap", 6), ("bittorrent/incc_torrent-dht.pcap", 4),
                    ("SampleCaptures/dht-magnet/capture.pcap", 4)]:
    for n, _, p in packets(path, "udp", 'udp.payload[0:1] == "d"', count):
        base = os.path.basename(path).rsplit(".", 1)[0] if "Sample" not in path else path.split("/")[1]
        seed("FuzzDHT", f"{base}_{n}", p, path, str(n))
        if len(seeds.get("FuzzBencode", [])) < 6: seed("FuzzBencode", f"{base}_{n}", p, path, str(n))

# Torrents (also bencode seeds).
for path in ["bittorrent/BittorrentReconstituter_test.txt.torrent", "bittorrent/BittorrentReconstituter_mippo-creative_v92.mp3.torrent",
             "bittorrent/BittorrentReconstituter_lookaway.mp3.torrent", "SampleCaptures/utp/charlie.bin.torrent",
             "SampleCaptures/multi-torrent/golf-a.bin.torrent"]:
    data = open(src(path), "rb").read()
    seed("FuzzTorrent", os.path.basename(path), data, path, "whole file")
    seed("FuzzBencode", os.path.basename(path), data, path, "whole file")

# Peer wire: one direction of a TCP stream, fed whole (n = 0), in 64-byte segments, and from its second segment on (mid-stream).
for path, stream in [("bittorrent/bittorrent.pcap", 0), ("bittorrent/bittorrent.pcap", 1), ("SampleCaptures/mse-plaintext/capture.pcap", 0),
                     ("SampleCaptures/rtorrent-ctorrent/capture.pcap", 0), ("bittorrent/bittorrent_tcp_miss.pcapng", 0)]:
    rows = packets(path, "tcp", f"tcp.stream == {stream}", 40)
    if not rows: print("skip", path, file=sys.stderr); continue
    for label, picked in [("init", one_direction(rows)), ("resp", [r for r in rows if r[1] != rows[0][1]])]:
        if not picked: continue
        stream_bytes = b"".join(p for _, _, p in picked)[:MAX_SEED - 64]
        base = f"{os.path.basename(path).rsplit('.', 1)[0] if 'Sample' not in path else path.split('/')[1]}_s{stream}_{label}"
        seed("FuzzPeerWire", base, b"\x00" + stream_bytes, path, frames(picked))
        if label == "init":
            seed("FuzzPeerWire", base + "_seg64", bytes([40]) + bytes([7] * 20 + [0x83] + [7] * 19) + stream_bytes, path, frames(picked))
            mid = b"".join(p for _, _, p in picked[1:])[:MAX_SEED - 64]
            if mid: seed("FuzzPeerWire", base + "_mid", b"\x00" + mid, path, frames(picked[1:]))

# UDP flows: uTP, tracker, LSD, DHT.
for path, filt, count, sel in [("bittorrent/bittorrent_utp.pcap", "udp.stream == 0", 10, 0), ("SampleCaptures/utp/capture.pcap", "udp.stream == 0", 10, 0),
                               ("SampleCaptures/utp-transmission/capture.pcap", "udp.stream == 1", 10, 0),
                               ("SampleCaptures/udp-tracker/capture.pcap", "udp.stream == 0", 6, 0), ("bittorrent/bt-udp.pcap", "", 4, 0),
                               ("SampleCaptures/lsd/capture.pcap", "udp.dstport == 6771", 3, 0), ("SampleCaptures/ipv6/capture.pcap", "udp", 6, 1),
                               ("SampleCaptures/dht-magnet/capture.pcap", "udp.stream == 0", 4, 0)]:
    rows = packets(path, "udp", filt, count)
    if not rows: print("skip", path, file=sys.stderr); continue
    name = os.path.basename(path).rsplit(".", 1)[0] if "Sample" not in path else path.split("/")[1]
    seed("FuzzUTP", name, directed(rows, sel), path, frames(rows))

# HTTP tracker requests and responses (selector: bit 0 response, bit 1 every prefix).
for path in ["bittorrent/bt-http.pcapng", "SampleCaptures/tcp-http-tracker/capture.pcap"]:
    name = os.path.basename(path).rsplit(".", 1)[0] if "Sample" not in path else path.split("/")[1]
    for kind, filt, sel in [("req", 'tcp.payload[0:4] == "GET "', 0), ("resp", 'tcp.payload[0:5] == "HTTP/"', 1)]:
        for n, _, p in packets(path, "tcp", filt, 1):
            seed("FuzzHTTPTracker", f"{name}_{kind}_{n}", bytes([sel]) + p, path, str(n))
            seed("FuzzHTTPTracker", f"{name}_{kind}_{n}_prefixes", bytes([sel | 2]) + p[:1024], path, str(n))

# Tunnels: the first segments of a proxied connection, both directions; an MSE handshake.
tunnels = sorted(f for f in os.listdir(os.path.join(ROOT, "SampleCaptures", "tunnels")) if f.endswith((".pcap", ".pcapng")))
for f in tunnels + ["../encrypted/capture.pcap"]:
    path = f"SampleCaptures/tunnels/{f}" if not f.startswith("..") else "SampleCaptures/encrypted/capture.pcap"
    rows = packets(path, "tcp", "tcp.stream == 0", 6)
    if not rows: continue
    seed("FuzzTunnel", os.path.basename(f).rsplit(".", 1)[0] if "encrypted" not in path else "encrypted", directed(rows, 1), path, frames(rows))
for n, _, p in packets("SampleCaptures/tunnels/socks5-udp-associate-dht.pcap", "udp", "", 1):
    seed("FuzzTunnel", f"socks5-udp-datagram_{n}", p, "SampleCaptures/tunnels/socks5-udp-associate-dht.pcap", f"{n} (whole datagram: SOCKS5UDPHeader)")

total = 0
for target, items in seeds.items():
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "PROVENANCE.tsv"), "w") as prov:
        prov.write("seed\tsource\tframes\n")
        for name, data, source, frame_text in items:
            open(os.path.join(d, name), "wb").write(data)
            prov.write(f"{name}\t{source}\t{frame_text}\n")
            total += len(data)
    print(target, len(items), "seeds")
print(total, "bytes")
