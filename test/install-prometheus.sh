#!/usr/bin/env bash
# promtool and prometheus for the alert rules' tests (test/unit/monitoring.test.ts runs promtool,
# test/integration/prometheus-alerts.test.ts a real server scraping a real agent), into
# node_modules/.cache/prometheus/, taken from Debian's prometheus package without installing it:
# the package would add a user, enable prometheus.service (which the node suites' systemd, booted
# on this root, would then start) and start the server at once through its init script wherever
# no policy-rc.d forbids it. Only the two binaries, which need libc alone; the tests start the
# server themselves, on 127.0.0.1 with their own storage. `npm ci` wipes them with node_modules,
# and test/run.sh calls this again. Does nothing when both are there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=node_modules/.cache/prometheus
binaries=(promtool prometheus)
missing=0
for b in "${binaries[@]}"; do [ -x "$dest/$b" ] || missing=1; done
[ $missing = 0 ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt fetches as its _apt user, which must be able to write there.
chown _apt "$tmp" 2>/dev/null || true
download() { (cd "$tmp" && apt-get download -qq prometheus); }
# A machine that never ran `apt-get update` has no package lists to find it in.
download 2>/dev/null || { apt-get update -qq && download; }
dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$tmp" "${binaries[@]/#/./usr/bin/}"
mkdir -p "$dest"
for b in "${binaries[@]}"; do
  mv "$tmp/usr/bin/$b" "$dest/$b"
  echo "test: $b from Debian's prometheus package in $dest ($("$dest/$b" --version 2>&1 | head -n 1))"
done
