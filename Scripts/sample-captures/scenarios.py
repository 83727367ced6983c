"""The scenarios. Each one builds its lab, launches real clients, captures on the bridge, and
writes SampleCaptures/<name>/{capture.pcap, truth.json, *.torrent}. Roles given to Truth (which
address runs which client on which port) are what labels the flows."""
import hashlib, json, os, shutil, subprocess, time
import lab
from lab import Lab, V4, V6, log, make_content, make_torrent, magnet, wait_for
from truth import Truth

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"            # Debian's python, which has python3-libtorrent
KIB = 1024
TRACKER_PORT = 6969


def pkg_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def soft(key):
    names = {"transmission": ("transmission-cli", "transmission-cli"), "aria2": ("aria2", "aria2c"),
             "libtorrent": ("python3-libtorrent", "python3-libtorrent (libtorrent-rasterbar)"),
             "ctorrent": ("ctorrent", "ctorrent (Enhanced CTorrent)"), "opentracker": ("opentracker", "opentracker"),
             "microsocks": ("microsocks", "microsocks"), "rtorrent": ("rtorrent", "rtorrent")}
    pkg, name = names[key]
    return "%s %s" % (name, pkg_version(pkg))


class Run:
    def __init__(self, name, out, work, nhosts, snaplen=0):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        os.makedirs(out, exist_ok=True)
        for f in os.listdir(out):
            os.remove(os.path.join(out, f))
        self.name, self.out, self.work, self.snaplen = name, out, work, snaplen
        self.lab = Lab(nhosts, work)
        self.lab.up()
        self.torrents = []
        self.launched = []          # human-readable record of what ran where
        self.content = os.path.join(work, "content")
        os.makedirs(self.content)
        self.cap = None

    def torrent(self, fname, size, seed, announce=None):
        path = os.path.join(self.content, fname)
        make_content(path, size, seed)
        t = make_torrent(path, os.path.join(self.out, fname + ".torrent"), announce)
        t["content_seed"] = seed
        t["path"] = path
        t["torrent_path"] = os.path.join(self.out, fname + ".torrent")
        self.torrents.append(t)
        return t

    def start_capture(self):
        self.cap = self.lab.capture(os.path.join(self.work, "capture.pcap"), self.snaplen)

    def start(self, name, host, cmd, what, **kw):
        self.launched.append({"name": name, "host": host, "ip": V4 % host, "ipv6": V6 % host,
                              "software": what, "command": " ".join(cmd)})
        return self.lab.start(name, host, cmd, **kw)

    # clients -------------------------------------------------------------
    def tracker(self, host):
        # Debian builds opentracker with a whitelist: only the scenario's torrents are tracked
        with open(os.path.join(self.work, "whitelist"), "w") as f:
            f.write("".join(t["infohash"] + "\n" for t in self.torrents))
        return self.start("opentracker", host, ["opentracker", "-i", V4 % host, "-p", str(TRACKER_PORT),
                                                "-P", str(TRACKER_PORT), "-w", os.path.join(self.work, "whitelist")], soft("opentracker"), cwd=self.work)

    def lt(self, name, host, port, torrents=(), leech=(), magnets=(), settings=None, connect=(), v6=False,
           force_dht=False, timeout=55, linger=2):
        cfg = {"listen": ("[%s]:%d" % (V6 % host, port)) if v6 else "%s:%d" % (V4 % host, port),
               "torrents": [{"torrent": t["torrent_path"], "save": self.content} for t in torrents],
               "settings": settings or {}, "connect": list(connect), "force_dht": force_dht,
               "timeout": timeout, "linger": linger, "status": os.path.join(self.work, name + ".status.json")}
        dl = os.path.join(self.work, name + "-dl")
        os.makedirs(dl, exist_ok=True)
        cfg["torrents"] += [{"torrent": t["torrent_path"], "save": dl} for t in leech]
        cfg["magnets"] = [{"uri": m, "save": dl} for m in magnets]
        cfg["leecher"] = bool(leech or magnets)
        path = os.path.join(self.work, name + ".json")
        json.dump(cfg, open(path, "w"), indent=1)
        return self.start(name, host, [PY, os.path.join(HERE, "lt_node.py"), path], soft("libtorrent"))

    def transmission(self, name, host, t, seed, enc="-et", port=51413, extra=None):
        cfgdir = os.path.join(self.work, name + "-cfg")
        os.makedirs(cfgdir, exist_ok=True)
        settings = {"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
                    "port-forwarding-enabled": False, "rpc-enabled": False, "blocklist-enabled": False,
                    "peer-port": port, "bind-address-ipv4": V4 % host, "bind-address-ipv6": "::",
                    "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
                    "message-level": 2}
        settings.update(extra or {})
        json.dump(settings, open(os.path.join(cfgdir, "settings.json"), "w"))
        dl = self.content if seed else os.path.join(self.work, name + "-dl")
        os.makedirs(dl, exist_ok=True)
        env = dict(os.environ, HOME=cfgdir, TR_CURL_VERBOSE="0")
        return self.start(name, host, ["transmission-cli", "-g", cfgdir, "-w", dl, enc, "-M", "-p", str(port),
                                       t["torrent_path"]], soft("transmission"), env=env)

    def aria2(self, name, host, ts, port=6881, seed=False, extra=(), seed_time=None, require_crypto=False):
        dl = self.content if seed else os.path.join(self.work, name + "-dl")
        os.makedirs(dl, exist_ok=True)
        seed_time = seed_time or ("60" if seed else "0")
        if seed:
            extra = ["--check-integrity=true"] + list(extra)
        crypto = (["--bt-min-crypto-level=arc4", "--bt-require-crypto=true"] if require_crypto
                  else ["--bt-min-crypto-level=plain", "--bt-require-crypto=false"])
        cmd = ["aria2c", "--dir=" + dl, "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
               "--enable-peer-exchange=false", "--listen-port=%d" % port, "--seed-time=" + seed_time] + crypto + [
               "--summary-interval=0",
               "--console-log-level=notice", "--disable-ipv6=true", "--file-allocation=none",
               "--bt-stop-timeout=50", "-Z"] + list(extra) + [t["torrent_path"] for t in ts]
        return self.start(name, host, cmd, soft("aria2"))

    def ctorrent(self, name, host, t, port=2706):
        dl = os.path.join(self.work, name + "-dl")
        os.makedirs(dl, exist_ok=True)
        return self.start(name, host, ["ctorrent", "-e", "0", "-p", str(port), "-i", V4 % host,
                                       "-s", os.path.join(dl, t["name"]), t["torrent_path"]],
                          soft("ctorrent"), cwd=dl)

    def wait_downloaded(self, name, t, timeout=45):
        path = os.path.join(self.work, name + "-dl", t["name"])
        def ok():
            try:
                return hashlib.sha1(open(path, "rb").read()).hexdigest() == t["content_sha1"]
            except OSError:
                return False
        if not wait_for(ok, timeout):
            raise RuntimeError("%s did not complete %s within %ds" % (name, t["name"], timeout))
        log("%s has %s" % (name, t["name"]))

    # output --------------------------------------------------------------
    def finish(self, truth, about, exercises):
        self.lab.stop_capture(self.cap)
        self.lab.down()
        pcap = os.path.join(self.out, "capture.pcap")
        shutil.copy(os.path.join(self.work, "capture.pcap"), pcap)
        meta = {"scenario": self.name, "about": about, "exercises": exercises, "capture": "capture.pcap",
                "snaplen": self.snaplen or 262144, "launched": self.launched,
                "generator": "Scripts/make-sample-captures"}
        for t in self.torrents:
            for k in ("path", "torrent_path"):
                t.pop(k, None)
        doc = truth.build(pcap, meta)
        with open(os.path.join(self.out, "truth.json"), "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        labels = {}
        for fl in doc["flows"]:
            labels[fl["label"]] = labels.get(fl["label"], 0) + 1
        log("%s: %d bytes, flows %s, evidence %d, notes %s" % (self.name, os.path.getsize(pcap), labels,
                                                               len(doc["evidence"]), doc["notes"]))


def scenario(fn):
    SCENARIOS[fn.__name__.replace("_", "-")] = fn
    return fn


SCENARIOS = {}
LT_TCP = {"enable_outgoing_utp": False, "enable_incoming_utp": False,
          "out_enc_policy": 2, "in_enc_policy": 2}      # TCP only, plaintext only (pe_disabled)
TR = "http://%s:%d/announce"


@scenario
def tcp_http_tracker(out, work):
    r = Run("tcp-http-tracker", out, work, 3)
    try:
        t = r.torrent("alpha.bin", 256 * KIB, 1, TR % (V4 % 1, TRACKER_PORT))
        tr = Truth([t])
        tr.trackers.append({"ip": V4 % 1, "http_port": TRACKER_PORT, "udp_port": TRACKER_PORT, "software": soft("opentracker")})
        tr.host(V4 % 2, soft("aria2"), tcp=[6881])
        tr.host(V4 % 3, soft("transmission"), tcp=[51413])
        r.start_capture()
        r.tracker(1)
        time.sleep(0.5)
        r.aria2("seeder", 2, [t], seed=True)
        time.sleep(3)
        r.transmission("leecher", 3, t, seed=False)
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "aria2c seeds, transmission-cli leeches (it starts the peer connection with a plaintext handshake), opentracker HTTP tracker; plaintext TCP.",
                 ["bittorrent-tracker-http", "bittorrent-peer", "whole pieces (verifiable)"])
    finally:
        r.lab.down()


