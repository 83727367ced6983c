#!/usr/bin/env bash
# Build the libFuzzer package in Fuzz/ and run one target for a while.
#   Scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags]     e.g. Scripts/fuzz.sh FuzzDecode 300
# New interesting inputs go to a scratch corpus (.build/fuzz-corpus/TARGET, seeded from Fuzz/Corpus/TARGET);
# crashes land in Fuzz/FailCases/TARGET/ (add each as a named test in Tests/FuzzReplayTests and fix it).
set -euo pipefail
target=${1:?usage: fuzz.sh TARGET SECONDS}
seconds=${2:-60}
shift 2 || true
cd "$(dirname "$0")/../Fuzz"
swift build -c debug --sanitize=fuzzer --sanitize=address \
  -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp --product "$target"
bin=$(swift build -c debug --sanitize=fuzzer --sanitize=address --show-bin-path)/$target
scratch=.build/fuzz-corpus/$target
mkdir -p "$scratch" "FailCases/$target"
exec "$bin" "$scratch" "Corpus/$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="FailCases/$target/" "$@"
