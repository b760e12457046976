#!/bin/sh
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for N
# seconds (default 30), one after the other, one process each (libFuzzer's
# -jobs would fork workers and write fuzz-N.log files). Usage:
#   scripts/fuzz.sh [SECONDS]
# The corpus grows in tests/fuzz/corpus-<target>/ (not in git), starting
# from the seeds in tests/fuzz/seeds/<target>/; a crash leaves
# tests/fuzz/crash-* and makes this script fail. Details: docs/formats.md.
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-30}"
dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DDSM_FUZZ=ON -DDSM_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j "$(nproc)" --target fuzz_npy_header fuzz_npz
for target in npy_header npz; do
  corpus="tests/fuzz/corpus-$target"
  mkdir -p "$corpus"
  dict=""
  if [ "$target" = npy_header ]; then dict="-dict=tests/fuzz/npy.dict"; fi
  echo "== fuzz_$target for ${seconds}s"
  "$dir/tests/fuzz/fuzz_$target" "$corpus" "tests/fuzz/seeds/$target" $dict \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix=tests/fuzz/ -print_final_stats=1
done
