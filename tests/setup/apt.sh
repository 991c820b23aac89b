#!/usr/bin/env bash
# Install the Debian packages listed in apt-packages.txt that dpkg does not have yet.
# Fast path: when every package is installed, no apt command runs at all.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/setup/lib.sh
. "$here/lib.sh"

start="$(now_s)"
list="${1:-$here/apt-packages.txt}"
mapfile -t wanted < <(read_list "$list")

command -v dpkg-query >/dev/null 2>&1 \
  || die "dpkg-query not found: the test setup expects Debian 12 (bookworm). Needed packages: ${wanted[*]}"

missing=()
for pkg in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = installed ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  log "apt: all ${#wanted[@]} packages already installed ($(elapsed "$start"))"
  exit 0
fi

is_root || die "apt: missing packages (${missing[*]}); run as root, or install them: apt-get install ${missing[*]}"
log "apt: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
apt-get update -q >&2 || die "apt-get update failed (is a Debian mirror reachable?)"
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
  || die "apt-get install failed for: ${missing[*]}"
log "apt: installed ${#missing[@]} packages ($(elapsed "$start"))"
