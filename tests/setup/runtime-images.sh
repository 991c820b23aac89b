#!/usr/bin/env bash
# Build the two images envman's image tests build FROM, without pulling from any registry:
#   envman-test-runtime:bookworm  the test base rootfs (base-image.sh's cached tarball) plus
#       runtime-image-packages.txt (python3, python3-venv, r-base-core, a headless JRE),
#       installed by apt-get in a chroot on the host (the host's network), trimmed like the
#       base, then `docker import` (one layer)
#   envman-test-builder:bookworm  the runtime image plus builder-image-packages.txt (r-base-dev:
#       gcc, g++, gfortran, make, R headers) as one more layer: the .debs are fetched in the
#       same chroot with the same apt lists (so the same versions as the runtime's), installed
#       by `apt-get install --no-download` in a container without network, then `docker commit`
# Both images carry the labels org.envman.test-image.key=KEY and org.envman.test-image.role.
# KEY hashes this script (comments aside), both package lists and the base image's key.
# Cache: `docker save` of both images in $ENVMAN_TEST_STATE/images-bookworm-ARCH-KEY.tar.
# Fast paths: the engine has both images with the key -> nothing; the archive exists -> load.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/setup/lib.sh
. "$here/lib.sh"

start="$(now_s)"
base=envman-test-base:bookworm        # tests/conftest.py BASE_IMAGE
runtime=envman-test-runtime:bookworm  # tests/conftest.py RUNTIME_IMAGE
builder=envman-test-builder:bookworm  # tests/conftest.py BUILDER_IMAGE
suite=bookworm
label=org.envman.test-image.key
role=org.envman.test-image.role

mapfile -t runtime_pkgs < <(read_list "$here/runtime-image-packages.txt")
mapfile -t builder_pkgs < <(read_list "$here/builder-image-packages.txt")
if [ "${#runtime_pkgs[@]}" -eq 0 ] || [ "${#builder_pkgs[@]}" -eq 0 ]; then
  die "runtime images: empty package list (runtime-image-packages.txt, builder-image-packages.txt)"
fi

command -v docker >/dev/null 2>&1 || die "runtime images: docker client not found (apt-get install docker.io)"
base_key="$(image_label "$base" org.envman.test-base.key)"
[ -n "$base_key" ] || die "runtime images: the test base image $base is missing; run tests/setup/base-image.sh first"
arch="$(host_arch)"
# The key ignores comment lines, so editing the explanations does not rebuild the images.
key="$( { grep -v '^[[:space:]]*#' "${BASH_SOURCE[0]}"
          printf '%s\n' "$suite" "$arch" "$base_key" runtime: "${runtime_pkgs[@]}" builder: "${builder_pkgs[@]}"
        } | sha256sum | cut -c1-16)"
archive="$(images_archive "$key")"

up_to_date() {
  [ "$(image_label "$runtime" "$label")/$(image_label "$runtime" "$role")" = "$key/runtime" ] \
    && [ "$(image_label "$builder" "$label")/$(image_label "$builder" "$role")" = "$key/builder" ]
}

if up_to_date; then
  log "runtime images: $runtime and $builder up to date (key $key, $(elapsed "$start"))"
  exit 0
fi

mkdir -p "$ENVMAN_TEST_STATE"
exec 9>"$ENVMAN_TEST_STATE/runtime-images.lock"
flock 9  # one builder at a time per machine; the others then find the images or the archive
if up_to_date; then
  log "runtime images: built by another run meanwhile (key $key, $(elapsed "$start"))"
  exit 0
fi

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
old_runtime="$(image_id "$runtime")"
old_builder="$(image_id "$builder")"

# drop_replaced: remove the images the new ones replace (builder first: it may be a child of
# the runtime), unless containers or other images still use them.
drop_replaced() {
  if [ -n "$old_builder" ] && [ "$old_builder" != "$(image_id "$builder")" ]; then
    docker rmi "$old_builder" >/dev/null 2>&1 || true
  fi
  if [ -n "$old_runtime" ] && [ "$old_runtime" != "$(image_id "$runtime")" ]; then
    docker rmi "$old_runtime" >/dev/null 2>&1 || true
  fi
}

