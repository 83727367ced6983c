"""Ground truth for one capture: flows come from the capture (tshark fields, grouped by
5-tuple); LABELS come from what the scenario launched (roles: which namespace ran which
client on which port), never from a classifier. The payload is read only to attribute a
flow that is already labeled to one of the torrents the scenario created (handshake bytes
28..47, info_hash= in an announce URL, UDP announce offset 16, DHT info_hash key, LSD
Infohash header), and every infohash so found must be one the scenario made."""
import hashlib, json, struct, subprocess, urllib.parse
from lab import bdecode

PREFIX_MAX = 4 << 20        # bytes of each TCP direction kept (all of it, for these small captures)
TRANSFER_MIN = 8192         # payload bytes one way on a peer flow that mean piece data moved
LSD_V4 = ("239.192.152.143", 6771)   # BEP 14
LSD_V6 = ("ff15::efc0:988f", 6771)
HANDSHAKE = b"\x13BitTorrent protocol"

FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.len", "udp.length",
          "tcp.seq", "tcp.payload", "udp.payload"]


def read_flows(pcap):
    cmd = ["tshark", "-n", "-r", pcap, "-Y", "(tcp or udp) and not icmp and not icmpv6",
           "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.relative_sequence_numbers:TRUE",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    flows = {}
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        src = v["ip.src"] or v["ipv6.src"]; dst = v["ip.dst"] or v["ipv6.dst"]
        if v["tcp.srcport"]:
            proto, sp, dp = "tcp", int(v["tcp.srcport"]), int(v["tcp.dstport"])
            plen = int(v["tcp.len"] or 0)
            payload = bytes.fromhex(v["tcp.payload"].replace(":", ""))
        else:
            proto, sp, dp = "udp", int(v["udp.srcport"]), int(v["udp.dstport"])
            plen = max(int(v["udp.length"] or 8) - 8, 0)
            payload = bytes.fromhex(v["udp.payload"].replace(":", ""))
        a, b = (src, sp), (dst, dp)
        key = (proto,) + tuple(sorted([a, b]))
        fl = flows.get(key)
        if fl is None:
            fl = flows[key] = {"proto": proto, "src_ip": src, "src_port": sp, "dst_ip": dst, "dst_port": dp,
                               "first_frame": int(v["frame.number"]), "first_seen": float(v["frame.time_epoch"]),
                               "packets": 0, "payload_bytes_fwd": 0, "payload_bytes_rev": 0,
                               "_seg": {True: [], False: []}, "_udp": []}
        fwd = (src, sp) == (fl["src_ip"], fl["src_port"])
        fl["packets"] += 1
        fl["last_seen"] = float(v["frame.time_epoch"])
        fl["payload_bytes_fwd" if fwd else "payload_bytes_rev"] += plen
        if proto == "tcp" and plen:
            fl["_seg"][fwd].append((int(v["tcp.seq"] or 0), payload, plen))
        elif proto == "udp":
            fl["_udp"].append(((src, sp), (dst, dp), payload))
    for fl in flows.values():
        fl["_prefix"] = {d: assemble(fl["_seg"][d]) for d in (True, False)}
        del fl["_seg"]
    return sorted(flows.values(), key=lambda f: f["first_frame"])


def assemble(segs):
    """Contiguous stream prefix from (seq, captured bytes, wire length); stops at a gap or a snaplen cut."""
    out = b""; nxt = None
    for seq, data, plen in sorted(segs, key=lambda s: s[0]):
        if nxt is None:
            nxt = seq
        if seq > nxt:
            break
        if seq + plen <= nxt:
            continue
        out += data[nxt - seq:]
        nxt = seq + plen
        if len(data) < plen or len(out) >= PREFIX_MAX:
            break
    return out[:PREFIX_MAX]


# ------------------------------------------------------------- infohash readers

def utp_stream(packets, sender):
    """Peer-wire bytes one side sent over uTP (BEP 29): ST_DATA payloads in seq_nr order, after extensions."""
    data = {}; first = None
    for s, d, p in packets:
        if s != sender or len(p) < 20 or p[0] != 0x01:     # type ST_DATA (0), version 1
            continue
        i, ext = 20, p[1]
        while ext and i + 2 <= len(p):
            ext, i = p[i], i + 2 + p[i + 1]
        seq = struct.unpack(">H", p[16:18])[0]
        first = seq if first is None else first
        data.setdefault((seq - first) & 0xFFFF, p[i:])      # seq_nr wraps at 16 bits
    return b"".join(data[k] for k in sorted(data))


def verified_pieces(stream, piece_hashes, piece_len, total_len):
    """Piece indices whose every byte this stream carried in piece messages (BEP 3) and whose SHA-1
    matches the torrent. The stream must start at the handshake (or be searched for it)."""
    i = stream.find(HANDSHAKE)
    if i < 0 or not piece_hashes:
        return set()
    i += 68
    blocks = {}
    while i + 4 <= len(stream):
        n = struct.unpack(">I", stream[i:i + 4])[0]
        if i + 4 + n > len(stream):
            break
        if n >= 9 and stream[i + 4] == 7:
            idx, begin = struct.unpack(">II", stream[i + 5:i + 13])
            blocks.setdefault(idx, {})[begin] = stream[i + 13:i + 4 + n]
        i += 4 + n
    ok = set()
    for idx, parts in blocks.items():
        if idx >= len(piece_hashes):
            continue
        size = min(piece_len, total_len - idx * piece_len)
        buf = b"".join(parts[k] for k in sorted(parts))
        if len(buf) == size and hashlib.sha1(buf).digest() == piece_hashes[idx]:
            ok.add(idx)
    return ok


def handshake_hashes(stream):
    out = set(); i = stream.find(HANDSHAKE)
    while i >= 0 and i + 48 <= len(stream):
        out.add(stream[i + 28:i + 48].hex()); i = stream.find(HANDSHAKE, i + 1)
    return out


def http_announce_hashes(stream):
    out = set()
    for part in stream.split(b"info_hash=")[1:]:
        raw = urllib.parse.unquote_to_bytes(part.split(b"&")[0].split(b" ")[0])
        if len(raw) == 20:
            out.add(raw.hex())
    return out


def udp_tracker_hashes(payload):
    if len(payload) >= 36 and struct.unpack(">I", payload[8:12])[0] == 1:     # announce
        return {payload[16:36].hex()}
    if len(payload) >= 36 and struct.unpack(">I", payload[8:12])[0] == 2:     # scrape
        return {payload[o:o + 20].hex() for o in range(16, len(payload) - 19, 20)}
    return set()


def dht_query(payload):
    """(query name, info_hash hex or None, sender node id hex) for a KRPC query, else None."""
    try:
        m, _ = bdecode(payload)
    except Exception:
        return None
    if not isinstance(m, dict) or m.get(b"y") != b"q":
        return None
    a = m.get(b"a", {})
    ih, nid = a.get(b"info_hash"), a.get(b"id")
    return (m.get(b"q", b"").decode(errors="replace"), (ih.hex() if isinstance(ih, bytes) and len(ih) == 20 else None),
            nid.hex() if isinstance(nid, bytes) else "")


def common_prefix_bits(a, b):
    x = int(a, 16) ^ int(b, 16) if a and b else -1
    return 160 - x.bit_length() if x >= 0 else 0


def lsd_hashes(payload):
    out = set()
    for line in payload.split(b"\r\n"):
        if line.lower().startswith(b"infohash:"):
            out.add(line.split(b":", 1)[1].strip().decode().lower())
    return out


def socks5_target(stream):
    """Target (host, port) of a SOCKS5 CONNECT (RFC 1928) in the client's byte stream, and where the tunnel data starts."""
    if len(stream) < 3 or stream[0] != 5:
        return None
    i = 2 + stream[1]
    if len(stream) < i + 4 or stream[i] != 5:
        return None
    cmd, atyp = stream[i + 1], stream[i + 3]
    j = i + 4
    if atyp == 1:
        host = ".".join(str(b) for b in stream[j:j + 4]); j += 4
    elif atyp == 4:
        import ipaddress
        host = str(ipaddress.IPv6Address(stream[j:j + 16])); j += 16
    elif atyp == 3:
        n = stream[j]; host = stream[j + 1:j + 1 + n].decode(); j += 1 + n
    else:
        return None
    port = struct.unpack(">H", stream[j:j + 2])[0]
    return {"cmd": cmd, "host": host, "port": port, "data_at": j + 2}


def socks5_reply_end(stream):
    """Where tunnel data starts in the proxy's byte stream: after method choice and CONNECT reply."""
    if len(stream) < 6 or stream[0] != 5:
        return 0
    atyp = stream[5]
    return 2 + 4 + {1: 4, 4: 16}.get(atyp, 1 + (stream[6] if len(stream) > 6 else 0)) + 2


# ------------------------------------------------------------- labeling

class Truth:
    """Scenario roles -> labeled flows and expected evidence rows."""

    def __init__(self, torrents):
        self.torrents = {t["infohash"]: t for t in torrents}
        self.pieces = {}      # infohash -> [20-byte SHA-1 per piece], read from the .torrent we made
        for t in torrents:
            meta, _ = bdecode(open(t["torrent_path"], "rb").read())
            ps = meta[b"info"][b"pieces"]
            self.pieces[t["infohash"]] = [ps[o:o + 20] for o in range(0, len(ps), 20)]
        self.hosts = {}       # ip -> {"client":..., "tcp": set(listen ports), "utp": set(), "dht": set()}
        self.trackers = []    # {"ip","http_port","udp_port","software"}
        self.proxies = []     # {"ip","port","software"}
        self.services = []    # (proto, ip, port, label "other", description)
        self.encrypted = {}   # frozenset({ip1, ip2}) -> infohash known from the launch config
        self.encrypt_all = False  # every client launched with encryption required: all peer wire is MSE/PE
        self.evidence = {}
        self.hidden = {}
        self.notes = []
        self.dht_other = []   # DHT queries naming infohashes no one launched (routing-table maintenance)
        self.tunnel = None    # while a SOCKS5 client leg is labelled: {"via", "proxy", "client", "target"}

    def host(self, ip, client, tcp=(), utp=(), dht=(), torrents=None):
        """torrents: infohashes this address was launched with, or {listen port: infohashes} when
        several processes share the address (used only for flows whose infohash is not on the wire)."""
        self.hosts[ip] = {"client": client, "tcp": set(tcp), "utp": set(utp), "dht": set(dht), "torrents": torrents}

    def launched_torrents(self, end):
        t = self.hosts.get(end[0], {}).get("torrents")
        if isinstance(t, dict):
            return set(t.get(end[1], ()))
        return set(t) if t is not None else set(self.torrents)

    def verify(self, ih, sender_ip, stream, frame, out, key):
        """Count whole pieces this sender's bytes carried that match the torrent (ground truth for `verified`)."""
        t = self.torrents.get(ih)
        if not t:
            return
        ok = verified_pieces(stream, self.pieces[ih], t["piece_length"], t["length"])
        out[key] = out.get(key, 0) + len(ok)
        if ok:
            row = self.evidence[self.key(sender_ip, ih)]
            row["pieces_verified"] = row.get("pieces_verified", set()) | ok

    def key(self, ip, ih):
        """Rows are (ip, infohash, via), as torscan keys them (README "Output columns"): on a tunnel's
        client leg the evidence is via the proxy, and what the target said reaches the client from the
        proxy's address (the address that sent it on that leg)."""
        if not self.tunnel:
            return (ip, ih, "")
        return (ip if ip == self.tunnel["client"] else self.tunnel["proxy"], ih, self.tunnel["via"])

    def ev(self, ip, ih, conf, signal, frame, hidden=False):
        rank = {"announce": 0, "handshake": 1, "transfer": 2}
        book = self.hidden if hidden else self.evidence
        k = self.key(ip, ih)
        row = book.setdefault(k, {"ip": k[0], "infohash": ih, "confidence": conf, "signals": set(),
                                  "first_flow_frame": frame})
        if self.tunnel:
            row["via"] = self.tunnel["via"]
            row.setdefault("target", set()).add(self.tunnel["target"])
        if rank[conf] > rank[row["confidence"]]:
            row["confidence"] = conf
        row["signals"].add(signal)
        row["first_flow_frame"] = min(row["first_flow_frame"], frame)

    def known(self, hashes, where):
        unknown = set(hashes) - set(self.torrents)
        if unknown:
            self.notes.append("%s: infohashes not made by the scenario: %s" % (where, sorted(unknown)))
        return sorted(set(hashes) & set(self.torrents))

    def client_of(self, ip):
        return self.hosts.get(ip, {}).get("client", "")

    def label(self, fl):
        a, b = (fl["src_ip"], fl["src_port"]), (fl["dst_ip"], fl["dst_port"])
        fwd, rev = fl["_prefix"][True], fl["_prefix"][False]
        out = {"label": "other", "infohashes": [], "client": "", "tunnel": ""}
        moved = max(fl["payload_bytes_fwd"], fl["payload_bytes_rev"]) >= TRANSFER_MIN
        frame = fl["first_frame"]
        if fl["proto"] == "tcp":
            for tr in self.trackers:
                for me, other, stream in ((a, b, fwd), (b, a, rev)):
                    if other == (tr["ip"], tr.get("http_port")):
                        ihs = self.known(http_announce_hashes(stream), "http tracker flow %d" % frame)
                        for ih in ihs:
                            self.ev(me[0], ih, "announce", "tracker_http", frame)
                        out.update(label="bittorrent-tracker-http", infohashes=ihs,
                                   client=self.client_of(me[0]), server=tr["software"])
                        return out
            for px in self.proxies:
                for me, other, stream, back in ((a, b, fwd, rev), (b, a, rev, fwd)):
                    if other == (px["ip"], px["port"]):
                        tgt = socks5_target(stream)
                        out.update(tunnel="socks5", client=self.client_of(me[0]), server=px["software"])
                        if not tgt or tgt["cmd"] != 1:
                            out["note"] = "SOCKS5 session without CONNECT (command %s)" % (tgt["cmd"] if tgt else "?")
                            return out
                        out.update(tunnel_dst_ip=tgt["host"], tunnel_dst_port=tgt["port"])
                        self.tunnel = {"via": "%s:%d" % (px["ip"], px["port"]), "proxy": px["ip"], "client": me[0],
                                       "target": "%s:%d" % (tgt["host"], tgt["port"])}
                        try:
                            return self.tunnelled(out, me, tgt, stream, back, moved, frame)
                        finally:
                            self.tunnel = None
            inner = self.classify_tcp(a, b, fwd, rev, moved, frame)
            if inner:
                out.update(inner); return out
        else:
            for tr in self.trackers:
                for me, other in ((a, b), (b, a)):
                    if other == (tr["ip"], tr.get("udp_port")):
                        hs = set()
                        for s, d, p in fl["_udp"]:
                            if s == me:
                                hs |= udp_tracker_hashes(p)
                        ihs = self.known(hs, "udp tracker flow %d" % frame)
                        for ih in ihs:
                            self.ev(me[0], ih, "announce", "tracker_udp", frame)
                        out.update(label="bittorrent-tracker-udp", infohashes=ihs,
                                   client=self.client_of(me[0]), server=tr["software"])
                        return out
            if b in (LSD_V4, LSD_V6) and a[0] in self.hosts:
                hs = set()
                for s, d, p in fl["_udp"]:
                    hs |= lsd_hashes(p)
                ihs = self.known(hs, "lsd flow %d" % frame)
                for ih in ihs:
                    self.ev(a[0], ih, "announce", "lsd", frame)
                out.update(label="bittorrent-lsd", infohashes=ihs, client=self.client_of(a[0]))
                return out
            ha, hb = self.hosts.get(a[0]), self.hosts.get(b[0])
            if ha and hb and a[1] in ha["dht"] and b[1] in hb["dht"]:
                hs = set(); other_targets = 0
                for s, d, p in fl["_udp"]:
                    q = dht_query(p)
                    if q and q[1]:
                        if q[1] in self.torrents:
                            hs.add(q[1])
                            if q[0] in ("get_peers", "announce_peer"):
                                self.ev(s[0], q[1], "announce", "dht_" + q[0], frame)
                        else:
                            other_targets += 1
                            self.dht_other.append({"ip": s[0], "query": q[0], "info_hash": q[1], "frame_flow": frame,
                                                   "common_prefix_bits_with_sender_id": common_prefix_bits(q[1], q[2])})
                out.update(label="bittorrent-dht", infohashes=sorted(hs),
                           client="%s / %s" % (ha["client"], hb["client"]))
                if other_targets:
                    out["note"] = "%d queries for infohashes the scenario did not make" % other_targets
                return out
            if ha and hb and (a[1] in ha["utp"] and b[1] in hb["utp"]):
                ih = self.encrypted.get(frozenset([a[0], b[0]]))
                # uTP payload is the peer wire stream after the 20-byte uTP header (BEP 29)
                hs = set()
                for s, d, p in fl["_udp"]:
                    if len(p) > 20 and (p[0] >> 4) == 0:          # ST_DATA, version 1
                        hs |= handshake_hashes(p[20:])
                ihs = self.known(hs, "utp flow %d" % frame)
                if moved:
                    for ih in ihs:
                        self.ev(a[0], ih, "transfer", "utp_piece", frame); self.ev(b[0], ih, "transfer", "utp_piece", frame)
                for s, d, p in fl["_udp"]:
                    if len(p) > 20 and (p[0] >> 4) == 0:
                        for ih in handshake_hashes(p[20:]):
                            if ih in self.torrents:
                                self.ev(s[0], ih, "handshake", "utp_handshake", frame)
                out.update(label="bittorrent-utp", infohashes=ihs,
                           client="%s / %s" % (ha["client"], hb["client"]))
                if len(ihs) == 1 and moved:
                    self.verify(ihs[0], a[0], utp_stream(fl["_udp"], a), frame, out, "pieces_verified_fwd")
                    self.verify(ihs[0], b[0], utp_stream(fl["_udp"], b), frame, out, "pieces_verified_rev")
                return out
        for proto, ip, port, desc in self.services:
            if proto == fl["proto"] and ((ip, port) in (a, b) or (ip == "*" and port in (a[1], b[1]))):
                out.update(client=desc); return out
        out["client"] = "unexpected"
        self.notes.append("flow %d %s %s:%d -> %s:%d matched no launched role" % (frame, fl["proto"], *a, *b))
        return out

    def tunnelled(self, out, me, tgt, stream, back, moved, frame):
        """A SOCKS5 CONNECT's client leg: the tunnelled bytes, labelled as a direct flow to the target."""
        inner_stream = stream[tgt["data_at"]:]
        for tr in self.trackers:
            if (tgt["host"], tgt["port"]) == (tr["ip"], tr.get("http_port")):
                ihs = self.known(http_announce_hashes(inner_stream), "tunnelled tracker flow %d" % frame)
                for ih in ihs:
                    self.ev(me[0], ih, "announce", "tracker_http", frame)
                out.update(label="bittorrent-tracker-http", infohashes=ihs)
                return out
        inner = self.classify_tcp(me, (tgt["host"], tgt["port"]), stream[tgt["data_at"]:],
                                  back[socks5_reply_end(back):], moved, frame)
        if inner:
            out.update(inner)
        else:
            out["note"] = "CONNECT target is no launched BitTorrent listener; no BitTorrent bytes in the tunnel"
        return out

    def classify_tcp(self, a, b, fwd, rev, moved, frame):
        """Peer wire between two BitTorrent hosts: one end is the other's configured listen port."""
        ha, hb = self.hosts.get(a[0]), self.hosts.get(b[0])
        if not (ha and hb and (b[1] in hb["tcp"] or a[1] in ha["tcp"])):
            return None
        client = "%s / %s" % (ha["client"], hb["client"])
        ih = self.encrypted.get(frozenset([a[0], b[0]]))
        if ih is None and self.encrypt_all:
            return self.mse_required(a, b, client, moved, frame)
        if ih:
            # MSE/PE: the infohash is hidden on the wire; it is known from what was launched
            self.ev(a[0], ih, "handshake", "handshake", frame, hidden=True)
            self.ev(b[0], ih, "handshake", "handshake", frame, hidden=True)
            if moved:
                self.ev(a[0], ih, "transfer", "piece", frame, hidden=True)
                self.ev(b[0], ih, "transfer", "piece", frame, hidden=True)
            return {"label": "bittorrent-encrypted", "infohashes": [], "infohashes_hidden": [ih], "client": client,
                    "infohash_on_wire": False}
        ihs = self.known(handshake_hashes(fwd) | handshake_hashes(rev), "peer flow %d" % frame)
        if not ihs and (fwd or rev):
            # every client here speaks either the plaintext handshake or MSE/PE: no handshake means MSE
            # (e.g. an MSE attempt the other side refused). The torrent is not on the wire; it is known
            # when the two ends were launched with exactly one torrent in common.
            common = sorted(self.launched_torrents(a) & self.launched_torrents(b))
            row = {"label": "bittorrent-encrypted", "infohashes": [], "infohashes_hidden": common if len(common) == 1 else [],
                   "client": client, "infohash_on_wire": False}
            if len(common) == 1:
                self.ev(a[0], common[0], "handshake", "handshake", frame, hidden=True)
                self.ev(b[0], common[0], "handshake", "handshake", frame, hidden=True)
                if moved:
                    self.ev(a[0], common[0], "transfer", "piece", frame, hidden=True)
                    self.ev(b[0], common[0], "transfer", "piece", frame, hidden=True)
            else:
                row["note"] = "torrent not on the wire; the ends share %d torrents" % len(common)
            return row
        for me, stream in ((a, fwd), (b, rev)):
            for h in handshake_hashes(stream):
                if h in self.torrents:
                    self.ev(me[0], h, "handshake", "handshake", frame)
        row = {"label": "bittorrent-peer", "infohashes": ihs, "client": client}
        if moved:
            for ih in ihs:
                self.ev(a[0], ih, "transfer", "piece", frame); self.ev(b[0], ih, "transfer", "piece", frame)
            if len(ihs) == 1:
                self.verify(ihs[0], a[0], fwd, frame, row, "pieces_verified_fwd")
                self.verify(ihs[0], b[0], rev, frame, row, "pieces_verified_rev")
        if ihs and not (fwd.startswith(HANDSHAKE) or rev.startswith(HANDSHAKE)):
            # aria2 opens with an MSE/PE handshake and selects plaintext crypto: peer wire in the clear after it
            row["mse"] = "plaintext-after-mse-handshake"
        return row

    def mse_required(self, a, b, client, moved, frame):
        """Both ends require MSE/PE (RC4): the flow is encrypted whatever it carried. The torrent is
        hidden on the wire; it is known when the two ends were launched with exactly one in common."""
        common = sorted(self.launched_torrents(a) & self.launched_torrents(b))
        row = {"label": "bittorrent-encrypted", "infohashes": [], "infohashes_hidden": common if len(common) == 1 else [],
               "client": client, "infohash_on_wire": False}
        if len(common) == 1:
            for ip in (a[0], b[0]):
                self.ev(ip, common[0], "handshake", "handshake", frame, hidden=True)
                if moved:
                    self.ev(ip, common[0], "transfer", "piece", frame, hidden=True)
        else:
            row["note"] = "torrent not on the wire; the ends share %d torrents" % len(common)
        return row

    def build(self, pcap, meta):
        flows = []
        for fl in read_flows(pcap):
            lab = self.label(fl)
            row = {k: fl[k] for k in ("proto", "src_ip", "src_port", "dst_ip", "dst_port", "first_frame",
                                      "packets", "payload_bytes_fwd", "payload_bytes_rev")}
            row.update(lab)
            row["has_payload"] = bool(fl["payload_bytes_fwd"] or fl["payload_bytes_rev"])
            if row["label"] == "bittorrent-encrypted":
                # which client opened the connection (sent the SYN, so MSE's A) and which accepted it (B)
                row["initiator_client"] = self.client_of(fl["src_ip"])
                row["responder_client"] = self.client_of(fl["dst_ip"])
            flows.append(row)
        proxies = {p["ip"] for p in self.proxies}
        def rows(book):
            out = [dict(r, signals=sorted(r["signals"])) for _, r in sorted(book.items())]
            # The clients behind each (proxy, infohash): a proxy's own rows are attributed to them.
            behind = {}
            for r in out:
                if "via" in r and r["ip"] not in proxies:
                    behind.setdefault((r["via"].rsplit(":", 1)[0], r["infohash"]), set()).add(r["ip"])
            for r in out:
                if "pieces_verified" in r:    # distinct pieces, however many legs or flows carried them
                    r["pieces_verified"] = len(r["pieces_verified"])
                if "target" in r:
                    r["target"] = sorted(r["target"])
            for r in out:
                if r["ip"] in proxies and "via" in r:
                    r["note"] = "proxy address on the client leg: the target's bytes it relayed to the tunnelled client"
                elif r["ip"] in proxies:
                    r["note"] = "proxy egress address: the traffic it sent was relayed for a tunnelled client"
                    clients = behind.get((r["ip"], r["infohash"]))
                    if clients:
                        r["attributed_to"] = sorted(clients)
            return out
        doc = dict(meta)
        doc.update({"torrents": list(self.torrents.values()), "flows": flows,
                    "evidence": rows(self.evidence), "evidence_hidden_by_encryption": rows(self.hidden),
                    "notes": self.notes})
        if self.dht_other:
            doc["dht_queries_not_evidence"] = self.dht_other
        return doc
