#!/usr/bin/env bash
# Installs phalanx-dns on a node without dpkg, from a built checkout (npm ci && npm run build):
# the same tree as the Debian package (deploy/stage.sh: the code, its runtime, the units, the
# man pages), then the package's own postinst, which creates the user and, with a real config,
# enables and starts the sockets, the agent and both timers. Where dpkg exists, install the
# package instead (npm run package).
#
#   --config FILE   install FILE as /etc/phalanx-dns/config.json (the old one is kept as .bak);
#                   without it an existing config is kept, or the placeholder example installed
#                   (with which nothing starts: edit it, then run install.sh again)
#
# Usage: deploy/install.sh [--config FILE]
#
# DESTDIR=DIR puts the files under DIR and leaves the running system alone (no user, no
# systemctl): for the tests.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
PROGRAM=install
# shellcheck source=deploy/layout.sh
source "$SRC/deploy/layout.sh"

config=""
while [ $# -gt 0 ]; do
  case $1 in
    --config)
      [ $# -ge 2 ] || die "--config needs a file"
      config=$2
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown argument \"$1\" (usage: install.sh [--config FILE])" ;;
  esac
done
[ -n "$DESTDIR" ] || [ "$(id -u)" -eq 0 ] || die "run as root (or set DESTDIR=DIR to stage the files)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/root
"$SRC/deploy/stage.sh" "$tree" >/dev/null

# The same validation the agent does at start, on the runtime it will run on, so a bad file is
# refused before anything changes.
check_config() {
  "$tree$RUNTIME" "$tree$PREFIX/dist/agent/main.js" --check-config --config "$1" >/dev/null ||
    die "fix the config and run install.sh again"
}
target=$DESTDIR$CONFIG
if [ -n "$config" ]; then
  [ -f "$config" ] || die "config file $config not found"
  check_config "$config"
  install -m 0644 "$config" "$tree$CONFIG"
  [ ! -e "$target" ] || cp -a "$target" "$target.bak"
  how="installed $config as $CONFIG"
elif [ -e "$target" ]; then
  check_config "$target"
  rm "$tree$CONFIG" # like a conffile: the node's own is kept
  how="kept the existing $CONFIG"
else
  how="installed the example config as $CONFIG: set \"upstreams\" and \"mesos.masters\" for this cluster"
fi

# What uninstall.sh removes: every file of the tree outside $PREFIX (which goes whole), the config
# aside (kept unless --purge).
(cd "$tree" && find . -path ".$PREFIX" -prune -o \( -type f -o -type l \) -print | sed 's#^\.##' | grep -vxF "$CONFIG" | sort) >"$tree$PREFIX/installed-files"

# The code, built beside the old one and swapped in, so a running agent never sees a mix.
dest=$DESTDIR$PREFIX
rm -rf "$dest.new" "$dest.old"
mkdir -p "$(dirname "$dest")"
mv "$tree$PREFIX" "$dest.new"
[ ! -e "$dest" ] || mv "$dest" "$dest.old"
mv "$dest.new" "$dest"
rm -rf "$dest.old"
# Everything else on top of what is there; /lib may be a link to /usr/lib, and the existing
# directories keep their owners and modes.
mkdir -p "$DESTDIR/"
tar -C "$tree" -cf - . | tar -C "$DESTDIR/" --keep-directory-symlink --no-overwrite-dir -xf -
say "installed phalanx-dns $("$dest/runtime/bin/node" -p 'require(process.argv[1]).version' "$dest/package.json") in $PREFIX, with the commands in $BINDIR and the units in $UNITDIR"
say "$how"

if [ -n "$DESTDIR" ]; then
  say "staged under $DESTDIR; the running system was not changed"
  exit 0
fi
"$PREFIX/maintainer/postinst" configure
