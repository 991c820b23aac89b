#!/usr/bin/env bash
# A local registry for the image tests: Debian's docker-registry on 127.0.0.1:5000 (plain http;
# the engine treats 127.0.0.0/8 as an insecure registry by default), holding
# envman-test-runtime:bookworm as 127.0.0.1:5000/envman/runtime:bookworm.
#   config   $ENVMAN_TEST_STATE/registry/config.yml (written here), storage next to it
#   log      /var/log/envman-test-registry.log (ENVMAN_TEST_REGISTRY_LOG)
# Started in the background like dockerd (no systemd). Fast paths: a registry answers on
# http://127.0.0.1:5000/v2/ -> not started again; the registry's manifest already points to the
# local image's config (same image ID) -> not pushed again.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/setup/lib.sh
. "$here/lib.sh"

start="$(now_s)"
addr=127.0.0.1:5000                            # tests/conftest.py REGISTRY
image=envman-test-runtime:bookworm             # tests/conftest.py RUNTIME_IMAGE
ref="$addr/envman/runtime:bookworm"            # tests/conftest.py REGISTRY_RUNTIME_REF
dir="$ENVMAN_TEST_STATE/registry"
log_file="${ENVMAN_TEST_REGISTRY_LOG:-/var/log/envman-test-registry.log}"

command -v docker-registry >/dev/null 2>&1 || die "registry: docker-registry not found (apt-get install docker-registry)"
command -v skopeo >/dev/null 2>&1 || die "registry: skopeo not found (apt-get install skopeo)"

# answers: the distribution API answers on $addr (no proxy: it is this machine).
answers() {
  python3 - "http://$addr/v2/" <<'PY'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1], timeout=5) as r:
        ok = r.status == 200 and r.headers.get("Docker-Distribution-Api-Version", "").startswith("registry/2")
except Exception:
    ok = False
sys.exit(0 if ok else 1)
PY
}

# config_digest: the config digest (the image ID) the registry's manifest of $ref points to;
# empty when the registry does not answer or lacks $ref. (skopeo: 30 ms, python's urllib: 200.)
config_digest() {
  skopeo inspect --tls-verify=false --raw "docker://$ref" 2>/dev/null \
    | grep -o '"config": *{[^}]*}' | grep -o 'sha256:[0-9a-f]*' || true
}

local_id="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
[ -n "$local_id" ] || die "registry: $image is missing; run tests/setup/runtime-images.sh first"

if [ "$(config_digest)" = "$local_id" ]; then
  log "registry: $addr answers and serves $ref ($(elapsed "$start"))"
  exit 0
fi

mkdir -p "$dir/storage"
exec 9>"$dir/registry.lock"
flock 9  # one start and one push at a time per machine

if ! answers; then
  cat >"$dir/config.yml" <<EOF
# Written by tests/setup/registry.sh
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $addr
  secret: envman-test-local-only
EOF
  mkdir -p "$(dirname "$log_file")"
  echo "=== $(date -u +%FT%TZ) docker-registry serve $dir/config.yml" >>"$log_file"
  log "registry: starting docker-registry on $addr (log: $log_file)"
  # Detached (setsid, every fd redirected, the lock's fd closed) so nobody waits on it.
  setsid docker-registry serve "$dir/config.yml" </dev/null >>"$log_file" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$dir/registry.pid"
  for _ in $(seq 60); do
    answers && break
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail "$log_file" 12
      die "registry: docker-registry exited during start-up (is $addr taken by something else?)"
    fi
    sleep 0.5
  done
  answers || die "registry: docker-registry (pid $pid) does not answer on http://$addr/v2/ after 30 s; see $log_file"
  log "registry: $addr answers (pid $pid, $(elapsed "$start"))"
fi

if [ "$(config_digest)" != "$local_id" ]; then
  log "registry: pushing $image to $ref (skopeo copy)"
  skopeo copy -q --dest-tls-verify=false "docker-daemon:$image" "docker://$ref" >&2 \
    || die "registry: skopeo copy docker-daemon:$image docker://$ref failed"
  [ "$(config_digest)" = "$local_id" ] || die "registry: $ref does not point to $image ($local_id) after the push"
  # A tag of an older runtime pulled from here (by the tests) would keep that image alive.
  pulled="$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)"
  if [ -n "$pulled" ] && [ "$pulled" != "$local_id" ]; then
    docker rmi "$ref" >/dev/null 2>&1 || true
  fi
fi
log "registry: $addr serves $ref ($(elapsed "$start"))"