def tracker_role(tr, host):
    tr.trackers.append({"ip": V4 % host, "http_port": TRACKER_PORT, "udp_port": TRACKER_PORT,
                        "software": soft("opentracker")})


@scenario
def udp_tracker(out, work):
    r = Run("udp-tracker", out, work, 3)
    try:
        t = r.torrent("bravo.bin", 256 * KIB, 2, "udp://%s:%d/announce" % (V4 % 1, TRACKER_PORT))
        tr = Truth([t]); tracker_role(tr, 1)
        tr.host(V4 % 2, soft("libtorrent"), tcp=[6881])
        tr.host(V4 % 3, soft("transmission"), tcp=[51413])
        r.start_capture()
        r.tracker(1)
        time.sleep(0.5)
        r.lt("seeder", 2, 6881, torrents=[t], settings=LT_TCP)
        time.sleep(3)
        r.transmission("leecher", 3, t, seed=False)
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "python3-libtorrent seeds (TCP only, plaintext), transmission-cli leeches; opentracker UDP tracker (BEP 15).",
                 ["bittorrent-tracker-udp", "bittorrent-peer", "whole pieces (verifiable)"])
    finally:
        r.lab.down()


LT_UTP = {"enable_outgoing_tcp": False, "enable_incoming_tcp": False, "out_enc_policy": 2, "in_enc_policy": 2}


