#!/usr/bin/env bash
# A second Docker engine for tests that need two (tests/conftest.py `second_engine`): its own
# dockerd with nothing shared with the default engine (data root, exec root, pidfile, socket,
# its own managed containerd, containerd namespace, cgroup parent), started with
# --bridge=none --iptables=false --ip6tables=false, holding envman-test-runtime:bookworm and
# envman-test-builder:bookworm (loaded from runtime-images.sh's archive, else
# `docker save | docker load` from the default engine).
#
#   second-engine.sh acquire PID   start it unless it answers, register user PID, print DOCKER_HOST
#   second-engine.sh release PID   unregister PID; stop the engine when no live user is left
#   second-engine.sh start         start it unless it answers, print DOCKER_HOST (no user kept)
#   second-engine.sh stop          stop it
#
# Users are files named by process id under $run_dir/users, changed under a flock: the pytest
# workers (xdist) share one engine, and a user whose process is gone no longer counts.
# Places: data root $ENVMAN_TEST_STATE/engine2 (kept between runs, so the images are loaded
# once per machine); socket, pidfile, exec root under /run/envman-test-engine2
# (ENVMAN_TEST_ENGINE2_RUN); log /var/log/envman-test-engine2.log (ENVMAN_TEST_ENGINE2_LOG).
# Extra dockerd flags: ENVMAN_TEST_ENGINE2_FLAGS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/setup/lib.sh
. "$here/lib.sh"

start="$(now_s)"
run_dir="${ENVMAN_TEST_ENGINE2_RUN:-/run/envman-test-engine2}"
data_root="$ENVMAN_TEST_STATE/engine2"
url="unix://$run_dir/docker.sock"
pidfile="$run_dir/dockerd.pid"
users="$run_dir/users"
log_file="${ENVMAN_TEST_ENGINE2_LOG:-/var/log/envman-test-engine2.log}"
wait_s="${ENVMAN_TEST_DOCKERD_WAIT:-60}"
images=(envman-test-runtime:bookworm envman-test-builder:bookworm)  # tests/conftest.py
label=org.envman.test-image.key
marker=--cgroup-parent=/envman-test-engine2   # dockerd.sh tells this engine from the default one by it

engine2() { DOCKER_HOST="$url" docker "$@"; }
answers() { DOCKER_HOST="$url" timeout 20 docker info >/dev/null 2>&1; }
engine_pid() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- "$marker"; then
    echo "$pid"
  fi
}

# try_start FLAGS...: start dockerd detached, wait until it answers; 0 on success.
try_start() {
  log "engine2: starting dockerd $* (log: $log_file)"
  echo "=== $(date -u +%FT%TZ) dockerd $*" >>"$log_file"
  setsid dockerd "$@" </dev/null >>"$log_file" 2>&1 9>&- &
  local pid=$!
  for _ in $(seq "$((wait_s * 2))"); do
    answers && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      log "engine2: dockerd exited during start-up; its errors:"
      awk '/^=== /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$log_file" \
        | grep -v 'level=info' | tail -n 12 | sed 's/^/    /' >&2
      return 1
    fi
    sleep 0.5
  done
  log "engine2: dockerd did not answer within ${wait_s}s; stopping it"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  return 1
}

