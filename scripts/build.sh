#!/bin/sh
# Configures and builds dsm. Usage: scripts/build.sh BUILD_DIR [cmake args...]
set -eu
cd "$(dirname "$0")/.."
dir="$1"; shift
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