@scenario
def utp(out, work):
    r = Run("utp", out, work, 2)
    try:
        t = r.torrent("charlie.bin", 256 * KIB, 3)
        tr = Truth([t])
        tr.host(V4 % 1, soft("libtorrent"), utp=[6881])
        tr.host(V4 % 2, soft("libtorrent"), utp=[6881])
        r.start_capture()
        r.lt("seeder", 1, 6881, torrents=[t], settings=LT_UTP)
        time.sleep(2)
        r.lt("leecher", 2, 6881, leech=[t], settings=LT_UTP, connect=[[V4 % 1, 6881]])
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "python3-libtorrent to python3-libtorrent over uTP only (TCP disabled), no tracker: the leecher "
                     "is told the seeder's address; plaintext peer wire inside uTP (BEP 29).",
                 ["bittorrent-utp", "whole pieces (verifiable)"])
    finally:
        r.lab.down()


@scenario
def dht_magnet(out, work):
    r = Run("dht-magnet", out, work, 3)
    try:
        t = r.torrent("delta.bin", 256 * KIB, 5)
        tr = Truth([t])
        for h in (1, 2, 3):
            tr.host(V4 % h, soft("libtorrent"), tcp=[6881], dht=[6881])
        dht = dict(LT_TCP, enable_dht=True)
        boot = dict(dht, dht_bootstrap_nodes="%s:6881" % (V4 % 1))
        r.start_capture()
        r.lt("bootstrap", 1, 6881, settings=dht)
        time.sleep(1)
        r.lt("seeder", 2, 6881, torrents=[t], settings=boot, force_dht=True)
        time.sleep(4)
        r.lt("leecher", 3, 6881, magnets=[magnet(t["infohash"], t["name"])], settings=boot, force_dht=True)
        r.wait_downloaded("leecher", t, timeout=50)
        time.sleep(2)
        r.finish(tr, "Three python3-libtorrent nodes, DHT only (BEP 5), no tracker: node 10.77.0.1 is the bootstrap "
                     "node (no torrent), 10.77.0.2 seeds and announces, 10.77.0.3 starts from a magnet link, finds "
                     "the seeder with get_peers, fetches the metadata (BEP 9 ut_metadata) and the pieces over TCP.",
                 ["bittorrent-dht", "bittorrent-peer", "ut_metadata", "magnet", "whole pieces (verifiable)"])
    finally:
        r.lab.down()


@scenario
def lsd(out, work):
    r = Run("lsd", out, work, 2)
    try:
        t = r.torrent("echo.bin", 256 * KIB, 6)
        tr = Truth([t])
        tr.host(V4 % 1, soft("libtorrent"), tcp=[6881]); tr.host(V6 % 1, soft("libtorrent"), tcp=[6881])
        tr.host(V4 % 2, soft("libtorrent"), tcp=[6881]); tr.host(V6 % 2, soft("libtorrent"), tcp=[6881])
        st = dict(LT_TCP, enable_lsd=True)
        r.start_capture()
        r.lt("seeder", 1, 6881, torrents=[t], settings=st)
        time.sleep(2)
        r.lt("leecher", 2, 6881, leech=[t], settings=st)
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "Two python3-libtorrent sessions find each other only by Local Service Discovery (BEP 14 "
                     "multicast to 239.192.152.143:6771 on the bridge); no tracker, no DHT; plaintext TCP.",
                 ["bittorrent-lsd", "bittorrent-peer", "whole pieces (verifiable)"])
    finally:
        r.lab.down()


@scenario
def encrypted(out, work):
    r = Run("encrypted", out, work, 3)
    try:
        t = r.torrent("foxtrot.bin", 256 * KIB, 7, TR % (V4 % 1, TRACKER_PORT))
        tr = Truth([t]); tracker_role(tr, 1)
        tr.host(V4 % 2, soft("transmission"), tcp=[51413])
        tr.host(V4 % 3, soft("libtorrent"), tcp=[6881])
        tr.encrypted[frozenset([V4 % 2, V4 % 3])] = t["infohash"]
        forced = {"enable_outgoing_utp": False, "enable_incoming_utp": False,
                  "out_enc_policy": 0, "in_enc_policy": 0, "allowed_enc_level": 2}   # pe_forced, RC4 only
        r.start_capture()
        r.tracker(1)
        time.sleep(0.5)
        r.transmission("seeder", 2, t, seed=True, enc="-er")
        time.sleep(3)
        r.lt("leecher", 3, 6881, leech=[t], settings=forced)
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "transmission-cli seeds with encryption required, python3-libtorrent leeches with MSE/PE forced "
                     "(RC4); the HTTP tracker announces are cleartext, the peer connection is fully encrypted.",
                 ["bittorrent-encrypted", "bittorrent-tracker-http"])
    finally:
        r.lab.down()


