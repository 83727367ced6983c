#!/usr/bin/env bash
# Proves that PacketDecoder allocates nothing per packet on the non-fragment path: valgrind counts every
# malloc of the test process running DecodeAllocationProbeTests with 1,000 and with 100,000 decoded frames
# (Ethernet/VLAN/PPPoE/SLL/SLL2/NULL/raw, IPv4/IPv6 with extension headers, TCP/UDP); the totals must match
# up to a handful of allocations (the test runner's own bookkeeping).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "decode-alloc-check: valgrind is not installed (apt-get install -y valgrind)"; exit 2; }
swift build --build-tests >/dev/null
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
# valgrind 3.19 cannot read Swift's DWARF 5: run a copy without debug information.
objcopy --strip-debug "$(swift build --show-bin-path)/torscanPackageTests.xctest" "$DIR/tests"
allocs() {
  { TORSCAN_DECODE_FRAMES=$1 valgrind "$DIR/tests" --testing-library swift-testing --filter DecodeAllocationProbeTests 2>&1 >/dev/null || true; } \
    | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,
}
A=$(allocs 1000); B=$(allocs 100000)
echo "malloc calls: 1,000 frames: $A; 100,000 frames: $B; difference: $((B - A)) over 99,000 frames"
[ -n "$A" ] && [ -n "$B" ] && [ $((B - A)) -lt 99 ] || { echo "decode-alloc-check: FAILED (allocations grow with frames)"; exit 1; }
echo "decode-alloc-check: OK (< 1 allocation per 1,000 frames)"
