#!/usr/bin/env bash
# promtool for the alert rules' tests (test/unit/monitoring.test.ts), into
# node_modules/.cache/promtool/promtool, taken from Debian's prometheus package without installing
# it: the package would add a user, enable prometheus.service (which the node suites' systemd,
# booted on this root, would then start) and start the server at once through its init script
# wherever no policy-rc.d forbids it. Only the one binary, which needs libc alone; `npm ci` wipes
# it with node_modules, and test/run.sh calls this again. Does nothing when promtool is there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=node_modules/.cache/promtool
[ -x "$dest/promtool" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt fetches as its _apt user, which must be able to write there.
chown _apt "$tmp" 2>/dev/null || true
download() { (cd "$tmp" && apt-get download -qq prometheus); }
# A machine that never ran `apt-get update` has no package lists to find it in.
download 2>/dev/null || { apt-get update -qq && download; }
dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tmp" ./usr/bin/promtool
mkdir -p "$dest"
mv "$tmp/usr/bin/promtool" "$dest/promtool"
echo "test: promtool from Debian's prometheus package in $dest ($("$dest/promtool" --version 2>&1 | head -n 1))"
