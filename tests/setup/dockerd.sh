#!/usr/bin/env bash
# Make sure a Docker engine answers; start Debian's dockerd in the background if none does.
#
# The engine is started with --bridge=none --iptables=false: containers get no network
# unless a test asks for network_mode="host" explicitly (nothing here may reach the network
# from a container), and no iptables rules are needed, which sandboxes often refuse.
# The storage driver is dockerd's default (overlay2); when that engine does not come up,
# the script retries once with --storage-driver=vfs. Extra flags: ENVMAN_TEST_DOCKERD_FLAGS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/setup/lib.sh
. "$here/lib.sh"

start="$(now_s)"
log_file="${ENVMAN_TEST_DOCKERD_LOG:-/var/log/envman-test-dockerd.log}"
wait_s="${ENVMAN_TEST_DOCKERD_WAIT:-60}"

command -v docker >/dev/null 2>&1 || die "docker: client not found (apt-get install docker.io)"

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

if engine_answers; then
  log "docker: engine already running ($(elapsed "$start"))"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ]; then
  die "docker: DOCKER_HOST=$DOCKER_HOST does not answer; unset it to let this script start a local dockerd"
fi
command -v dockerd >/dev/null 2>&1 || die "docker: dockerd not found (apt-get install docker.io)"
is_root || die "docker: no engine answers and starting dockerd needs root"

# A dockerd that runs but does not answer (still starting, or wedged): give it a moment.
# The second engine of the tests (second-engine.sh, marked by its cgroup parent) does not count.
default_dockerd() {
  local p
  for p in $(pgrep -x dockerd); do
    tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q -- '--cgroup-parent=/envman-test-engine2' || echo "$p"
  done
}
if pid="$(default_dockerd | head -n1)" && [ -n "$pid" ]; then
  log "docker: dockerd (pid $pid) runs but does not answer yet; waiting up to ${wait_s}s"
  for _ in $(seq "$wait_s"); do
    engine_answers && { log "docker: engine answers ($(elapsed "$start"))"; exit 0; }
    sleep 1
  done
  die "docker: dockerd (pid $pid) runs but 'docker info' does not answer; see its log or stop it"
fi

mkdir -p "$(dirname "$log_file")"

# try_start FLAGS...: start dockerd detached (setsid, all fds redirected so a CI runner
# waiting on our stdout is not held open), wait until it answers; 0 on success.
try_start() {
  log "docker: starting dockerd $* (log: $log_file)"
  {
    echo "=== $(date -u +%FT%TZ) dockerd $*"
  } >>"$log_file"
  setsid dockerd "$@" </dev/null >>"$log_file" 2>&1 &
  local pid=$!
  for _ in $(seq "$wait_s"); do
    if engine_answers; then
      log "docker: engine answers (pid $pid, $(elapsed "$start"))"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "docker: dockerd exited during start-up; its errors:"
      # This attempt's part of the log, without the info chatter.
      awk '/^=== /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$log_file" \
        | grep -v 'level=info' | tail -n 12 | sed 's/^/    /' >&2
      return 1
    fi
    sleep 1
  done
  log "docker: dockerd did not answer within ${wait_s}s; stopping it"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  return 1
}

# shellcheck disable=SC2206
extra=(${ENVMAN_TEST_DOCKERD_FLAGS:-})
base=(--bridge=none --iptables=false --ip6tables=false "${extra[@]}")

try_start "${base[@]}" && exit 0
log "docker: retrying with --storage-driver=vfs (the sandbox may refuse overlayfs)"
try_start "${base[@]}" --storage-driver=vfs && exit 0
die "docker: could not start dockerd (see $log_file). Containers cannot run here; the docker tests cannot pass."