@scenario
def multi_torrent(out, work):
    r = Run("multi-torrent", out, work, 5, snaplen=200)
    try:
        ann = TR % (V4 % 1, TRACKER_PORT)
        a = r.torrent("golf-a.bin", 256 * KIB, 11, ann)
        b = r.torrent("golf-b.bin", 256 * KIB, 12, ann)
        c = r.torrent("golf-c.bin", 256 * KIB, 13, ann)
        tr = Truth([a, b, c]); tracker_role(tr, 1)
        A, B, C = a["infohash"], b["infohash"], c["infohash"]
        tr.host(V4 % 2, soft("libtorrent"), tcp=[6881], torrents={A, B, C})
        tr.host(V4 % 3, soft("aria2"), tcp=[6881], torrents={A, B})
        tr.host(V4 % 4, soft("ctorrent"), tcp=[2706, 2707], torrents={2706: {A}, 2707: {C}})
        tr.host(V4 % 5, soft("transmission"), tcp=[51413], torrents={A})
        r.start_capture()
        r.tracker(1)
        time.sleep(0.5)
        r.lt("seeder", 2, 6881, torrents=[a, b, c], settings=LT_TCP)   # refuses MSE: aria2 falls back to plaintext
        time.sleep(3)
        r.aria2("aria2", 3, [a, b])
        r.ctorrent("ctorrent-a", 4, a, port=2706)
        r.ctorrent("ctorrent-c", 4, c, port=2707)
        r.transmission("transmission", 5, a, seed=False)
        for name, t in (("aria2", a), ("aria2", b), ("ctorrent-a", a), ("ctorrent-c", c), ("transmission", a)):
            r.wait_downloaded(name, t, timeout=50)
        time.sleep(2)
        r.finish(tr, "One python3-libtorrent seeder with three torrents (A, B, C) on 10.77.0.2; aria2c leeches A and B "
                     "(one process), two ctorrent processes on one address leech A and C, transmission-cli leeches A; "
                     "all announce to one opentracker HTTP tracker, so leechers also trade with each other. "
                     "Captured with snaplen 200 (headers and message starts, not whole pieces).",
                 ["several torrents from one address", "several addresses on one torrent", "bittorrent-peer",
                  "bittorrent-tracker-http", "refused MSE attempts (aria2 always tries MSE first)", "snaplen 200"])
    finally:
        r.lab.down()


@scenario
def ipv6(out, work):
    r = Run("ipv6", out, work, 3)
    try:
        t = r.torrent("hotel.bin", 256 * KIB, 8)
        tr = Truth([t])
        tr.host(V6 % 1, soft("libtorrent"), tcp=[6881], utp=[6881])
        tr.host(V6 % 2, soft("libtorrent"), tcp=[6881])
        tr.host(V6 % 3, soft("libtorrent"), utp=[6881])
        plain = {"out_enc_policy": 2, "in_enc_policy": 2}
        r.start_capture()
        r.lt("seeder", 1, 6881, torrents=[t], settings=plain, v6=True)
        time.sleep(2)
        r.lt("leecher-tcp", 2, 6881, leech=[t], settings=dict(LT_TCP), connect=[[V6 % 1, 6881]], v6=True)
        r.lt("leecher-utp", 3, 6881, leech=[t], settings=dict(LT_UTP), connect=[[V6 % 1, 6881]], v6=True)
        r.wait_downloaded("leecher-tcp", t)
        r.wait_downloaded("leecher-utp", t)
        time.sleep(2)
        r.finish(tr, "IPv6 only (ULA fd00:77::/64): a python3-libtorrent seeder on [fd00:77::1]:6881, one leecher over "
                     "TCP and one over uTP, both told the seeder's address; plaintext.",
                 ["IPv6", "bittorrent-peer", "bittorrent-utp", "whole pieces (verifiable)"])
    finally:
        r.lab.down()


@scenario
def socks5(out, work):
    r = Run("socks5", out, work, 4)
    try:
        t = r.torrent("india.bin", 256 * KIB, 9, TR % (V4 % 2, TRACKER_PORT))
        tr = Truth([t]); tracker_role(tr, 2)
        tr.proxies.append({"ip": V4 % 1, "port": 1080, "software": soft("microsocks")})
        tr.host(V4 % 3, soft("transmission"), tcp=[51413])
        tr.host(V4 % 4, soft("libtorrent"), tcp=[6881])
        # the proxy's address relays the leecher's peer connection (proxy -> seeder:51413 is peer wire);
        # the tracker hands out the proxy's address, so the seeder also dials it on the leecher's port
        tr.host(V4 % 1, soft("microsocks") + " (relaying " + soft("libtorrent") + ")", tcp=[6881])
        tr.services.append(("udp", "*", 6881, "libtorrent's UDP socket"))
        r.start_capture()
        r.start("microsocks", 1, ["microsocks", "-i", V4 % 1, "-p", "1080"], soft("microsocks"))
        r.tracker(2)
        time.sleep(0.5)
        r.transmission("seeder", 3, t, seed=True)
        time.sleep(3)
        px = dict(LT_TCP, proxy_type=2, proxy_hostname=V4 % 1, proxy_port=1080, proxy_peer_connections=True,
                  proxy_tracker_connections=True)
        r.lt("leecher", 4, 6881, leech=[t], settings=px)
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "python3-libtorrent leeches through a microsocks SOCKS5 proxy (RFC 1928) on 10.77.0.1: its tracker "
                     "announces and its peer connection go client -> proxy (tunnel, SOCKS5 CONNECT) and proxy -> "
                     "tracker / seeder; both legs are in this one capture. transmission-cli seeds directly.",
                 ["socks5 tunnel", "bittorrent-peer", "bittorrent-tracker-http", "whole pieces (verifiable, both legs)"])
    finally:
        r.lab.down()


