#!/usr/bin/python3
"""One python3-libtorrent session, configured by a JSON file (argv[1]); run inside a namespace.
Seeds and/or downloads the given torrents and magnets, writes a status JSON when every
download is complete, and exits after `linger` seconds (or on SIGTERM, or at `timeout`)."""
import json, signal, sys, time
import libtorrent as lt

cfg = json.load(open(sys.argv[1]))
settings = {
    "listen_interfaces": cfg["listen"],
    "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "dht_bootstrap_nodes": "",             # never the public bootstrap nodes
    "allow_multiple_connections_per_ip": True,
    "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
    "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
    "dht_aggressive_lookups": True,
    "alert_mask": lt.alert_category.error | lt.alert_category.status | lt.alert_category.peer,
}
settings.update(cfg.get("settings", {}))
ses = lt.session(settings)
handles = []
for t in cfg.get("torrents", []):
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(t["torrent"])
    p.save_path = t["save"]
    handles.append(ses.add_torrent(p))
for m in cfg.get("magnets", []):
    p = lt.parse_magnet_uri(m["uri"])
    p.save_path = m["save"]
    handles.append(ses.add_torrent(p))

stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)

start = time.time()
done_at = None
connected = False
last_dht = 0
while not stop and time.time() - start < cfg.get("timeout", 55):
    for a in ses.pop_alerts():
        if isinstance(a, (lt.peer_error_alert, lt.torrent_error_alert, lt.listen_failed_alert)):
            print("alert:", a.message(), flush=True)
    sts = [h.status() for h in handles]
    if not connected and all(s.state not in (lt.torrent_status.checking_files,) for s in sts):
        for ip, port in cfg.get("connect", []):
            for h in handles:
                h.connect_peer((ip, port))
        connected = bool(cfg.get("connect"))
    if cfg.get("force_dht") and time.time() - last_dht > 3:
        for h in handles:
            h.force_dht_announce()
        last_dht = time.time()
    if done_at is None and handles and all(s.is_seeding for s in sts) and cfg.get("leecher"):
        done_at = time.time()
        json.dump({"done": True, "seconds": round(done_at - start, 2),
                   "libtorrent": lt.__version__,
                   "torrents": [{"infohash": str(s.info_hashes.v1), "name": s.name,
                                 "total_download": s.total_download} for s in sts]},
                  open(cfg["status"], "w"))
        print("complete after %.1fs" % (done_at - start), flush=True)
    if done_at is not None and time.time() - done_at > cfg.get("linger", 2):
        break
    time.sleep(0.25)
ses.pause()
del ses        # destructor sends tracker "stopped" announces
