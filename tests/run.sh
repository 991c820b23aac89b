#!/usr/bin/env bash
# The test command: on a fresh Debian 12 machine (as root) install what the suite needs,
# start the Docker engine, build the test base image, then run pytest.
#
#   bash tests/run.sh                      # the whole suite
#   bash tests/run.sh tests/infra -q       # extra arguments go to pytest (paths, -k, -m, -n 0, ...)
#
# Steps (each skipped quickly when already done, see docs/testing.md):
#   tests/setup/apt.sh          Debian packages (apt-packages.txt)
#   tests/setup/python-env.sh   .venv with `pip install -e '.[test]'`
#   tests/setup/dockerd.sh      dockerd in the background unless an engine answers
#   tests/setup/base-image.sh   envman-test-base:bookworm via debootstrap + docker import
#   tests/setup/runtime-images.sh  envman-test-runtime:bookworm (+ python3, R, JRE) and
#                               envman-test-builder:bookworm (+ r-base-dev) from the base rootfs
#   tests/setup/registry.sh     docker-registry on 127.0.0.1:5000 holding envman/runtime:bookworm
# (A second engine, tests/setup/second-engine.sh, is started by the tests that use it.)
# A missing component is an error, never a skip; pytest's "no tests collected" (exit 5)
# is turned into a failure as well.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
setup="$repo/tests/setup"
cd "$repo"

t0="$(date +%s)"
bash "$setup/apt.sh"
python="$(bash "$setup/python-env.sh")"
bash "$setup/dockerd.sh"
bash "$setup/base-image.sh"
bash "$setup/runtime-images.sh"
bash "$setup/registry.sh"
echo "[setup] ready in $(( $(date +%s) - t0 )) s" >&2

# The venv first on PATH: `envman`, `python` and `pytest` in tests are the ones under test.
venv_bin="$(dirname "$python")"
VIRTUAL_ENV="$(dirname "$venv_bin")"
export PATH="$venv_bin:$PATH" VIRTUAL_ENV
unset PYTHONPATH

# Two workers on a 2-core machine; one test may take at most 5 minutes (mark a test with
# @pytest.mark.timeout(N) to change that). Arguments given to run.sh come last and win.
set +e
"$python" -m pytest -n "${ENVMAN_TEST_WORKERS:-2}" --timeout "${ENVMAN_TEST_TIMEOUT:-300}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "tests/run.sh: ERROR: pytest collected no tests; that is a failure here" >&2
  exit 1
fi
exit "$rc"