@scenario
def background(out, work):
    """Not BitTorrent at all: every flow is `other`. Some of it sits on BitTorrent's usual ports
    (random bytes to TCP 51413 and UDP 6881) so that a port-based guess would be wrong."""
    r = Run("background", out, work, 2, snaplen=200)
    try:
        srv, cli = V4 % 1, V4 % 2
        tr = Truth([])
        w = r.work
        big = os.path.join(r.content, "big.bin"); make_content(big, 1024 * KIB, 21)
        make_content(os.path.join(r.content, "small.html"), 4 * KIB, 22)
        rnd = os.path.join(r.content, "random-51413.bin"); make_content(rnd, 64 * KIB, 23)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=bg.test",
                        "-keyout", os.path.join(w, "tls.key"), "-out", os.path.join(w, "tls.crt")],
                       check=True, capture_output=True)
        for k in ("ssh_host", "ssh_user"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(w, k)], check=True)
        shutil.copy(os.path.join(w, "ssh_user.pub"), os.path.join(w, "authorized_keys"))
        os.chmod(os.path.join(w, "authorized_keys"), 0o600)
        os.makedirs("/run/sshd", exist_ok=True)
        services = [("tcp", srv, 8080, "python3 http.server / curl (HTTP)"),
                    ("tcp", srv, 4433, "openssl s_server / curl (TLS)"),
                    ("udp", srv, 53, "dnsmasq (DNS)"),
                    ("tcp", srv, 2222, "OpenSSH sshd / ssh (SSH)"),
                    ("tcp", srv, 5001, "socat bulk TCP transfer (1 MiB random)"),
                    ("tcp", srv, 51413, "socat: random bytes to BitTorrent's usual TCP port (not BitTorrent)"),
                    ("udp", srv, 9999, "random UDP datagrams"),
                    ("udp", srv, 6881, "random UDP datagrams to BitTorrent's usual DHT/uTP port (not BitTorrent)")]
        tr.services.extend(services)
        r.start_capture()
        r.start("http", 1, [PY, "-m", "http.server", "8080", "--bind", srv, "--directory", r.content], "python3 http.server")
        r.start("tls", 1, ["openssl", "s_server", "-quiet", "-accept", "4433", "-www", "-cert", os.path.join(w, "tls.crt"),
                           "-key", os.path.join(w, "tls.key")], "openssl s_server")
        r.start("dns", 1, ["dnsmasq", "-k", "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=" + srv,
                           "--address=/example.test/" + srv, "--pid-file=" + os.path.join(w, "dnsmasq.pid"),
                           "--user=root"], "dnsmasq")
        r.start("sshd", 1, ["/usr/sbin/sshd", "-D", "-e", "-p", "2222", "-h", os.path.join(w, "ssh_host"),
                            "-o", "PidFile=none", "-o", "UsePAM=no", "-o", "StrictModes=no", "-o", "UseDNS=no",
                            "-o", "AuthorizedKeysFile=" + os.path.join(w, "authorized_keys"), "-o", "ListenAddress=" + srv],
                "OpenSSH sshd")
        r.start("bulk-sink", 1, ["socat", "-u", "TCP-LISTEN:5001,bind=%s,reuseaddr" % srv, "OPEN:/dev/null"], "socat")
        r.start("fake-bt-sink", 1, ["socat", "-u", "TCP-LISTEN:51413,bind=%s,reuseaddr" % srv, "OPEN:/dev/null"], "socat")
        r.start("udp-sink", 1, ["socat", "-u", "UDP-RECV:9999,bind=%s" % srv, "OPEN:/dev/null"], "socat")
        r.start("udp-sink-6881", 1, ["socat", "-u", "UDP-RECV:6881,bind=%s" % srv, "OPEN:/dev/null"], "socat")
        time.sleep(1.5)
        run = lambda cmd, what: (r.launched.append({"host": 2, "ip": cli, "software": what, "command": " ".join(cmd)}),
                                 r.lab.run(2, cmd, timeout=30, capture_output=True))
        for path in ("/", "/small.html", "/big.bin"):
            run(["curl", "-s", "-o", "/dev/null", "http://%s:8080%s" % (srv, path)], "curl")
        for _ in range(2):
            run(["curl", "-sk", "-o", "/dev/null", "https://%s:4433/" % srv], "curl")
        run([PY, os.path.join(HERE, "bg_client.py"), "dns", srv], "python3 DNS client")
        run(["ssh", "-i", os.path.join(w, "ssh_user"), "-p", "2222", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "root@" + srv, "uname -a; ls /"], "OpenSSH ssh")
        run(["socat", "-u", "OPEN:" + big, "TCP:%s:5001" % srv], "socat")
        run(["socat", "-u", "OPEN:" + rnd, "TCP:%s:51413" % srv], "socat")
        run([PY, os.path.join(HERE, "bg_client.py"), "udp", srv, "9999", "40000", "40", "31"], "python3 random UDP")
        run([PY, os.path.join(HERE, "bg_client.py"), "udp", srv, "6881", "6881", "40", "32"], "python3 random UDP")
        time.sleep(1)
        r.finish(tr, "Background traffic only, no BitTorrent: HTTP (python3 http.server + curl, including a 1 MiB "
                     "download), TLS (openssl s_server + curl), DNS (dnsmasq), SSH (OpenSSH, key login, one command), "
                     "a 1 MiB bulk TCP transfer (socat), random bytes to TCP 51413 and random UDP datagrams to 9999 and "
                     "to 6881 (BitTorrent's usual ports). Snaplen 200. Every flow must be labeled `other`.",
                 ["other (false positives)", "HTTP", "TLS", "DNS", "SSH", "bulk TCP", "random UDP", "BitTorrent ports without BitTorrent"])
    finally:
        r.lab.down()


@scenario
def mse_plaintext(out, work):
    r = Run("mse-plaintext", out, work, 3)
    try:
        t = r.torrent("juliet.bin", 256 * KIB, 10, TR % (V4 % 1, TRACKER_PORT))
        tr = Truth([t]); tracker_role(tr, 1)
        tr.host(V4 % 2, soft("transmission"), tcp=[51413])
        tr.host(V4 % 3, soft("aria2"), tcp=[6881])
        r.start_capture()
        r.tracker(1)
        time.sleep(0.5)
        r.transmission("seeder", 2, t, seed=True)
        time.sleep(3)
        r.aria2("leecher", 3, [t])
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "transmission-cli seeds (encryption tolerated), aria2c leeches: aria2 always opens with an MSE/PE "
                     "handshake; both sides allow plaintext, so the MSE exchange (DH keys, RC4-encrypted VC and crypto "
                     "negotiation) is followed by both handshakes and all peer messages in the clear.",
                 ["MSE handshake then plaintext peer wire", "bittorrent-peer", "bittorrent-tracker-http",
                  "whole pieces (verifiable)"])
    finally:
        r.lab.down()


