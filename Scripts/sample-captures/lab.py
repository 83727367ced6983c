"""Virtual lab for the sample captures: network namespaces on one bridge, processes that are
always stopped, tcpdump on the bridge, deterministic content and .torrent files.

Layout: namespace <P>br holds bridge br0; host i lives in namespace <P>h<i> with eth0 =
10.77.0.<i>/24 and fd00:77::<i>/64 (nodad). Hosts have no default route, so nothing can
leave the lab (a connection to anything outside fails with "network unreachable")."""
import hashlib, json, os, random, signal, subprocess, sys, time

# every namespace and link we create starts with this; another prefix lets two runs share a machine
PREFIX = os.environ.get("TORSCAN_LAB_PREFIX", "tsc")
BR_NS = PREFIX + "br"
V4 = "10.77.0.%d"
V6 = "fd00:77::%d"
PIECE = 16 * 1024              # small pieces so whole pieces fit in small captures


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, **kw)


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- bencode

def bencode(x):
    if isinstance(x, bool):
        raise TypeError("bool")
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, (bytes, bytearray)):
        return b"%d:%s" % (len(x), bytes(x))
    if isinstance(x, list):
        return b"l" + b"".join(bencode(i) for i in x) + b"e"
    if isinstance(x, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in x.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(x))


def bdecode(data, i=0):
    """Returns (value, end). Dict values keep their raw span in value['__raw__'][key]."""
    c = data[i:i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if c == b"l":
        i += 1; out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i); out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1; out = {}; raw = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            start = i
            v, i = bdecode(data, i)
            out[k] = v; raw[k] = data[start:i]
        out["__raw__"] = raw
        return out, i + 1
    j = data.index(b":", i)
    n = int(data[i:j])
    return data[j + 1:j + 1 + n], j + 1 + n


def infohash_of_torrent(path):
    """v1 infohash: SHA-1 of the info dictionary exactly as bencoded in the .torrent file."""
    meta, _ = bdecode(open(path, "rb").read())
    return hashlib.sha1(meta["__raw__"][b"info"]).hexdigest()


def make_content(path, size, seed):
    """Deterministic pseudo-random content (same bytes, same infohash on every run)."""
    data = random.Random(seed).randbytes(size)
    with open(path, "wb") as f:
        f.write(data)
    return data


def make_torrent(content_path, torrent_path, announce=None, piece=PIECE):
    data = open(content_path, "rb").read()
    pieces = b"".join(hashlib.sha1(data[o:o + piece]).digest() for o in range(0, len(data), piece))
    info = {"name": os.path.basename(content_path), "length": len(data),
            "piece length": piece, "pieces": pieces}
    meta = {"info": info, "created by": "torscan make-sample-captures"}
    if announce:
        meta["announce"] = announce
    with open(torrent_path, "wb") as f:
        f.write(bencode(meta))
    ih = infohash_of_torrent(torrent_path)
    assert ih == hashlib.sha1(bencode(info)).hexdigest()
    return {"torrent": os.path.basename(torrent_path), "name": info["name"], "infohash": ih,
            "length": len(data), "piece_length": piece, "num_pieces": len(pieces) // 20,
            "content_sha1": hashlib.sha1(data).hexdigest(), "announce": announce}


def magnet(ih, name):
    return "magnet:?xt=urn:btih:%s&dn=%s" % (ih, name)


# ---------------------------------------------------------------- lab

class Lab:
    def __init__(self, nhosts, workdir):
        self.n = nhosts
        self.work = workdir
        self.procs = []          # (name, Popen)
        os.makedirs(workdir, exist_ok=True)

    # namespaces ---------------------------------------------------------
    @staticmethod
    def ns(i):
        return "%sh%d" % (PREFIX, i)

    def up(self):
        self.down_all()
        sh("ip", "netns", "add", BR_NS)
        bx = ["ip", "netns", "exec", BR_NS]
        sh(*bx, "ip", "link", "set", "lo", "up")
        sh(*bx, "ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        sh(*bx, "sysctl", "-qw", "net.ipv6.conf.br0.disable_ipv6=1")
        sh(*bx, "ip", "link", "set", "br0", "up")
        for i in range(1, self.n + 1):
            ns = self.ns(i)
            sh("ip", "netns", "add", ns)
            ex = ["ip", "netns", "exec", ns]
            sh("ip", "link", "add", "%sv%d" % (PREFIX, i), "type", "veth", "peer", "name", "%sp%d" % (PREFIX, i))
            sh("ip", "link", "set", "%sv%d" % (PREFIX, i), "netns", ns)
            sh("ip", "link", "set", "%sp%d" % (PREFIX, i), "netns", BR_NS)
            sh(*bx, "ip", "link", "set", "%sp%d" % (PREFIX, i), "master", "br0", "up")
            sh(*ex, "ip", "link", "set", "lo", "up")
            sh(*ex, "ip", "link", "set", "%sv%d" % (PREFIX, i), "name", "eth0")
            # quiet IPv6: no router solicitations, no DAD, stable addresses
            sh(*ex, "sysctl", "-qw", "net.ipv6.conf.eth0.router_solicitations=0")
            sh(*ex, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_ra=0")
            sh(*ex, "ip", "link", "set", "eth0", "address", "02:77:00:00:00:%02x" % i)
            sh(*ex, "ip", "addr", "add", (V4 % i) + "/24", "dev", "eth0")
            sh(*ex, "ip", "-6", "addr", "add", (V6 % i) + "/64", "dev", "eth0", "nodad")
            sh(*ex, "ip", "link", "set", "eth0", "up")
            sh(*ex, "ip", "route", "add", "224.0.0.0/4", "dev", "eth0")

    @staticmethod
    def down_all():
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            name = line.split()[0] if line.split() else ""
            if name.startswith(PREFIX):
                # kill anything still living in the namespace, by pid
                pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
                for p in pids:
                    try: os.kill(int(p), signal.SIGKILL)
                    except (ProcessLookupError, ValueError): pass
                subprocess.run(["ip", "netns", "del", name], check=False)

    # processes ----------------------------------------------------------
    def start(self, name, host, cmd, cwd=None, env=None):
        """Start cmd inside host's namespace (host None = bridge namespace). Output goes to work/<name>.log."""
        ns = BR_NS if host is None else self.ns(host)
        logf = open(os.path.join(self.work, name + ".log"), "wb")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=logf, stderr=subprocess.STDOUT,
                             cwd=cwd, env=env, start_new_session=True)
        self.procs.append((name, p))
        return p

    def run(self, host, cmd, timeout=30, **kw):
        ns = BR_NS if host is None else self.ns(host)
        return subprocess.run(["ip", "netns", "exec", ns] + cmd, timeout=timeout, **kw)

    def stop(self, p, sig=signal.SIGTERM, wait=5):
        if p.poll() is None:
            try: os.killpg(p.pid, sig)
            except ProcessLookupError: pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                try: os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError: pass
                p.wait(5)

    def capture(self, pcap, snaplen=0):
        """tcpdump on the bridge sees every packet between hosts (both legs of a proxy too)."""
        cmd = ["tcpdump", "-i", "br0", "-U", "-n", "-w", pcap]
        if snaplen:
            cmd[1:1] = ["-s", str(snaplen)]
        p = self.start("tcpdump", None, cmd)
        time.sleep(1.0)
        return p

    def stop_capture(self, p):
        time.sleep(1.0)
        self.stop(p, signal.SIGINT)

    def down(self):
        for name, p in reversed(self.procs):
            self.stop(p, wait=3)
        self.procs = []
        self.down_all()


def wait_for(pred, timeout, step=0.5):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False
