#!/bin/sh
# Installs dependencies, builds dsm (warnings are errors) and runs the whole
# test suite through ctest. Usage: scripts/test.sh [--sanitize|--tsan]
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --test
dir=build
args="-DDSM_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
case "${1:-}" in
  --sanitize) dir=build-asan; args="$args -DDSM_SANITIZE=ON" ;;
  --tsan) dir=build-tsan; args="$args -DDSM_TSAN=ON" ;;
esac
sh scripts/build.sh "$dir" $args
cd "$dir"
ctest --output-on-failure -j "$(nproc)" ${DSM_CTEST_ARGS:-}
