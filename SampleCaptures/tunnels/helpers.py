#!/usr/bin/env python3
"""Loopback peers for make-captures.sh: a DHT node and a BitTorrent peer to reach through SOCKS5.
serve            UDP 127.0.0.1:16881 answers DHT pings/get_peers; TCP 127.0.0.1:16882 answers a BEP 3 handshake.
udp HOST PORT    SOCKS5 UDP ASSOCIATE at HOST:PORT, then DHT ping + get_peers through the relay (+ one FRAG=1 datagram).
bt HOST PORT [SRC [INFOHASH]]
                 SOCKS5 CONNECT at HOST:PORT to 127.0.0.1:16882, BEP 3 handshake both ways (from address
                 SRC, naming INFOHASH: the peer answers with the infohash it was sent).
bind HOST PORT   SOCKS5 BIND at HOST:PORT; a peer connects to the bound address and the two exchange
                 BEP 3 handshakes through the proxy (an incoming BitTorrent connection via SOCKS5)."""
import socket, struct, sys, threading, time

INFOHASH = bytes.fromhex("dbfc0ce7a1e5b8b2e0c4e3f3a3fb6a0b8e5d218c")
HS = lambda pid: b"\x13BitTorrent protocol" + b"\0" * 5 + b"\x10\0\x05" + INFOHASH + pid

def serve():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 16881))
    t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("127.0.0.1", 16882)); t.listen()
    def udp():
        while True:
            data, addr = u.recvfrom(2048)
            tid = data[data.index(b"1:t") + 3:][:4] if b"1:t" in data else b"2:aa"
            u.sendto(b"d1:rd2:id20:" + b"N" * 20 + b"5:token4:tokne1:t" + tid + b"1:y1:re", addr)
    def tcp():
        while True:
            c, _ = t.accept()
            hs = c.recv(68)
            if len(hs) == 68:
                c.sendall(hs[:28] + hs[28:48] + b"-TS0001-responder000" + b"\0\0\0\x01\x02")
            time.sleep(0.2); c.close()
    threading.Thread(target=udp, daemon=True).start()
    tcp()

def socks5(host, port, cmd, addr, aport, src=None):
    s = socket.create_connection((host, port), source_address=(src, 0) if src else None)
    s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
    s.sendall(b"\x05" + bytes([cmd]) + b"\x00\x01" + socket.inet_aton(addr) + struct.pack(">H", aport))
    r = s.recv(10); assert r[1] == 0, r
    return s, socket.inet_ntoa(r[4:8]), struct.unpack(">H", r[8:10])[0]

def udp(host, port):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); u.settimeout(2)
    s, raddr, rport = socks5(host, int(port), 3, "127.0.0.1", u.getsockname()[1])
    if raddr == "0.0.0.0": raddr = host
    hdr = lambda frag: b"\0\0" + bytes([frag]) + b"\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", 16881)
    ping = b"d1:ad2:id20:" + b"C" * 20 + b"e1:q4:ping1:t2:aa1:y1:qe"
    gp = b"d1:ad2:id20:" + b"C" * 20 + b"9:info_hash20:" + INFOHASH + b"e1:q9:get_peers1:t2:ab1:y1:qe"
    for msg in (hdr(0) + ping, hdr(0) + gp, hdr(1) + ping):
        u.sendto(msg, (raddr, rport))
        try: u.recvfrom(2048)
        except socket.timeout: pass
    s.close()

def bt(host, port, src=None, infohash=None):
    s, _, _ = socks5(host, int(port), 1, "127.0.0.1", 16882, src)
    hs = HS(b"-TS0001-initiator000")
    s.sendall(hs[:28] + bytes.fromhex(infohash) + hs[48:] if infohash else hs)
    s.recv(200); s.close()

def bind(host, port):
    s, baddr, bport = socks5(host, int(port), 2, "127.0.0.1", 0)   # RFC 1928 section 4: first reply
    if baddr == "0.0.0.0": baddr = host
    p = socket.create_connection((baddr, bport))                   # the remote peer connects to the proxy
    r = s.recv(10); assert r[1] == 0, r                             # second reply: the peer's address
    p.sendall(HS(b"-TS0001-bindpeer0000"))
    s.recv(68); s.sendall(HS(b"-TS0001-bindclient00"))
    p.recv(68); time.sleep(0.2); p.close(); s.close()

if __name__ == "__main__":
    {"serve": serve, "udp": udp, "bt": bt, "bind": bind}[sys.argv[1]](*sys.argv[2:])
