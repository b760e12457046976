#!/bin/sh
# Builds dsm's libFuzzer targets with clang (in build-fuzz/, ASan+UBSan) and
# runs each for SECONDS (default 30), one after the other, starting from its
# seed corpus tests/fuzz/seeds/<name>/. New inputs go to
# build-fuzz/corpus/<name>/ (the seeds in the tree are never modified);
# crashing inputs to build-fuzz/findings/. Exits 1 if any target found one.
#   Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 fuzz_manifest
# Reproduce a finding: build-fuzz/tests/fuzz/<target> build-fuzz/findings/<file>
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-30}"
[ $# -gt 0 ] && shift
sh scripts/install-deps.sh
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDSM_FUZZ=ON -DDSM_TESTS=OFF -DDSM_CRASH_POINTS=OFF >/dev/null
targets="$*"
if [ -z "$targets" ]; then
  for f in tests/fuzz/fuzz_*.cpp; do targets="$targets $(basename "$f" .cpp)"; done
fi
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc)" --target $targets
mkdir -p build-fuzz/findings
status=0
for t in $targets; do
  name="${t#fuzz_}"
  mkdir -p "build-fuzz/corpus/$name"
  echo "== $t: ${seconds}s" >&2
  # A token dictionary helps the target reach deep states: tests/fuzz/<name>.dict.
  dict=""
  if [ -f "tests/fuzz/$name.dict" ]; then dict="-dict=tests/fuzz/$name.dict"; fi
  # -rss_limit_mb: a parser must never need much memory, whatever the input.
  # shellcheck disable=SC2086
  if ! "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 $dict \
      -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$t-" \
      "build-fuzz/corpus/$name" "tests/fuzz/seeds/$name" 2>"build-fuzz/$t.log"; then
    status=1
    tail -n 60 "build-fuzz/$t.log" >&2
  fi
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "build-fuzz/$t.log" >&2 || true
done
exit $status