@scenario
def rtorrent_ctorrent(out, work):
    r = Run("rtorrent-ctorrent", out, work, 3)
    try:
        t = r.torrent("kilo.bin", 256 * KIB, 14, TR % (V4 % 1, TRACKER_PORT))
        tr = Truth([t]); tracker_role(tr, 1)
        tr.host(V4 % 2, soft("rtorrent"), tcp=[6890])
        tr.host(V4 % 3, soft("ctorrent"), tcp=[2706])
        session = os.path.join(r.work, "rtorrent-session"); os.makedirs(session)
        r.start_capture()
        r.tracker(1)
        time.sleep(0.5)
        rc = os.path.join(r.work, "rtorrent.rc")
        with open(rc, "w") as f:
            f.write("\n".join(["system.daemon.set = true", "dht.mode.set = disable", "protocol.pex.set = no",
                               "trackers.use_udp.set = no", "network.port_range.set = 6890-6890",
                               "network.port_random.set = no", "network.bind_address.set = " + V4 % 2,
                               "directory.default.set = " + r.content, "session.path.set = " + session, ""]))
        cmd = ["rtorrent", "-n", "-o", "import=" + rc, t["torrent_path"]]
        r.start("seeder", 2, cmd, soft("rtorrent"), env=dict(os.environ, HOME=r.work, TERM="dumb"))
        time.sleep(4)
        r.ctorrent("leecher", 3, t, port=2706)
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "rtorrent (libtorrent-rakshasa) seeds on 10.77.0.2:6890, Enhanced CTorrent leeches on 10.77.0.3:2706, "
                     "opentracker HTTP tracker; plaintext TCP (rtorrent's encryption is off by default, ctorrent has none).",
                 ["bittorrent-tracker-http", "bittorrent-peer", "whole pieces (verifiable)", "two more client implementations"])
    finally:
        r.lab.down()


@scenario
def utp_transmission(out, work):
    r = Run("utp-transmission", out, work, 2)
    try:
        t = r.torrent("lima.bin", 256 * KIB, 15)
        tr = Truth([t])
        tr.host(V4 % 1, soft("transmission"), tcp=[51413], utp=[51413])
        tr.host(V4 % 2, soft("libtorrent"), utp=[6881])
        r.start_capture()
        r.transmission("seeder", 1, t, seed=True, extra={"utp-enabled": True})
        time.sleep(3)
        r.lt("leecher", 2, 6881, leech=[t], settings=LT_UTP, connect=[[V4 % 1, 51413]])
        r.wait_downloaded("leecher", t)
        time.sleep(2)
        r.finish(tr, "transmission-cli (uTP on, libutp) seeds on 10.77.0.1:51413; python3-libtorrent with TCP disabled "
                     "leeches over uTP, told the seeder's address; no tracker; plaintext. A second uTP implementation "
                     "beside libtorrent's own.",
                 ["bittorrent-utp", "whole pieces (verifiable)"])
    finally:
        r.lab.down()


@scenario
def encrypted_clients(out, work):
    """Encrypted BitTorrent (MSE/PE, RC4 required) between four client implementations, each one
    opening connections (MSE initiator, A) and accepting them (responder, B). Two small torrents:
    A is seeded by transmission-cli and leeched by rtorrent, python3-libtorrent and aria2c (in that
    order, so each later leecher dials the earlier ones); B is seeded by rtorrent and leeched by
    python3-libtorrent, aria2c and a second transmission-cli (last, so it dials everyone)."""
    r = Run("encrypted-clients", out, work, 5)
    try:
        ann = TR % (V4 % 1, TRACKER_PORT)
        a = r.torrent("mike-a.bin", 32 * KIB, 16, ann)
        b = r.torrent("mike-b.bin", 32 * KIB, 17, ann)
        tr = Truth([a, b]); tracker_role(tr, 1)
        tr.encrypt_all = True
        both = {a["infohash"], b["infohash"]}
        tr.host(V4 % 2, soft("transmission"), tcp=[51413, 51414], torrents=both)
        tr.host(V4 % 3, soft("rtorrent"), tcp=[6890], torrents=both)
        tr.host(V4 % 4, soft("libtorrent"), tcp=[6881], torrents=both)
        tr.host(V4 % 5, soft("aria2"), tcp=[6881], torrents=both)
        # rtorrent seeds B from its own download folder, where it also fetches A
        rdl = os.path.join(r.work, "rtorrent-dl"); os.makedirs(rdl)
        shutil.copy(b["path"], rdl)
        session = os.path.join(r.work, "rtorrent-session"); os.makedirs(session)
        rc = os.path.join(r.work, "rtorrent.rc")
        with open(rc, "w") as f:
            f.write("\n".join(["system.daemon.set = true", "dht.mode.set = disable", "protocol.pex.set = no",
                               "trackers.use_udp.set = no", "network.port_range.set = 6890-6890",
                               "network.port_random.set = no", "network.bind_address.set = " + V4 % 3,
                               "protocol.encryption.set = allow_incoming,try_outgoing,require,require_RC4",
                               "directory.default.set = " + rdl, "session.path.set = " + session, ""]))
        forced = {"enable_outgoing_utp": False, "enable_incoming_utp": False,
                  "out_enc_policy": 0, "in_enc_policy": 0, "allowed_enc_level": 2}   # pe_forced, RC4 only
        r.start_capture()
        r.tracker(1)
        time.sleep(0.5)
        r.transmission("tr-seed-a", 2, a, seed=True, enc="-er", port=51413)
        time.sleep(3)
        r.start("rtorrent", 3, ["rtorrent", "-n", "-o", "import=" + rc, a["torrent_path"], b["torrent_path"]],
                soft("rtorrent"), env=dict(os.environ, HOME=r.work, TERM="dumb"))
        time.sleep(4)
        r.lt("libtorrent", 4, 6881, leech=[a, b], settings=forced, timeout=90, linger=60)
        time.sleep(4)
        r.aria2("aria2", 5, [a, b], seed_time="2", require_crypto=True)
        time.sleep(4)
        r.transmission("tr-leech-b", 2, b, seed=False, enc="-er", port=51414)
        r.wait_downloaded("rtorrent", a, timeout=50)
        for name in ("libtorrent", "aria2"):
            r.wait_downloaded(name, a, timeout=50)
            r.wait_downloaded(name, b, timeout=50)
        r.wait_downloaded("tr-leech-b", b, timeout=50)
        time.sleep(2)
        r.finish(tr, "Encrypted BitTorrent only (MSE/PE with RC4 required by every client): transmission-cli seeds A "
                     "on 10.77.0.2:51413 and a second transmission-cli leeches B from 10.77.0.2:51414; rtorrent "
                     "(10.77.0.3:6890) leeches A and seeds B; python3-libtorrent (10.77.0.4:6881, pe_forced) and "
                     "aria2c (10.77.0.5:6881, --bt-require-crypto --bt-min-crypto-level=arc4) leech both. Started "
                     "in that order, each later client dials the earlier ones, so every client is MSE initiator "
                     "and responder. The opentracker HTTP announces are cleartext.",
                 ["bittorrent-encrypted", "bittorrent-tracker-http", "four MSE/PE implementations",
                  "MSE initiator and responder per client"])
    finally:
        r.lab.down()


