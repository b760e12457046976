#!/bin/sh
# Installs dependencies, builds dsm, and runs its main job on a demo: a
# scratch git repository, a few arrays written by NumPy, and dsm over them.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
DSM="$(pwd)/build/dsm"
demo="$(mktemp -d /tmp/dsm-demo-XXXXXX)"
cd "$demo"
git init -q -b main .
git -c user.name=demo -c user.email=demo@example.com commit -q --allow-empty -m "start"
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
np.save("features.npy", rng.normal(size=(1000, 16)).astype("<f4"))
np.save("labels.npy", rng.integers(0, 10, size=1000).astype(">i8"))
np.savez_compressed("bundle.npz", weights=np.linspace(0, 1, 50).reshape(5, 10), mask=np.eye(3, dtype=bool))
PY
echo "== demo repository: $demo"
set -x
"$DSM" show features.npy
"$DSM" show bundle.npz
"$DSM" show labels.npy --json
