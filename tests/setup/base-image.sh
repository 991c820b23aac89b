#!/usr/bin/env bash
# Build the test base image envman-test-base:bookworm without pulling from any registry:
#   debootstrap --variant=minbase bookworm DIR MIRROR   (+ base-image-packages.txt)
#   trim docs, man pages, locales, apt lists and .debs
#   tar -C DIR -c . | docker import - envman-test-base:bookworm
# The rootfs tarball is cached under $ENVMAN_TEST_STATE (default /var/cache/envman-test),
# keyed by a hash of this script (comments aside) and the package list, so debootstrap runs once per machine.
# Fast paths: the image exists with the same key label -> nothing; the tarball exists -> import.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/setup/lib.sh
. "$here/lib.sh"

start="$(now_s)"
image=envman-test-base:bookworm   # tests/conftest.py BASE_IMAGE
suite=bookworm
pkg_file="$here/base-image-packages.txt"
label=org.envman.test-base.key

mapfile -t pkgs < <(read_list "$pkg_file")
arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"
# The key ignores comment lines, so editing the explanations does not rebuild the image.
key="$( { grep -v '^[[:space:]]*#' "${BASH_SOURCE[0]}"; printf '%s\n' "$suite" "$arch" "${pkgs[@]}"; } | sha256sum | cut -c1-16)"
tarball="$ENVMAN_TEST_STATE/base-$suite-$arch-$key.tar"

have="$(docker image inspect -f "{{ index .Config.Labels \"$label\" }}" "$image" 2>/dev/null || true)"
if [ "$have" = "$key" ]; then
  log "base image: $image up to date (key $key, $(elapsed "$start"))"
  exit 0
fi

mkdir -p "$ENVMAN_TEST_STATE"
exec 9>"$ENVMAN_TEST_STATE/base-image.lock"
flock 9  # one builder at a time per machine; the others then find the tarball

import_tarball() {
  log "base image: importing $tarball"
  local old
  old="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
  docker import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" \
    --change 'CMD ["bash"]' \
    --change "LABEL $label=$key" \
    "$tarball" "$image" >/dev/null \
    || { rm -f "$tarball"; die "base image: docker import of $tarball failed (tarball removed; the next run rebuilds it)"; }
  # The image this one replaces, unless containers still use it.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
  log "base image: $image ready ($(du -h "$tarball" | cut -f1) rootfs, $(elapsed "$start"))"
}

if [ -s "$tarball" ]; then
  import_tarball
  exit 0
fi

is_root || die "base image: debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || die "base image: debootstrap not found (apt-get install debootstrap)"
mirror="${ENVMAN_TEST_MIRROR:-$(python3 "$here/apt_mirror.py" "$suite")}"
include="$(IFS=,; echo "${pkgs[*]}")"

work="$(mktemp -d "$ENVMAN_TEST_STATE/build.XXXXXX")"
rootfs="$work/rootfs"
cleanup() {
  # debootstrap mounts proc/sys inside the target; never delete through a mount.
  if [ -d "$rootfs" ]; then
    awk -v r="$rootfs" '$2 ~ "^"r"/" { print $2 }' /proc/mounts | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

log "base image: debootstrap --variant=minbase --include=$include $suite from $mirror (about a minute)"
if ! debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" | sed 's/^/    /' >&2
  [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 20 "$rootfs/debootstrap/debootstrap.log" | sed 's/^/    /' >&2
  die "base image: debootstrap failed (mirror $mirror; set ENVMAN_TEST_MIRROR to use another)"
fi

# Keep the image small, as Debian's own images do.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
       "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
       "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log \
       "$rootfs"/tmp/* "$rootfs"/root/.cache
: >"$rootfs/etc/resolv.conf"   # docker provides its own; do not ship the host's
echo envman-test >"$rootfs/etc/hostname"

tar --numeric-owner -C "$rootfs" -cf "$work/rootfs.tar" . || die "base image: tar of the rootfs failed"
mv "$work/rootfs.tar" "$tarball"
# Drop tarballs of older keys.
find "$ENVMAN_TEST_STATE" -maxdepth 1 -name "base-$suite-$arch-*.tar" ! -name "$(basename "$tarball")" -delete
import_tarball