start_engine() {
  if answers; then
    return 0
  fi
  local pid
  pid="$(engine_pid)"
  if [ -n "$pid" ]; then
    log "engine2: dockerd (pid $pid) runs but does not answer yet; waiting up to ${wait_s}s"
    for _ in $(seq "$wait_s"); do answers && return 0; sleep 1; done
    die "engine2: dockerd (pid $pid) runs but does not answer on $url; see $log_file or stop it"
  fi
  command -v dockerd >/dev/null 2>&1 || die "engine2: dockerd not found (apt-get install docker.io)"
  is_root || die "engine2: starting a second dockerd needs root"
  mkdir -p "$run_dir" "$data_root" "$(dirname "$log_file")"
  rm -f "$pidfile" "$run_dir/docker.sock"
  # shellcheck disable=SC2206
  local extra=(${ENVMAN_TEST_ENGINE2_FLAGS:-})
  local flags=(--data-root "$data_root" --exec-root "$run_dir/exec" --pidfile "$pidfile" --host "$url"
               --containerd-namespace envman-engine2 --containerd-plugins-namespace envman-engine2-plugins
               "$marker" --bridge=none --iptables=false --ip6tables=false "${extra[@]}")
  try_start "${flags[@]}" && { log "engine2: answers on $url ($(elapsed "$start"))"; return 0; }
  log "engine2: retrying with --storage-driver=vfs"
  try_start "${flags[@]}" --storage-driver=vfs && { log "engine2: answers on $url ($(elapsed "$start"))"; return 0; }
  die "engine2: could not start a second dockerd (see $log_file)"
}

# ensure_images: the engine holds both images with the default engine's key.
ensure_images() {
  local key have_rt have_bd old=() image id archive
  key="$(image_label "${images[0]}" "$label")"
  [ -n "$key" ] || die "engine2: ${images[0]} is missing in the default engine; run tests/setup/runtime-images.sh first"
  have_rt="$(DOCKER_HOST="$url" image_label "${images[0]}" "$label")"
  have_bd="$(DOCKER_HOST="$url" image_label "${images[1]}" "$label")"
  [ "$have_rt/$have_bd" = "$key/$key" ] && return 0
  for image in "${images[1]}" "${images[0]}"; do  # builder first: it may be a child of the runtime
    id="$(engine2 image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
    [ -n "$id" ] && old+=("$id")
  done
  archive="$(images_archive "$key")"
  if [ -s "$archive" ]; then
    log "engine2: loading $archive"
    engine2 load -q -i "$archive" >/dev/null || die "engine2: docker load of $archive failed"
  else
    log "engine2: loading ${images[*]} from the default engine (docker save | docker load)"
    docker save "${images[@]}" | engine2 load -q >/dev/null || die "engine2: docker save | docker load failed"
  fi
  [ "$(DOCKER_HOST="$url" image_label "${images[1]}" "$label")" = "$key" ] || die "engine2: the images did not load"
  for id in "${old[@]}"; do
    engine2 rmi "$id" >/dev/null 2>&1 || true  # the replaced ones, unless still in use
  done
  log "engine2: ${images[*]} loaded ($(elapsed "$start"))"
}

stop_engine() {
  local pid
  pid="$(engine_pid)"
  if [ -z "$pid" ]; then
    answers && log "engine2: an engine answers on $url but its pidfile $pidfile names no dockerd; not stopped"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "engine2: dockerd (pid $pid) did not stop within 30 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  log "engine2: stopped ($(elapsed "$start"))"
}

# Users: one file per live process id.
drop_stale_users() {
  local f
  for f in "$users"/*; do
    [ -e "$f" ] || continue
    kill -0 "$(basename "$f")" 2>/dev/null || rm -f "$f"
  done
}
lock() {
  mkdir -p "$users"
  exec 9>"$run_dir/lock"
  flock 9
}
check_pid() { [[ "${1:-}" =~ ^[0-9]+$ ]] || die "engine2: $2 needs a process id (got '${1:-}')"; }

case "${1:-}" in
  acquire)
    check_pid "${2:-}" acquire
    lock
    drop_stale_users
    start_engine
    ensure_images
    : >"$users/$2"
    echo "$url"
    ;;
  release)
    check_pid "${2:-}" release
    lock
    rm -f "$users/$2"
    drop_stale_users
    left="$(find "$users" -mindepth 1 -maxdepth 1 -printf '%f ')"
    if [ -z "$left" ]; then
      stop_engine
    else
      log "engine2: still used by process(es) $left"
    fi
    ;;
  start)
    lock
    start_engine
    ensure_images
    echo "$url"
    ;;
  stop)
    lock
    stop_engine
    ;;
  *)
    die "usage: second-engine.sh acquire PID | release PID | start | stop"
    ;;
esac