if [ -s "$archive" ]; then
  log "runtime images: loading $archive"
  docker load -q -i "$archive" >/dev/null \
    || { rm -f "$archive"; die "runtime images: docker load of $archive failed (archive removed; the next run rebuilds it)"; }
  up_to_date || { rm -f "$archive"; die "runtime images: $archive did not give both images with key $key (archive removed)"; }
  drop_replaced
  log "runtime images: $runtime and $builder ready ($(elapsed "$start"))"
  exit 0
fi

is_root || die "runtime images: building them needs root (chroot, mount)"
for tool in chroot mount tar; do
  command -v "$tool" >/dev/null 2>&1 || die "runtime images: $tool not found"
done

work="$(mktemp -d "$ENVMAN_TEST_STATE/build-images.XXXXXX")"
rootfs="$work/rootfs"
container="envman-test-images-build-$key-$$"
new_runtime=""
new_builder=""
finished=0
cleanup() {
  [ -d "$rootfs" ] && umount_under "$rootfs"   # never delete through a mount
  docker rm -f "$container" >/dev/null 2>&1 || true
  if [ "$finished" = 0 ]; then  # untagged leftovers of a failed build
    if [ -n "$new_builder" ]; then docker rmi "$new_builder" >/dev/null 2>&1 || true; fi
    if [ -n "$new_runtime" ]; then docker rmi "$new_runtime" >/dev/null 2>&1 || true; fi
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# What Debian's own images drop, and the base image too (relative to the root). The first three
# two are mounts in the builder container (its apt archives and lists), so it skips them.
trim=(var/cache/apt/archives/*.deb var/lib/apt/lists/* var/cache/apt/*.bin usr/share/doc/*
      usr/share/man/* usr/share/info/* usr/share/locale/* var/log/*.log var/log/apt/* tmp/* root/.cache)

# 1. The base rootfs: base-image.sh's cached tarball, else an export of the base image.
mkdir "$rootfs"
base_tar="$ENVMAN_TEST_STATE/base-$suite-$arch-$base_key.tar"
if [ -s "$base_tar" ]; then
  tar --numeric-owner -xpf "$base_tar" -C "$rootfs" || die "runtime images: cannot unpack $base_tar"
else
  log "runtime images: $base_tar is gone; exporting the rootfs of $base"
  cid="$(docker create "$base")"
  docker export "$cid" | tar --numeric-owner -xpf - -C "$rootfs" || { docker rm "$cid" >/dev/null; die "runtime images: docker export of $base failed"; }
  docker rm "$cid" >/dev/null
  rm -f "$rootfs/.dockerenv"
fi

# 2. apt-get in a chroot: the runtime packages installed, the builder packages only fetched.
mount -t proc proc "$rootfs/proc"
mount --bind /dev "$rootfs/dev"
cat /etc/resolv.conf >"$rootfs/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"   # no services start in a chroot
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
apt_opts=(-q -y -o APT::Install-Recommends=false -o Acquire::Languages=none -o Dpkg::Use-Pty=0
          -o Acquire::Check-Valid-Until=false)   # a snapshot mirror's Release files are "expired"
# The host's apt proxy, if it has one, serves the chroot too.
for scheme in http https; do
  proxy="$(apt-config dump 2>/dev/null | sed -n "s/^Acquire::$scheme::Proxy \"\(.*\)\";$/\1/p" | head -n1)"
  [ -n "$proxy" ] && apt_opts+=(-o "Acquire::$scheme::Proxy=$proxy")
done
env_keep=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
for var in http_proxy https_proxy no_proxy; do
  [ -n "${!var:-}" ] && env_keep+=("$var=${!var}")
done
in_root() { chroot "$rootfs" env -i "${env_keep[@]}" "$@"; }
apt_log="$work/apt.log"
apt_failed() { log_tail "$apt_log" 25; die "runtime images: $1 (mirror: $(grep -h '^deb ' "$rootfs/etc/apt/sources.list" 2>/dev/null | head -n1))"; }

log "runtime images: building $runtime (apt-get install ${runtime_pkgs[*]} in a chroot of the base rootfs; about a minute)"
in_root apt-get update "${apt_opts[@]}" >"$apt_log" 2>&1 || apt_failed "apt-get update in the chroot failed"
in_root apt-get install "${apt_opts[@]}" "${runtime_pkgs[@]}" >>"$apt_log" 2>&1 \
  || apt_failed "apt-get install ${runtime_pkgs[*]} failed"
in_root apt-get clean
in_root apt-get install --download-only "${apt_opts[@]}" "${builder_pkgs[@]}" >>"$apt_log" 2>&1 \
  || apt_failed "apt-get install --download-only ${builder_pkgs[*]} failed"
mkdir -p "$work/archives/partial"
find "$rootfs/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec mv -t "$work/archives/" {} +
mv "$rootfs/var/lib/apt/lists" "$work/lists"
mkdir -m 755 "$rootfs/var/lib/apt/lists"
umount_under "$rootfs"
rm -f "$rootfs/usr/sbin/policy-rc.d"

# 3. Trim as the base image is trimmed; docker import.
for path in "${trim[@]}"; do
  # shellcheck disable=SC2086  # the patterns are globs
  rm -rf "${rootfs:?}"/$path
done
: >"$rootfs/etc/resolv.conf"   # docker provides its own; do not ship the host's
echo envman-test >"$rootfs/etc/hostname"
tar --numeric-owner -C "$rootfs" -cf "$work/rootfs.tar" . || die "runtime images: tar of the rootfs failed"
rm -rf --one-file-system "$rootfs"
new_runtime="$(docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV LANG=C.UTF-8" \
  --change 'CMD ["bash"]' \
  --change "LABEL $label=$key $role=runtime" \
  "$work/rootfs.tar")" || die "runtime images: docker import failed"
rm -f "$work/rootfs.tar"

# 4. The builder layer: the fetched .debs installed offline in a container of the runtime image.
log "runtime images: building $builder (apt-get install --no-download ${builder_pkgs[*]} in a container)"
# Nothing is passed by `docker run -e`: docker commit would keep it in the image's environment.
install_script="set -e
export DEBIAN_FRONTEND=noninteractive
apt-get install -q -y -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0 --no-download \"\$@\"
cd / && rm -rf ${trim[*]:2}"
docker run --name "$container" --network none \
  -v "$work/lists:/var/lib/apt/lists:ro" -v "$work/archives:/var/cache/apt/archives" \
  "$new_runtime" sh -c "$install_script" sh "${builder_pkgs[@]}" >"$work/builder.log" 2>&1 \
  || { log_tail "$work/builder.log" 25; die "runtime images: installing ${builder_pkgs[*]} in a container failed"; }
new_builder="$(docker commit --message "apt-get install ${builder_pkgs[*]}" --change 'CMD ["bash"]' --change "LABEL $role=builder" "$container")" \
  || die "runtime images: docker commit failed"
docker rm "$container" >/dev/null

# 5. Tag both, cache them as one archive, drop what they replace.
docker tag "$new_runtime" "$runtime"
docker tag "$new_builder" "$builder"
up_to_date || die "runtime images: the new images lack the key $key"
finished=1
docker save -o "$work/images.tar" "$runtime" "$builder" || die "runtime images: docker save failed"
mv "$work/images.tar" "$archive"
find "$ENVMAN_TEST_STATE" -maxdepth 1 -name "images-$suite-$arch-*.tar" ! -name "$(basename "$archive")" -delete
drop_replaced
log "runtime images: $runtime ($(docker image inspect -f '{{.Size}}' "$runtime" | awk '{ printf "%d MB", $1 / 1e6 }')) and $builder ($(docker image inspect -f '{{.Size}}' "$builder" | awk '{ printf "%d MB", $1 / 1e6 }')) ready ($(elapsed "$start"))"
