# envman's question to apt, run with sh in a throwaway container of image.base (see resolve.py).
# /envman/options: apt -o options, one a line (proxy, CA); /envman/jobs/N/: `relations` (one
# Debian relation a line), `preferences` (an apt_preferences file), `fallback` (present: run
# only when the job before failed). Answers on stdout between @@ markers; nothing is installed.
set -u
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
set --
while IFS= read -r option; do
  [ -n "$option" ] && set -- "$@" -o "$option"
done < /envman/options
# one envman at a time per lists volume, across machines' caches and engines' clients
if command -v flock >/dev/null 2>&1; then
  exec 9>/var/lib/apt/lists/envman.lock
  flock -w 600 9 || { echo "envman: the apt lists stayed locked by another envman" >&2; exit 11; }
fi
echo "@@arch"
dpkg --print-architecture
if [ -e /envman/offline ]; then
  echo "@@update 0"
else
  apt-get update -q "$@" > /tmp/envman-update.log 2>&1
  echo "@@update $?"
  tail -n 30 /tmp/envman-update.log
fi
echo "@@releases"
for f in /var/lib/apt/lists/*Release; do
  [ -f "$f" ] || continue
  printf '%s\t%s\n' "${f##*/}" "$(sed -n 's/^Date: *//p' "$f" | head -n 1)"
done
echo "@@base"
dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n' 2>/dev/null
last=0
for job in /envman/jobs/*; do
  if [ -e "$job/fallback" ] && [ "$last" = 0 ]; then
    continue
  fi
  rm -f /etc/apt/preferences.d/envman
  [ -f "$job/preferences" ] && cp "$job/preferences" /etc/apt/preferences.d/envman
  # apt installs a package's candidate only: for `name (op version)` make the newest version
  # that satisfies it the candidate (dpkg compares), unless the job pins the name already
  while IFS= read -r rel; do
    case "$rel" in *"("*) ;; *) continue ;; esac
    name="${rel%% *}"; name="${name%%:*}"
    spec="${rel#*(}"; spec="${spec%)*}"; op="${spec%% *}"; want="${spec#* }"
    grep -qx "Package: $name" /etc/apt/preferences.d/envman 2>/dev/null && continue
    for v in $(apt-cache madison "$name" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}'); do
      if dpkg --compare-versions "$v" "$op" "$want"; then
        printf 'Package: %s\nPin: version %s\nPin-Priority: 1001\n\n' "$name" "$v" >> /etc/apt/preferences.d/envman
        break
      fi
    done
  done < "$job/relations"
  relations=""
  while IFS= read -r rel; do
    [ -n "$rel" ] && relations="${relations:+$relations, }$rel"
  done < "$job/relations"
  echo "@@job ${job##*/}"
  apt-get satisfy -s -q --no-install-recommends "$@" "$relations" > /tmp/envman-sim.log 2>&1
  last=$?
  echo "@@simulate $last"
  cat /tmp/envman-sim.log
  if [ "$last" != 0 ]; then
    echo "@@unknown"
    while IFS= read -r rel; do
      name="${rel%% *}"; name="${name%%=*}"
      out="$(apt-cache showpkg "$name" 2>/dev/null)"
      if [ -z "$out" ] || ! printf '%s\n' "$out" | grep -q '^Package:'; then
        echo "$name"
      elif printf '%s\n' "$out" | awk '/^Versions:/{v=1;next} /^Reverse Depends:/{v=0} v&&NF{found=1} /^Reverse Provides:/{p=1;next} p&&NF{found=1} END{exit found?0:1}'; then
        :
      else
        echo "$name"
      fi
    done < "$job/relations"
    continue
  fi
  wanted="$(sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) .*/\1=\3/p' /tmp/envman-sim.log)"
  echo "@@show"
  # shellcheck disable=SC2086  # one word per package
  [ -n "$wanted" ] && apt-cache show $wanted 2>&1
  echo "@@madison"
  names="$(printf '%s\n' "$wanted" | sed 's/=.*//' | sort -u)"
  # shellcheck disable=SC2086
  [ -n "$names" ] && apt-cache madison $names 2>&1
done
echo "@@end"
