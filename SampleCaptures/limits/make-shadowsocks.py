#!/usr/bin/python3
"""A known limit of the MSE/PE shape detector (issue 7): Shadowsocks (shadowsocks-libev, AEAD ciphers)
looks like nothing on the wire, like MSE. Makes shadowsocks.pcap: only the client <-> ss-server leg
(TCP 8388 chacha20-ietf-poly1305, 8389 aes-256-gcm), for each cipher two small HTTP GETs through
ss-local (SOCKS5) and two SSH sessions through ss-tunnel. No truth.json: `torscan eval` does not
score this folder; Tests/EndToEndTests/EncryptedEvalTests.swift checks what torscan says.

usage: sudo SampleCaptures/limits/make-shadowsocks.py   (Debian: shadowsocks-libev openssh-server curl)"""
import os, shutil, subprocess, sys, time, atexit
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../Scripts/sample-captures"))
import lab
from lab import Lab, V4, make_content

PY = "/usr/bin/python3"
work = "/tmp/torscan-shadowsocks-work"
shutil.rmtree(work, ignore_errors=True); os.makedirs(work)
atexit.register(Lab.down_all)
L = Lab(3, work)          # 1: HTTP and SSH servers, 2: ss-server, 3: client (ss-local, ss-tunnel)
L.up()
try:
    content = os.path.join(work, "content"); os.makedirs(content)
    make_content(os.path.join(content, "a.html"), 300, 50)
    for k in ("ssh_host", "ssh_user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(work, k)], check=True)
    shutil.copy(os.path.join(work, "ssh_user.pub"), os.path.join(work, "authorized_keys"))
    os.chmod(os.path.join(work, "authorized_keys"), 0o600)
    os.makedirs("/run/sshd", exist_ok=True)
    cap = L.start("tcpdump", None, ["tcpdump", "-i", "br0", "-U", "-n", "-w", os.path.join(work, "cap.pcap"),
                                    "tcp port 8388 or tcp port 8389"])
    time.sleep(1)
    L.start("http", 1, [PY, "-m", "http.server", "8080", "--bind", V4 % 1, "--directory", content])
    L.start("sshd", 1, ["/usr/sbin/sshd", "-D", "-e", "-p", "2222", "-h", os.path.join(work, "ssh_host"), "-o", "PidFile=none",
                        "-o", "UsePAM=no", "-o", "StrictModes=no", "-o", "AuthorizedKeysFile=" + os.path.join(work, "authorized_keys"),
                        "-o", "ListenAddress=" + V4 % 1])
    ciphers = ["chacha20-ietf-poly1305", "aes-256-gcm"]
    for i, m in enumerate(ciphers):
        ss = ["-s", V4 % 2, "-p", str(8388 + i), "-k", "torscan", "-m", m]
        L.start("ss-server-%d" % i, 2, ["ss-server"] + ss)
        L.start("ss-local-%d" % i, 3, ["ss-local", "-l", str(1080 + i), "-b", "127.0.0.1"] + ss)
        L.start("ss-tunnel-%d" % i, 3, ["ss-tunnel", "-l", str(2300 + i), "-b", "127.0.0.1", "-L", "%s:2222" % (V4 % 1)] + ss)
    time.sleep(2)
    for i in range(len(ciphers)):
        for _ in range(2):
            L.run(3, ["curl", "-s", "-o", "/dev/null", "--socks5", "127.0.0.1:%d" % (1080 + i), "http://%s:8080/a.html" % (V4 % 1)], timeout=20)
        for cmd in ("uname -a", "ls /"):
            L.run(3, ["ssh", "-i", os.path.join(work, "ssh_user"), "-p", str(2300 + i), "-o", "StrictHostKeyChecking=no",
                      "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "root@127.0.0.1", cmd], timeout=20, capture_output=True)
    L.stop_capture(cap)
    shutil.copy(os.path.join(work, "cap.pcap"), os.path.join(HERE, "shadowsocks.pcap"))
    print("shadowsocks.pcap: %d bytes" % os.path.getsize(os.path.join(HERE, "shadowsocks.pcap")))
finally:
    L.down()
    shutil.rmtree(work, ignore_errors=True)
