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

# host_arch: Debian architecture of this machine (amd64, arm64, ...).
host_arch() { dpkg --print-architecture 2>/dev/null || uname -m; }

# images_archive KEY: the `docker save` archive of envman-test-runtime and envman-test-builder
# for cache key KEY (written by runtime-images.sh, loaded by it and by second-engine.sh).
images_archive() { printf '%s/images-bookworm-%s-%s.tar\n' "$ENVMAN_TEST_STATE" "$(host_arch)" "$1"; }

# image_label IMAGE LABEL: the label's value on the engine of DOCKER_HOST (or the default one),
# empty when the image or the label is missing.
image_label() {
  local value
  value="$(docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true)"
  [ "$value" = "<no value>" ] && value=""
  printf '%s\n' "$value"
}

# umount_under DIR: lazily unmount everything mounted below DIR, deepest first.
umount_under() {
  awk -v r="$1" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

# log_tail FILE [N]: the last N (default 20) lines of FILE, indented, on stderr.
log_tail() { [ -f "$1" ] && tail -n "${2:-20}" "$1" | sed 's/^/    /' >&2; return 0; }
