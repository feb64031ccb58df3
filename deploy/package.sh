#!/usr/bin/env bash
# npm run package: builds phalanx-dns_<version>_amd64.deb with Debian's own tools, from the tree
# stage.sh makes (the pinned Node.js runtime included, so Depends names no nodejs).
#
# Usage: deploy/package.sh [--version VERSION] [--output DIR] [--fast]
#   --version   the package version (default: package.json's)
#   --output    where the .deb goes (default: dist/deb)
#   --fast      gzip -1 instead of xz: for test builds, about 10 times quicker, twice the size
#
# Needs dpkg-dev (dpkg-shlibdeps) and binutils (strip): apt-get install dpkg-dev binutils.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PROGRAM=package
# shellcheck source=deploy/layout.sh
source "$SRC/deploy/layout.sh"

version=$(node -p 'require(process.argv[1]).version' "$SRC/package.json")
output=$SRC/dist/deb
compression=(-Zxz -z6)
while [ $# -gt 0 ]; do
  case $1 in
    --version)
      [ $# -ge 2 ] || die "--version needs a value"
      version=$2
      shift 2
      ;;
    --output)
      [ $# -ge 2 ] || die "--output needs a directory"
      output=$2
      shift 2
      ;;
    --fast)
      compression=(-Zgzip -z1)
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument \"$1\" (usage: deploy/package.sh [--version VERSION] [--output DIR] [--fast])" ;;
  esac
done
for tool in dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing; install dpkg-dev (apt-get install dpkg-dev binutils)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
"$SRC/deploy/stage.sh" "$root" --version "$version" >/dev/null

# The shared libraries the runtime links against, with the versions it needs, as Debian's own
# tool computes them (it reads debian/control, so give it a minimal one).
mkdir -p "$work/debian"
printf 'Source: phalanx-dns\n\nPackage: phalanx-dns\nArchitecture: amd64\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e"$root$RUNTIME" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no shared library dependencies for $root$RUNTIME"

mkdir -p "$root/DEBIAN"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: phalanx-dns
Version: $version
Architecture: amd64
Maintainer: phalanx-dns engineers <phalanx-dns@example.org>
Installed-Size: $installed_size
Depends: $shlibs, iproute2, procps, systemd, passwd
Section: net
Priority: optional
Description: per-node DNS resolver agent for Apache Mesos clusters
 Every node runs one agent and lists it as its only nameserver. It answers
 ready.spartan and zk-1.zk to zk-5.zk itself, forwards names under the Mesos
 domain to the Mesos-DNS servers on the masters and every other name to the
 upstream resolvers, the best server first and the next only when the first
 is late or fails, with a cache, serve-stale, a client ACL, rate limits, an
 HTTP API and Prometheus metrics. A watchdog restarts it when it hangs, and
 phalanx-genresolv points resolv.conf at the upstreams while it does not
 answer. It carries its own Node.js runtime.
CONTROL
echo "$CONFIG" >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "$root$PREFIX/maintainer/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f ! -path "./etc/*" -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$output"
deb=$output/phalanx-dns_${version}_amd64.deb
dpkg-deb --root-owner-group "${compression[@]}" --build "$root" "$deb" >/dev/null
say "built $deb ($(du -h "$deb" | cut -f1))"
