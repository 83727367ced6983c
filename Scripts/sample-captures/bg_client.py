#!/usr/bin/python3
"""Background traffic helpers run inside a namespace: a DNS query (RFC 1035) and random UDP datagrams."""
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

if sys.argv[1] == "dns":
    for i, name in enumerate(["example.test", "www.example.test", "tracker.example.test"]):
        dns(sys.argv[2], name, 0x1000 + i)
elif sys.argv[1] == "udp":
    rand_udp(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
