#!/usr/bin/env bash
# Real encrypted BitTorrent (MSE/PE, RC4 forced) between two clients on loopback: three connections
# per client pair. Needs root (tcpdump), python3-libtorrent (Debian, /usr/bin/python3), aria2c, dante-server, tshark.
# Every process started here is stopped by its own PID.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
W=$(mktemp -d)
PY=/usr/bin/python3
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
$PY "$HERE/mse_peers.py" torrent "$W" http://127.0.0.1:16969/announce
$PY "$HERE/mse_peers.py" tracker 16969 & pids+=($!)
sleep 0.5

start_capture() { tcpdump -i lo -U -s 0 -w "$OUT/$1" "$2" >/dev/null 2>&1 & tcpd=$!; sleep 0.7; }
stop_capture() { sleep 0.5; kill "$tcpd"; wait "$tcpd" 2>/dev/null || true; }

# libtorrent 2.0.8 -> libtorrent 2.0.8 (out_enc_policy/in_enc_policy forced, rc4).
start_capture mse-libtorrent.pcap "tcp port 16891"
for i in 1 2 3; do rm -rf "$W/leech"; timeout 30 $PY "$HERE/mse_peers.py" libtorrent "$W"; done
stop_capture

# libtorrent -> microsocks (user alice) -> libtorrent: encrypted BitTorrent inside a SOCKS5 tunnel.
microsocks -i 127.0.0.1 -p 11083 -u alice -P s3cret >/dev/null 2>&1 & socks=$!; pids+=($socks)
sleep 0.5
start_capture socks5-mse-libtorrent.pcap "tcp port 11083 or tcp port 16891"
rm -rf "$W/leech"; timeout 30 $PY "$HERE/mse_peers.py" libtorrent "$W" 11083
stop_capture
kill "$socks"

# libtorrent -> dante (SOCKS5 UDP ASSOCIATE) -> libtorrent, uTP only, encryption disabled: uTP in relayed datagrams.
cat > "$W/danted.conf" <<CONF
logoutput: $W/danted.log
internal: 127.0.0.1 port = 11082
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect udpassociate }
socks pass { from: 0.0.0.0/0 to: 127.0.0.0/8 command: udpreply }
CONF
danted -f "$W/danted.conf" -p "$W/danted.pid" >/dev/null 2>&1 & dante=$!; pids+=($dante)
sleep 1
start_capture socks5-udp-associate-utp.raw.pcap "(tcp port 11082) or (udp and host 127.0.0.1 and not port 53)"
rm -rf "$W/leech"; timeout 30 $PY "$HERE/mse_peers.py" utp "$W" 11082
stop_capture
kill "$dante"
# Keep the proxy's TCP connections, the client <-> relay and relay <-> seeder flows (loopback carries other UDP).
raw="$OUT/socks5-udp-associate-utp.raw.pcap"
relay=$(tshark -r "$raw" -Y "udp.srcport==16896" -T fields -e udp.dstport | head -1)
tshark -r "$raw" -Y "tcp.port==11082 || udp.port==$relay || udp.port==16895" -w "$OUT/socks5-udp-associate-utp.pcap"
rm -f "$raw"

# aria2 1.36 -> aria2 1.36 (--bt-require-crypto, arc4), peers from the loopback tracker.
A="--enable-dht=false --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false --bt-require-crypto=true
   --bt-min-crypto-level=arc4 --summary-interval=0 --console-log-level=warn --check-integrity=true"
mkdir -p "$W/seed" && cp "$W/data.bin" "$W/seed/"
start_capture mse-aria2.pcap "tcp port 16893"
aria2c $A --dir="$W/seed" --listen-port=16893 --seed-ratio=0.0 --seed-time=2 "$W/t.torrent" >/dev/null 2>&1 & seed=$!; pids+=($seed)
sleep 1.5
for i in 1 2 3; do rm -rf "$W/l"; timeout 20 aria2c $A --dir="$W/l" --listen-port=16894 --seed-time=0 "$W/t.torrent" >/dev/null 2>&1 || true; done
kill "$seed"
stop_capture
ls -l "$OUT"/mse-*.pcap
