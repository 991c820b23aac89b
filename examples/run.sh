#!/usr/bin/env bash
# The main job on the example project, on a fresh Debian machine:
# install envman, prove the committed lock matches the manifest (offline), re-lock
# (a no-op when nothing changed), export hashed requirements and explain one pin.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
example="${1:-$here/churn-model}"

if ! python3 -m pip --version >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip python3-venv
fi
if ! python3 -c "import envman" >/dev/null 2>&1; then
  python3 -m pip install -q "$repo" 2>/dev/null || python3 -m pip install -q --break-system-packages "$repo"
fi

cd "$example"
echo "== envman validate"; python3 -m envman validate
echo "== envman lock --check (CI lock-parity gate, offline)"; python3 -m envman lock --check
echo "== envman lock (no-op when the manifest did not change)"; python3 -m envman lock
echo "== envman export --format requirements --env production"
python3 -m envman export --format requirements --env production -o /tmp/envman-example-requirements.txt
grep -c -- "--hash=sha256:" /tmp/envman-example-requirements.txt | sed 's/^/hash lines: /'
echo "== envman why numpy --env design"; python3 -m envman why numpy --env design
