#!/bin/sh
# Installs what dsm needs to build and test, from Debian 12's packages.
# Idempotent: does nothing when everything is present.
set -eu
# dpkg-dev and file: cpack -G DEB finds the .deb's dependencies with them.
PACKAGES="cmake ninja-build g++ git pkg-config ca-certificates time ccache
libgit2-dev libyaml-cpp-dev libcli11-dev libgtest-dev nlohmann-json3-dev
zlib1g-dev libssl-dev libcurl4-openssl-dev libdeflate-dev libisal-dev
python3 python3-numpy python3-yaml clang libclang-rt-14-dev
dpkg-dev file python3-dev pybind11-dev python3-pybind11 python3-pytest"
# Extra tools the test suite drives for real (pre-commit framework, npm for
# the loopback S3 server, botocore to check its requests' signatures).
# The benchmark's plot (bench/run.sh): only for the bench, not the tests.
if [ "${1:-}" = "--bench" ]; then
  PACKAGES="$PACKAGES python3-matplotlib"
fi
if [ "${1:-}" = "--test" ]; then
  PACKAGES="$PACKAGES pre-commit python3-botocore man-db zsh"
  # A Node.js from elsewhere (e.g. NodeSource's nodejs, which bundles npm and
  # conflicts with Debian's npm package) is fine: s3rver only needs node+npm.
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    PACKAGES="$PACKAGES nodejs npm"
  fi
fi
missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
