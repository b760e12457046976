#!/bin/sh
# Installs the loopback S3 server the tests use (s3rver, pinned with every
# dependency in package-lock.json beside this script) into CACHE_DIR, once.
# Needs node and npm (Debian 12: the nodejs and npm packages, installed by
# scripts/install-deps.sh --test) and the npm registry; nothing else.
# Prints the path of the s3rver executable.
#
#   tests/s3/install-s3rver.sh CACHE_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: install-s3rver.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
bin="$cache/node_modules/.bin/s3rver"
stamp="$cache/.lock-sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
# Parallel test runs share the cache: one installs, the others wait.
exec 9>"$cache/.install.lock"
flock 9
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "install-s3rver.sh: '$tool' not found; run scripts/install-deps.sh --test" >&2
      exit 2
    }
  done
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  # npm ci installs exactly the lockfile; no audit/fund calls, no scripts.
  (cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  echo "$want" >"$stamp"
fi
echo "$bin"
