#!/bin/sh
# Installs dependencies, builds dsm, and runs its main job on a demo: a
# scratch git repository, arrays written by NumPy, and the whole journey
# init -> add -> ls/log/path -> verify -> commit -> push -> clone -> pull.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
# The same configuration as scripts/test.sh, so running one after the other
# reuses the build instead of redoing it.
sh scripts/build.sh build -DDSM_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
PATH="$(pwd)/build:$PATH"   # the pre-commit hook runs `dsm` from PATH
export PATH
demo="$(mktemp -d /tmp/dsm-demo-XXXXXX)"
cd "$demo"
mkdir project && cd project
git init -q -b main .
git config user.name "Demo User"
git config user.email "demo@example.com"
git commit -q --allow-empty -m "start"
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
np.save("features.npy", rng.normal(size=(1000, 16)).astype("<f4"))
np.save("labels.npy", rng.integers(0, 10, size=1000).astype(">i8"))
np.savez_compressed("bundle.npz", weights=np.linspace(0, 1, 50).reshape(5, 10), mask=np.eye(3, dtype=bool))
PY
step() { printf '\n== %s\n' "$*"; }
step "dsm show: what is in a file"
dsm show features.npy
dsm show bundle.npz
step "dsm init: data directory, config, .gitignore block, pre-commit hook"
dsm init
step "dsm add: timestamped sequential names, sidecars, manifest"
dsm add features.npy -m lr=0.01 -m seed=0 --message "baseline features"
dsm add features.npy --name features --message "second run"
dsm add labels.npy bundle.npz
step "dsm ls / log / path"
dsm ls
dsm log features
python_path="$(dsm path features)"
echo "np.load(\"$python_path\")"
step "dsm verify: every payload against the manifest"
dsm verify
step "commit the sidecars and the manifest (payloads stay out of git)"
rm features.npy labels.npy bundle.npz
git add -A
git commit -q -m "Add datasets"
git show --stat --format=%s HEAD
step "the hook blocks an array committed by mistake"
/usr/bin/python3 -c "import numpy as np; np.save('oops.npy', np.zeros(3))"
git add -f oops.npy
if git commit -q -m "oops"; then echo "unexpected: commit went through"; exit 1; fi
git rm -q --cached oops.npy && rm oops.npy
step "dsm verify finds a flipped bit"
payload="$(dsm path labels)"
cp "$payload" "$demo/labels.bak"
chmod u+w "$payload"
printf '\001' | dd of="$payload" bs=1 seek=200 conv=notrunc status=none
dsm verify || echo "(dsm verify exited $?: problems found)"
cp "$demo/labels.bak" "$payload" && chmod 0444 "$payload"
dsm verify
step "share through a directory remote: push, clone, pull, verify"
mkdir -p "$demo/team-store"
dsm remote add team "$demo/team-store" --default
git add .dsm/config.yaml && git commit -q -m "Add team remote"
dsm push
git clone -q "$demo/project" "$demo/clone"
cd "$demo/clone"
dsm pull
dsm verify
echo
echo "demo repository: $demo/project (clone: $demo/clone)"
