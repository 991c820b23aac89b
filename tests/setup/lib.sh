# shellcheck shell=bash
# Shared helpers for the test setup scripts (sourced, not run).
# Messages go to stderr so that callers can capture a script's stdout.

ENVMAN_TEST_STATE="${ENVMAN_TEST_STATE:-/var/cache/envman-test}"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# now_s: seconds since the epoch with a fraction, for step timings.
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f s", b - a }'; }

is_root() { [ "$(id -u)" = 0 ]; }

# read_list FILE: the non-empty, non-comment lines of FILE, first word of each.
read_list() { sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]].*$//' "$1" | grep -v '^$' || true; }
