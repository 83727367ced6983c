#!/usr/bin/python3
"""Background traffic helpers run inside a namespace: a DNS query (RFC 1035), random UDP datagrams,
and (negative-local) many short random UDP exchanges against a server that answers at random."""
import os, random, socket, struct, sys

def dns(server, name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(q, (server, 53))
    try:
        print("dns answer", len(s.recvfrom(1500)[0]), "bytes")
    except socket.timeout:
        print("dns timeout")

def rand_udp(dst, dport, sport, count, seed):
    rng = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", sport))
    for _ in range(count):
        s.sendto(rng.randbytes(rng.randint(20, 1200)), (dst, dport))

def udp_flows(dst, ports, flows, seed):
    """`flows` exchanges, each from its own source port to one of `ports`: 1..4 datagrams of 16..300
    random bytes. Every fifth flow is shaped like WireGuard (message types 1, 2, 4 little-endian
    in the first four bytes, 148/92-byte handshakes) but its bytes are random: not WireGuard."""
    rng = random.Random(seed)
    for i in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.05)
        s.bind(("0.0.0.0", 0))
        port = ports[i % len(ports)]
        if i % 5 == 4:
            msgs = [struct.pack("<I", 1) + rng.randbytes(144)] + [struct.pack("<I", 4) + rng.randbytes(rng.randint(28, 200)) for _ in range(2)]
        else:
            msgs = [rng.randbytes(rng.randint(16, 300)) for _ in range(rng.randint(1, 4))]
        for m in msgs:
            s.sendto(m, (dst, port))
            try: s.recvfrom(2048)
            except socket.timeout: pass
        s.close()

def udp_server(host, ports, seed):
    """Answers about half the datagrams with random bytes (a WireGuard-shaped initiation gets a 92-byte type-2 reply)."""
    import selectors
    rng = random.Random(seed)
    sel = selectors.DefaultSelector()
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((host, p)); sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            data, peer = key.fileobj.recvfrom(2048)
            if data[:4] == struct.pack("<I", 1) and len(data) == 148:
                key.fileobj.sendto(struct.pack("<I", 2) + rng.randbytes(88), peer)
            elif rng.random() < 0.5:
                key.fileobj.sendto(rng.randbytes(rng.randint(16, 300)), peer)

if sys.argv[1] == "udpflows":
    udp_flows(sys.argv[2], [int(p) for p in sys.argv[3].split(",")], int(sys.argv[4]), int(sys.argv[5]))
elif sys.argv[1] == "udpserver":
    udp_server(sys.argv[2], [int(p) for p in sys.argv[3].split(",")], int(sys.argv[4]))
elif sys.argv[1] == "dns":
    for i, name in enumerate(["example.test", "www.example.test", "tracker.example.test"]):
        dns(sys.argv[2], name, 0x1000 + i)
elif sys.argv[1] == "udp":
    rand_udp(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
