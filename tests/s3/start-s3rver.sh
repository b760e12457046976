#!/bin/sh
# Starts the loopback S3 server in the foreground, for trying dsm by hand and
# for benchmarks: installs it if needed (install-s3rver.sh), listens on
# 127.0.0.1 only, and creates BUCKET. Its credentials are S3RVER / S3RVER.
#
#   tests/s3/start-s3rver.sh CACHE_DIR DATA_DIR BUCKET [PORT]
#
# PORT 0 (the default) picks a free port; the server prints
# "S3rver listening on 127.0.0.1:PORT".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: start-s3rver.sh CACHE_DIR DATA_DIR BUCKET [PORT]}
data=${2:?usage: start-s3rver.sh CACHE_DIR DATA_DIR BUCKET [PORT]}
bucket=${3:?usage: start-s3rver.sh CACHE_DIR DATA_DIR BUCKET [PORT]}
port=${4:-0}
bin=$("$here/install-s3rver.sh" "$cache")
mkdir -p "$data"
# s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3
# (Node >= 17) only offers through its legacy provider.
NODE_OPTIONS="${NODE_OPTIONS:-} --openssl-legacy-provider"
export NODE_OPTIONS
exec "$bin" --directory "$data" --address 127.0.0.1 --port "$port" --no-vhost-buckets --silent \
  --configure-bucket "$bucket"
