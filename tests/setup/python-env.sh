#!/usr/bin/env bash
# Make the test virtual environment: `pip install -e '.[test]'` of this repo into
# $ENVMAN_TEST_VENV (default: <repo>/.venv). Prints the venv's python on stdout.
# Fast path: skipped when the venv exists and was made from the same pyproject.toml
# by the same base interpreter.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/setup/lib.sh
. "$here/lib.sh"
repo="$(cd "$here/../.." && pwd)"

start="$(now_s)"
base_python="${ENVMAN_TEST_BASE_PYTHON:-python3}"
venv="${ENVMAN_TEST_VENV:-$repo/.venv}"
command -v "$base_python" >/dev/null 2>&1 || die "python: '$base_python' not found (apt-get install python3 python3-venv)"

base_real="$("$base_python" -c 'import sys, os; print(os.path.realpath(sys.executable), sys.version.split()[0])')"
key="$( { cat "$repo/pyproject.toml" "$here/python-env.sh"; echo "$base_real"; echo "$repo"; } | sha256sum | cut -d' ' -f1)"
stamp="$venv/.envman-test-stamp"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ] \
   && "$venv/bin/python" -c 'import envman, pytest, xdist, pytest_timeout, docker' >/dev/null 2>&1; then
  log "python: $venv up to date ($(elapsed "$start"))"
  echo "$venv/bin/python"
  exit 0
fi

if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  # Never delete a folder this script did not make (a developer's own venv, say).
  if [ -e "$venv" ] && [ ! -f "$stamp" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
    die "python: $venv exists but is not a working venv made by this script; remove it or set ENVMAN_TEST_VENV"
  fi
  log "python: creating $venv from $base_real"
  rm -rf "$venv"
  "$base_python" -m venv "$venv" >&2 \
    || die "python: '$base_python -m venv' failed (on Debian: apt-get install python3-venv)"
else
  log "python: updating $venv"
fi
pip_log="$venv/pip-install.log"
# editable_mode=compat: a plain path in a .pth file; setuptools' default editable finder
# costs every envman process ~17 ms at start-up (pathlib, importlib.util, fnmatch).
if ! "$venv/bin/python" -m pip install -e "${repo}[test]" --config-settings editable_mode=compat >"$pip_log" 2>&1; then
  grep -v 'is ignored: it is neither a file nor a directory' "$pip_log" | tail -n 25 | sed 's/^/    /' >&2
  die "python: pip install -e '.[test]' failed (is PyPI reachable?); full log: $pip_log"
fi
echo "$key" >"$stamp"
log "python: installed envman[test] into $venv ($(elapsed "$start"))"
echo "$venv/bin/python"