QUIC_PY = os.environ.get("TORSCAN_QUIC_PYTHON", "python3")   # a python with aioquic (pip install aioquic)
NEG_UDP_PORTS = [6881, 51413, 443, 4500, 1194, 3478, 27015, 5060, 9000, 6771]

NEGATIVE_LOCAL_README = """# negative-local: non-BitTorrent traffic made on this machine

Every flow in capture.pcap is `other` (truth.json lists them all): `torscan eval SampleCaptures/`
scores this folder like any scenario, so a BitTorrent label on any of its flows is a false
positive, with no need for ../shared. Made by `sudo Scripts/make-sample-captures negative-local`
(Scripts/sample-captures/scenarios.py `negative_local`), in network namespaces on one bridge:
server 10.77.0.1, client 10.77.0.2, captured with tcpdump on the bridge, full snap length.

| traffic | server | client | flows |
| --- | --- | --- | --- |
%(rows)s

Software: %(software)s.
The random payloads come from seeded generators (Python `random`), so they are not BitTorrent by
construction; UDP goes to BitTorrent's usual ports (6881, 51413, 6771) among others.
"""


@scenario
def negative_local(out, work):
    """Non-BitTorrent traffic for the false-positive side of issue 7: TLS, SSH, QUIC, DTLS, random UDP."""
    if subprocess.run([QUIC_PY, "-c", "import aioquic"], capture_output=True).returncode:
        raise RuntimeError("negative-local needs aioquic: pip install aioquic (or set TORSCAN_QUIC_PYTHON)")
    r = Run("negative-local", out, work, 2)
    try:
        srv, cli = V4 % 1, V4 % 2
        tr = Truth([])
        w = r.work
        make_content(os.path.join(r.content, "small.html"), 2 * KIB, 41)
        make_content(os.path.join(r.content, "bulk.bin"), 8 * KIB, 42)
        rnd = os.path.join(w, "random-8k.bin"); make_content(rnd, 8 * KIB, 43)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-days", "1", "-subj", "/CN=neg.test", "-keyout", os.path.join(w, "tls.key"),
                        "-out", os.path.join(w, "tls.crt")], check=True, capture_output=True)
        for k in ("ssh_host", "ssh_user"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(w, k)], check=True)
        shutil.copy(os.path.join(w, "ssh_user.pub"), os.path.join(w, "authorized_keys"))
        os.chmod(os.path.join(w, "authorized_keys"), 0o600)
        os.makedirs("/run/sshd", exist_ok=True)
        rows = [("tcp", srv, 4433, "TLS 1.3 and 1.2", "openssl s_server -WWW (ECDSA P-256 certificate)",
                 "curl: 10 requests for a 2 KiB page (half with --tls-max 1.2), one 8 KiB download; 2 openssl s_client requests"),
                ("tcp", srv, 2222, "SSH", "OpenSSH sshd (key login)",
                 "ssh: a command, 8 KiB of random data each way, scp -O of an 8 KiB random file"),
                ("udp", srv, 4443, "QUIC v1", "aioquic server (quic_peer.py)",
                 "aioquic client: 8 connections, one stream each, random request and answer sizes"),
                ("udp", srv, 4434, "DTLS 1.2", "openssl s_server -dtls1_2", "openssl s_client -dtls1_2: 2 sessions"),
                ("udp", srv, 0, "random UDP", "bg_client.py udpserver (answers half the datagrams with random bytes)",
                 "bg_client.py udpflows: 100 flows of 1..4 random datagrams (16..300 bytes) to ports %s; every "
                 "fifth shaped like WireGuard (types 1 and 4, 148-byte initiation) with random bytes"
                 % ", ".join(map(str, NEG_UDP_PORTS)))]
        for proto, ip, port, what, server, client in rows:
            if port:
                tr.services.append((proto, ip, port, what))
        tr.services.extend(("udp", srv, p, "random UDP") for p in NEG_UDP_PORTS)
        r.start_capture()
        r.start("tls", 1, ["openssl", "s_server", "-quiet", "-accept", "4433", "-WWW", "-cert", os.path.join(w, "tls.crt"),
                           "-key", os.path.join(w, "tls.key")], "openssl s_server", cwd=r.content)
        r.start("sshd", 1, ["/usr/sbin/sshd", "-D", "-e", "-p", "2222", "-h", os.path.join(w, "ssh_host"),
                            "-o", "PidFile=none", "-o", "UsePAM=no", "-o", "StrictModes=no", "-o", "UseDNS=no",
                            "-o", "AuthorizedKeysFile=" + os.path.join(w, "authorized_keys"), "-o", "ListenAddress=" + srv],
                "OpenSSH sshd")
        r.start("quic", 1, [QUIC_PY, os.path.join(HERE, "quic_peer.py"), "server", srv, "4443",
                            os.path.join(w, "tls.crt"), os.path.join(w, "tls.key")], "aioquic server")
        r.start("dtls", 1, ["openssl", "s_server", "-dtls1_2", "-quiet", "-accept", "4434", "-cert", os.path.join(w, "tls.crt"),
                            "-key", os.path.join(w, "tls.key")], "openssl s_server -dtls1_2")
        r.start("udp", 1, [PY, os.path.join(HERE, "bg_client.py"), "udpserver", srv, ",".join(map(str, NEG_UDP_PORTS)), "44"],
                "python3 random UDP server")
        time.sleep(2)
        def run(cmd, what, timeout=30):
            r.launched.append({"host": 2, "ip": cli, "software": what, "command": " ".join(cmd)})
            res = r.lab.run(2, cmd, timeout=timeout, capture_output=True)
            if res.returncode:
                log("%s exited %d: %s" % (what, res.returncode, res.stderr[-300:]))
        for i in range(10):
            run(["curl", "-sk", "-o", "/dev/null"] + (["--tls-max", "1.2"] if i % 2 else []) +
                ["https://%s:4433/small.html" % srv], "curl")
        run(["curl", "-sk", "-o", "/dev/null", "https://%s:4433/bulk.bin" % srv], "curl")
        for _ in range(2):
            run(["sh", "-c", "printf 'GET /small.html HTTP/1.0\\r\\n\\r\\n' | openssl s_client -quiet -connect %s:4433" % srv],
                "openssl s_client")
        ssh = ["ssh", "-i", os.path.join(w, "ssh_user"), "-p", "2222", "-o", "StrictHostKeyChecking=no",
               "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"]
        run(ssh + ["root@" + srv, "uname -a"], "OpenSSH ssh")
        run(["sh", "-c", " ".join(ssh + ["root@" + srv, "'cat > /dev/null'", "<", rnd])], "OpenSSH ssh")
        run(ssh + ["root@" + srv, "head -c 8192 /dev/urandom"], "OpenSSH ssh")
        run(["scp", "-O", "-i", os.path.join(w, "ssh_user"), "-P", "2222", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", rnd, "root@%s:/dev/null" % srv], "OpenSSH scp")
        run([QUIC_PY, os.path.join(HERE, "quic_peer.py"), "client", srv, "4443", "8", "45"], "aioquic client", timeout=60)
        for i in range(2):
            run(["sh", "-c", "(echo 'hello dtls %d'; sleep 0.5) | openssl s_client -dtls1_2 -quiet -connect %s:4434" % (i, srv)],
                "openssl s_client -dtls1_2")
        run([PY, os.path.join(HERE, "bg_client.py"), "udpflows", srv, ",".join(map(str, NEG_UDP_PORTS)), "100", "46"],
            "python3 random UDP", timeout=60)
        time.sleep(1)
        r.finish(tr, "Non-BitTorrent traffic only, made on this machine: TLS 1.3/1.2 (openssl s_server, curl, s_client), "
                     "SSH (OpenSSH: command, random data both ways, scp), QUIC v1 (aioquic), DTLS 1.2 (openssl) and "
                     "100 random UDP exchanges (some to BitTorrent's usual ports, some WireGuard-shaped). Every flow "
                     "must be labeled `other`.",
                 ["other (false positives)", "TLS", "SSH", "QUIC", "DTLS", "random UDP"])
        table = "\n".join("| %s (%s%s) | %s | %s | %d |" % (what, proto.upper(), " %d" % port if port else "", server, client,
                          sum(1 for f in json.load(open(os.path.join(out, "truth.json")))["flows"]
                              if f["client"] == what))
                          for proto, ip, port, what, server, client in rows)
        sw = "%s, OpenSSL %s, %s, aioquic %s, curl %s" % (
            "OpenSSH " + pkg_version("openssh-server"), pkg_version("openssl"), "Python " + sys_version(),
            subprocess.run([QUIC_PY, "-c", "import aioquic; print(aioquic.__version__)"], capture_output=True, text=True).stdout.strip(),
            pkg_version("curl"))
        with open(os.path.join(out, "README.md"), "w") as f:
            f.write(NEGATIVE_LOCAL_README % {"rows": table, "software": sw})
    finally:
        r.lab.down()


def sys_version():
    return subprocess.run([PY, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True).stdout.strip()
