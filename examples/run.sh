#!/usr/bin/env bash
# The main job on the example project examples/multi-language, on a fresh Debian 12 machine
# (as root): install envman and R, lock Python + R + JVM into one envman.lock, prove the
# committed lock matches the manifest, export it for pip/renv/Maven/SBOM tools, build a
# venv, an R library and a jar folder from the lock, check them for drift, then make one
# drift on purpose and show it; then build the production image, reproducibly, and check it.
#   bash examples/run.sh            # the R and Maven repositories in repos/ are served on
#                                   # 127.0.0.1:18765; Python packages come from PyPI
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
example="$here/multi-language"
work="${ENVMAN_EXAMPLE_WORK:-$(mktemp -d /tmp/envman-example.XXXXXX)}"

step() { printf '\n== %s\n' "$*"; }

# 1. what the example needs: Python with venv, R with a compiler (cli has C code)
need=()
for pkg in python3 python3-venv r-base-core gcc make libc6-dev docker.io debootstrap debian-archive-keyring; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  step "apt-get install ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
python="$(bash "$repo/tests/setup/python-env.sh")"   # <repo>/.venv with envman installed
envman() { "$python" -m envman "$@"; }

# 2. serve the example's R and Maven repositories on loopback
"$python" -m http.server 18765 --bind 127.0.0.1 --directory "$example/repos" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  "$python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:18765/cran/src/contrib/PACKAGES')" 2>/dev/null && break
  sleep 0.1
done

cd "$example"
step "envman validate"; envman validate
step "envman lock --check   (the CI lock-parity gate: offline, exit 1 when stale)"; envman lock --check
step "envman lock           (re-resolves only changed sections; a no-op here)"; envman lock

step "envman export: requirements (pip --require-hashes), renv.lock, Maven classpath, CycloneDX SBOM"
envman export --env production --format requirements -o "$work/requirements.txt"
envman export --env production --format renv -o "$work/renv.lock"
envman export --env production --format maven -o "$work/maven.json"
envman export --env production --format cyclonedx -o "$work/sbom.json"
ls -l "$work"

step "envman sync: a venv, an R library and a jar folder made exactly the production lock"
"$python" -c "import sys; print(sys.version)" >/dev/null
python3 -m venv "$work/venv"
mkdir -p "$work/rlib" "$work/jars"
envman sync --env production "python:$work/venv/bin/python"
envman sync --env production "rlib:$work/rlib"
envman sync --env production "jars:$work/jars"

step "envman check: all three in sync with the lock"
envman check --env production "python:$work/venv/bin/python" "rlib:$work/rlib" "jars:$work/jars"

step "drift on purpose: remove an R package and a jar, then check again (exit 1 expected)"
rm -rf "$work/rlib/R6" "$work/jars/"commons-lang3*.jar
set +e
envman check --env production --format markdown "python:$work/venv/bin/python" "rlib:$work/rlib" "jars:$work/jars"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "expected exit 1 (drift), got $rc" >&2; exit 1; }

step "envman diff: the design environment vs production"
envman diff lock:design lock:production || true

step "envman why desc --env production"; envman why desc --env production

step "envman build: the production image (Python, R and JVM layers, bit-for-bit reproducible)"
# No registry is reachable here, so the base with Debian's python3, R and a JRE is made on this
# machine with debootstrap (cached); the copy's image section names it and `lock` pins its ID.
bash "$repo/tests/setup/dockerd.sh"
bash "$repo/tests/setup/base-image.sh"
bash "$repo/tests/setup/runtime-images.sh"
mkdir -p "$work/project"
cp "$example/envman.yaml" "$example/envman.lock" "$work/project/"
printf 'image:\n  base: envman-test-runtime:bookworm\n  builder: envman-test-builder:bookworm\n' >> "$work/project/envman.yaml"
(
  cd "$work/project"
  envman lock
  envman build --env production --tag scoring-service:production
  step "the image is the lock: envman check image:scoring-service:production"
  envman check --env production image:scoring-service:production
  docker run --rm scoring-service:production python3 -c "import pandas, requests; print('pandas', pandas.__version__, 'requests', requests.__version__)"
)
printf '\nexample done; files in %s\n' "$work"
