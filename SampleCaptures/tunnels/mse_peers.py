#!/usr/bin/python3
"""Real MSE/PE (encrypted BitTorrent) connections between two clients on loopback, for make-mse-captures.sh.
libtorrent WORKDIR [PORT]  two python3-libtorrent 2.0 sessions, encryption forced (RC4), seeder 127.0.0.1:16891
                           (leecher through SOCKS5 127.0.0.1:PORT as alice/s3cret when PORT is given).
tracker PORT               a minimal HTTP tracker (BEP 3/23 compact) for clients that need one (aria2, transmission).
torrent WORKDIR TRACKER    writes WORKDIR/data.bin (1 KiB) and WORKDIR/t.torrent announcing to TRACKER.
utp WORKDIR PORT           two python3-libtorrent 2.0 sessions, uTP only, encryption disabled: the leecher reaches the
                           seeder 127.0.0.1:16895 through SOCKS5 127.0.0.1:PORT, so uTP goes over UDP ASSOCIATE."""
import hashlib, os, sys, time, socket, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse, parse_qs

def bencode(x):
    if isinstance(x, int): return b"i%de" % x
    if isinstance(x, bytes): return b"%d:%s" % (len(x), x)
    if isinstance(x, str): return bencode(x.encode())
    if isinstance(x, list): return b"l" + b"".join(map(bencode, x)) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(x.items())) + b"e"

def torrent(work, tracker):
    data = bytes((i * 7919 + 13) % 251 for i in range(1024))
    open(os.path.join(work, "data.bin"), "wb").write(data)
    info = {"name": "data.bin", "length": len(data), "piece length": 16384, "pieces": hashlib.sha1(data).digest()}
    open(os.path.join(work, "t.torrent"), "wb").write(bencode({"announce": tracker, "info": info}))
    print(hashlib.sha1(bencode(info)).hexdigest())

def tracker(port):
    peers = {}
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            q = parse_qs(urlparse(self.path).query, keep_blank_values=True)
            me = (self.client_address[0], int(q["port"][0]))
            peers[me] = time.time()
            compact = b"".join(socket.inet_aton(h) + p.to_bytes(2, "big") for (h, p) in peers if (h, p) != me)
            body = bencode({"interval": 60, "peers": compact})
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a): pass
    HTTPServer(("127.0.0.1", int(port)), H).serve_forever()

def libtorrent(work, proxy_port=None):
    """With PROXY_PORT the leecher reaches the seeder through SOCKS5 127.0.0.1:PROXY_PORT as user alice."""
    import libtorrent as lt
    base = {"enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "enable_outgoing_utp": False, "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True,
            "out_enc_policy": int(lt.enc_policy.forced), "in_enc_policy": int(lt.enc_policy.forced),
            "allowed_enc_level": int(lt.enc_level.rc4)}
    ti = lt.torrent_info(os.path.join(work, "t.torrent"))
    seed = lt.session(dict(base, listen_interfaces="127.0.0.1:16891"))
    proxy = {} if proxy_port is None else {"proxy_type": int(lt.proxy_type_t.socks5_pw), "proxy_hostname": "127.0.0.1",
                                           "proxy_port": int(proxy_port), "proxy_username": "alice", "proxy_password": "s3cret",
                                           "proxy_peer_connections": True, "proxy_tracker_connections": True}
    leech = lt.session(dict(base, listen_interfaces="127.0.0.1:16892", **proxy))
    os.makedirs(os.path.join(work, "leech"), exist_ok=True)
    hs = seed.add_torrent({"ti": ti, "save_path": work})
    hl = leech.add_torrent({"ti": lt.torrent_info(os.path.join(work, "t.torrent")), "save_path": os.path.join(work, "leech")})
    time.sleep(1)
    hl.connect_peer(("127.0.0.1", 16891))
    for _ in range(100):
        if hl.status().is_seeding: break
        time.sleep(0.1)
    print("leecher seeding:", hl.status().is_seeding)
    time.sleep(0.5)

def utp(work, proxy_port):
    import libtorrent as lt
    base = {"enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
            "enable_outgoing_tcp": False, "enable_incoming_tcp": False, "enable_outgoing_utp": True, "enable_incoming_utp": True,
            "allow_multiple_connections_per_ip": True,
            "out_enc_policy": int(lt.enc_policy.disabled), "in_enc_policy": int(lt.enc_policy.disabled)}
    seed = lt.session(dict(base, listen_interfaces="127.0.0.1:16895"))
    leech = lt.session(dict(base, listen_interfaces="127.0.0.1:16896", proxy_type=int(lt.proxy_type_t.socks5), proxy_hostname="127.0.0.1",
                            proxy_port=int(proxy_port), proxy_peer_connections=True, proxy_tracker_connections=True))
    os.makedirs(os.path.join(work, "leech"), exist_ok=True)
    seed.add_torrent({"ti": lt.torrent_info(os.path.join(work, "t.torrent")), "save_path": work})
    hl = leech.add_torrent({"ti": lt.torrent_info(os.path.join(work, "t.torrent")), "save_path": os.path.join(work, "leech")})
    time.sleep(1.5)
    hl.connect_peer(("127.0.0.1", 16895))
    for _ in range(100):
        if hl.status().is_seeding: break
        time.sleep(0.1)
    print("leecher seeding:", hl.status().is_seeding)
    time.sleep(0.5)

if __name__ == "__main__":
    {"libtorrent": libtorrent, "tracker": tracker, "torrent": torrent, "utp": utp}[sys.argv[1]](*sys.argv[2:])
