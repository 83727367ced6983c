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
             "microsocks": ("microsocks", "microsocks")}
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
           force_dht=False, timeout=55):
        cfg = {"listen": ("[%s]:%d" % (V6 % host, port)) if v6 else "%s:%d" % (V4 % host, port),
               "torrents": [{"torrent": t["torrent_path"], "save": self.content} for t in torrents],
               "settings": settings or {}, "connect": list(connect), "force_dht": force_dht,
               "timeout": timeout, "status": os.path.join(self.work, name + ".status.json")}
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

    def aria2(self, name, host, ts, port=6881, seed=False, extra=()):
        dl = self.content if seed else os.path.join(self.work, name + "-dl")
        os.makedirs(dl, exist_ok=True)
        seed_time = "60" if seed else "0"
        if seed:
            extra = ["--check-integrity=true"] + list(extra)
        cmd = ["aria2c", "--dir=" + dl, "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
               "--enable-peer-exchange=false", "--listen-port=%d" % port, "--seed-time=" + seed_time,
               "--bt-min-crypto-level=plain", "--bt-require-crypto=false", "--summary-interval=0",
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
