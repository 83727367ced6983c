#!/usr/bin/env bash
# Regenerates the tunnel sample captures on loopback (needs root for tcpdump; microsocks, dante-server,
# tinyproxy, curl, python3). Every server is started here and stopped by its own PID at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
W=$(mktemp -d)
cd "$W"
printf 'hello through a proxy\n' > index.html
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

python3 -m http.server 18080 --bind :: >/dev/null 2>&1 & pids+=($!)
microsocks -i 127.0.0.1 -p 11080 >/dev/null 2>&1 & pids+=($!)
microsocks -i 127.0.0.1 -p 11081 -u alice -P s3cret >/dev/null 2>&1 & pids+=($!)
microsocks -i 127.0.0.1 -p 11084 -b 127.0.0.5 >/dev/null 2>&1 & pids+=($!)   # exits from another address
cat > danted.conf <<CONF
logoutput: $W/danted.log
internal: 127.0.0.1 port = 11082
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: bind connect udpassociate }
socks pass { from: 0.0.0.0/0 to: 127.0.0.0/8 command: bindreply udpreply }
CONF
danted -f danted.conf -p "$W/danted.pid" >/dev/null 2>&1 & pids+=($!)
cat > tinyproxy.conf <<CONF
Port 18888
Listen 127.0.0.1
Timeout 60
MaxClients 10
Allow 127.0.0.1
ConnectPort 18080
BasicAuth bob hunter2
CONF
tinyproxy -d -c tinyproxy.conf >/dev/null 2>&1 & pids+=($!)
python3 "$HERE/helpers.py" serve >/dev/null 2>&1 & pids+=($!)
sleep 3

cap() {  # cap NAME FILTER COMMAND...
  local name=$1 filter=$2; shift 2
  tcpdump -i lo -U -s 0 -w "$OUT/$name.pcap" "$filter" >/dev/null 2>&1 & local t=$!
  sleep 0.7
  "$@" >/dev/null 2>&1 || true
  sleep 0.7
  kill "$t"; wait "$t" 2>/dev/null || true
}
U=http://127.0.0.1:18080/index.html
cap socks5-connect-ipv4      "tcp port 11080 or tcp port 18080 or tcp port 16882" curl -s --socks5 127.0.0.1:11080 $U
cap socks5-connect-domain    "tcp port 11080 or tcp port 18080 or tcp port 16882" curl -s --socks5-hostname 127.0.0.1:11080 http://localhost:18080/index.html
cap socks5-connect-ipv6      "tcp port 11080 or tcp port 18080 or tcp port 16882" curl -s --socks5 127.0.0.1:11080 "http://[::1]:18080/index.html"
cap socks5-userpass          "tcp port 11081 or tcp port 18080" curl -s --proxy socks5://alice:s3cret@127.0.0.1:11081 $U
cap socks5-userpass-rejected "tcp port 11081 or tcp port 18080" curl -s --proxy socks5://alice:wrong@127.0.0.1:11081 $U
cap socks5-refused           "tcp port 11080 or tcp port 18080 or tcp port 16882" curl -s --socks5 127.0.0.1:11080 http://127.0.0.1:1/
cap socks4-connect           "tcp port 11082 or tcp port 18080" curl -s --socks4 127.0.0.1:11082 $U
cap socks4a-rejected         "tcp port 11082 or tcp port 18080" curl -s --socks4a 127.0.0.1:11082 http://localhost:18080/index.html
cap http-connect             "tcp port 18888 or tcp port 18080" curl -s -p -x http://bob:hunter2@127.0.0.1:18888 $U
cap http-connect-407         "tcp port 18888 or tcp port 18080" curl -s -p --proxy-anyauth -U bob:hunter2 -x http://127.0.0.1:18888 $U
cap socks5-udp-associate-dht "tcp port 11082 or udp port 16881 or (udp and host 127.0.0.1 and not port 53)" python3 "$HERE/helpers.py" udp 127.0.0.1 11082
cap socks5-bittorrent        "tcp port 11080 or tcp port 18080 or tcp port 16882" python3 "$HERE/helpers.py" bt 127.0.0.1 11080
cap socks5-two-clients       "tcp port 11080 or tcp port 16882" bash -c "python3 '$HERE/helpers.py' bt 127.0.0.1 11080 127.0.0.2; sleep 0.3;
  python3 '$HERE/helpers.py' bt 127.0.0.1 11080 127.0.0.3 5fd1e8f294232691194d0bedf890791172bc7750"
cap socks5-other-exit-address "tcp port 11084 or tcp port 16882" python3 "$HERE/helpers.py" bt 127.0.0.1 11084 127.0.0.2
cap socks5-bind-bittorrent   "tcp and host 127.0.0.1 and not port 18080 and not port 16882 and not port 18888" python3 "$HERE/helpers.py" bind 127.0.0.1 11082
ls -l "$OUT"/*.pcap
