#!/bin/sh
# Configures and builds dsm. Usage: scripts/build.sh BUILD_DIR [cmake args...]
set -eu
cd "$(dirname "$0")/.."
dir="$1"; shift
# ccache, when installed, makes rebuilds (and builds of other checkouts of
# the same sources: CCACHE_BASEDIR makes their paths relative) cheap.
launcher=""
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(pwd)}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
fi
cmake -S . -B "$dir" -G Ninja $launcher "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
