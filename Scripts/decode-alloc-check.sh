#!/usr/bin/env bash
# Proves that PacketDecoder allocates nothing per packet on the non-fragment path: valgrind counts every
# malloc of a small probe (Scripts/decode-alloc-probe/main.swift, linked against the built PacketDecode and
# WireBytes objects) decoding 1,000 and 100,000 frames (Ethernet/PPPoE, SLL2, raw IP; IPv4/IPv6 with
# extension headers; TCP/UDP). The totals must be equal.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "decode-alloc-check: valgrind is not installed (apt-get install -y valgrind)"; exit 2; }
swift build --target PacketDecode >/dev/null
BIN=$(swift build --show-bin-path)
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
swiftc -O -I "$BIN/Modules" Scripts/decode-alloc-probe/main.swift "$BIN"/PacketDecode.build/*.swift.o "$BIN"/WireBytes.build/*.swift.o \
  -o "$DIR/probe" 2>/dev/null
allocs() { valgrind "$DIR/probe" "$1" 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,; }
A=$(allocs 1000); B=$(allocs 100000)
echo "malloc calls: 1,000 frames: $A; 100,000 frames: $B"
[ -n "$A" ] && [ "$A" = "$B" ] || { echo "decode-alloc-check: FAILED (allocations grow with frames)"; exit 1; }
echo "decode-alloc-check: OK (no allocation per decoded frame)"
