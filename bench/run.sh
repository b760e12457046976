#!/bin/sh
# The dsm benchmark in one command. See docs/benchmarks.md for its output.
#
#   bench/run.sh           full run: installs the peers from Debian (only what
#                          is missing), builds dsm (Release, in build-bench/)
#                          unless DSM_BIN is set, generates its data under
#                          bench/out/ and writes docs/benchmarks.md
#                          (about 15 minutes on 2 cores, ~15 GB of disk)
#   bench/run.sh --smoke   tiny data, seconds: the same code paths, no
#                          installs, no network, a missing peer is skipped;
#                          writes a temporary file. Uses DSM_BIN, else build/dsm.
# Other arguments go to bench/bench.py (--out FILE, --keep, --only W1,W2).
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
smoke=no
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=yes ;;
  esac
done

if [ "$smoke" = yes ]; then
  dsm="${DSM_BIN:-$root/build/dsm}"
  exec /usr/bin/python3 "$root/bench/bench.py" --dsm "$dsm" "$@"
fi

sh "$root/scripts/install-deps.sh" --bench
need=""
command -v git-annex >/dev/null 2>&1 || need="$need git-annex"
command -v pigz >/dev/null 2>&1 || need="$need pigz"
command -v rclone >/dev/null 2>&1 || need="$need rclone"
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "bench: installing peers:$need" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ -z "${DSM_BIN:-}" ]; then
  # What users run: optimised, no test-only crash points.
  sh "$root/scripts/build.sh" "$root/build-bench" -DCMAKE_BUILD_TYPE=Release \
    -DDSM_TESTS=OFF -DDSM_CRASH_POINTS=OFF
  DSM_BIN="$root/build-bench/dsm"
fi
exec /usr/bin/python3 "$root/bench/bench.py" --dsm "$DSM_BIN" --work "$root/bench/out" "$@"
