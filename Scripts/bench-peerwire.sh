#!/bin/sh
# Builds WireBytes + BitTorrentClassifier with -O and runs the PeerWireStream micro-benchmark.
# Usage: Scripts/bench-peerwire.sh   (from the package root; uses swiftc only, not SwiftPM)
set -eu
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
swiftc -O -wmo -parse-as-library -module-name WireBytes -emit-module -emit-module-path "$T/WireBytes.swiftmodule" \
    -c -o "$T/WireBytes.o" Sources/WireBytes/*.swift
swiftc -O -wmo -parse-as-library -module-name BitTorrentClassifier -I "$T" -emit-module -emit-module-path "$T/BitTorrentClassifier.swiftmodule" \
    -c -o "$T/BitTorrentClassifier.o" $(find Sources/BitTorrentClassifier -name '*.swift' | sort)
swiftc -O -I "$T" Scripts/bench/PeerWireBench.swift "$T/WireBytes.o" "$T/BitTorrentClassifier.o" -o "$T/bench"
"$T/bench"
