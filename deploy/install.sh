#!/usr/bin/env bash
# Installs phalanx-dns on this node from a built checkout (npm ci && npm run build first):
#
#   /opt/phalanx-dns/                      the package: dist/, deploy/, production node_modules
#   /usr/local/bin/phalanx-dns, phalanx-watchdog, phalanx-genresolv
#   /etc/phalanx-dns/config.json           --config FILE, or the example when there is none yet
#   /etc/systemd/system/phalanx-*.service, phalanx-*.timer
#
# then creates the system user phalanx-dns and enables and (re)starts the agent and both timers.
# With only the example config nothing is started: its upstreams and masters are placeholders,
# and a node resolving through them would lose DNS. Edit it, then run install.sh again.
#
# Usage: deploy/install.sh [--config FILE] [--no-start]
#
# DESTDIR=DIR puts the files under DIR and leaves the running system alone (no user, no
# systemctl): for building packages, and for the tests.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
PROGRAM=install
# shellcheck source=deploy/layout.sh
source "$(dirname "$0")/layout.sh"

config=""
start=yes
while [ $# -gt 0 ]; do
  case $1 in
    --config)
      [ $# -ge 2 ] || die "--config needs a file"
      config=$2
      shift 2
      ;;
    --no-start)
      start=no
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument \"$1\" (usage: install.sh [--config FILE] [--no-start])" ;;
  esac
done

[ -n "$DESTDIR" ] || [ "$(id -u)" -eq 0 ] || die "run as root (or set DESTDIR=DIR to stage the files)"
command -v node >/dev/null 2>&1 || die "node is not installed; phalanx-dns needs Node.js 20 or later"
command -v npm >/dev/null 2>&1 || die "npm is not installed; it lists the production dependencies to copy"
for part in agent watchdog genresolv; do
  [ -f "$SRC/dist/$part/main.js" ] || die "$SRC/dist/$part/main.js is missing; build first: (cd $SRC && npm ci && npm run build)"
done

# The same validation the agent does at start, so a bad file is refused before anything changes.
check_config() {
  node --input-type=module -e '
    const { loadConfig } = await import(process.argv[1]);
    try { loadConfig(process.argv[2]); } catch (err) { console.error(err.message); process.exit(1); }
  ' "$SRC/dist/agent/config/load.js" "$1" || die "fix the config and run install.sh again"
}
[ -z "$config" ] || { [ -f "$config" ] || die "config file $config not found"; check_config "$config"; }

# The package, built beside the old one and swapped in.
dest=$DESTDIR$PREFIX
rm -rf "$dest.new"
mkdir -p "$dest.new/dist"
cp -a "$SRC/package.json" "$SRC/README.md" "$dest.new/"
cp -a "$SRC/dist/agent" "$SRC/dist/watchdog" "$SRC/dist/genresolv" "$dest.new/dist/"
cp -a "$SRC/deploy" "$dest.new/"
# Production dependencies only, copied from the checkout (no registry needed on the node).
deps=$(cd "$SRC" && npm ls --omit=dev --all --parseable 2>/dev/null || true)
while IFS= read -r dir; do
  case $dir in "$SRC"/node_modules/*) ;; *) continue ;; esac
  rel=${dir#"$SRC"/}
  [ -e "$dest.new/$rel" ] && continue # already copied inside its parent package
  mkdir -p "$dest.new/$(dirname "$rel")"
  cp -a "$dir" "$dest.new/$rel"
done <<<"$deps"
[ -d "$dest.new/node_modules/pino" ] || die "could not list the production dependencies (npm ls --omit=dev failed in $SRC); run npm ci there"
chmod 755 "$dest.new/dist/agent/main.js" "$dest.new/dist/watchdog/main.js" "$dest.new/dist/genresolv/main.js" "$dest.new/deploy/"*.sh
rm -rf "$dest.old"
[ ! -e "$dest" ] || mv "$dest" "$dest.old"
mv "$dest.new" "$dest"
rm -rf "$dest.old"
say "installed the package in $dest"

mkdir -p "$DESTDIR$BINDIR"
ln -sfn "$PREFIX/dist/agent/main.js" "$DESTDIR$BINDIR/phalanx-dns"
ln -sfn "$PREFIX/dist/watchdog/main.js" "$DESTDIR$BINDIR/phalanx-watchdog"
ln -sfn "$PREFIX/dist/genresolv/main.js" "$DESTDIR$BINDIR/phalanx-genresolv"

mkdir -p "$DESTDIR$CONFDIR"
target=$DESTDIR$CONFDIR/config.json
if [ -n "$config" ]; then
  [ ! -e "$target" ] || cp -a "$target" "$target.bak"
  install -m 0644 "$config" "$target"
  say "installed $config as $CONFDIR/config.json"
elif [ -e "$target" ]; then
  check_config "$target"
  say "kept the existing $CONFDIR/config.json"
else
  install -m 0644 "$SRC/deploy/config.example.json" "$target"
  say "installed the example config as $CONFDIR/config.json: set \"upstreams\" and \"mesos.masters\" for this cluster"
  start=no
fi

mkdir -p "$DESTDIR$UNITDIR"
for unit in "${UNITS[@]}"; do
  install -m 0644 "$SRC/deploy/systemd/$unit" "$DESTDIR$UNITDIR/$unit"
done
say "installed the systemd units in $UNITDIR"

if [ -n "$DESTDIR" ]; then
  say "staged under $DESTDIR; the running system was not changed"
  exit 0
fi

if ! getent passwd "$USER_NAME" >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$USER_NAME"
  say "created the system user $USER_NAME"
fi

if [ ! -d /run/systemd/system ]; then
  say "systemd is not running here; on the node run: systemctl daemon-reload && systemctl enable --now phalanx-dns.service ${TIMERS[*]}"
  exit 0
fi
systemctl daemon-reload
systemctl enable phalanx-dns.service "${TIMERS[@]}"
if [ "$start" = yes ]; then
  systemctl restart phalanx-dns.service
  systemctl start "${TIMERS[@]}"
  say "phalanx-dns is running; genresolv points resolv.conf at it within a minute (the original is kept as resolv.conf.orig)"
else
  say "enabled but not started; after editing $CONFDIR/config.json run: systemctl start phalanx-dns.service ${TIMERS[*]}"
fi
