#!/usr/bin/env bash
# Removes what install.sh installed, with the package's own maintainer scripts: prerm gives the
# node back the resolv.conf it had before the agent stops (and refuses, changing nothing, when it
# cannot), then the files go, then postrm. Where phalanx-dns came as a package, use dpkg -r
# (or dpkg --purge) instead.
#
# Usage: deploy/uninstall.sh [--purge]
#   --purge   also remove /etc/phalanx-dns and the phalanx-dns user
#
# DESTDIR=DIR works on files staged under DIR (see install.sh) and leaves the running system
# alone; resolv.conf is then DIR/etc/resolv.conf.
set -euo pipefail

DESTDIR=${DESTDIR:-}
PROGRAM=uninstall
# shellcheck source=deploy/layout.sh
source "$(dirname "$0")/layout.sh"

purge=no
case ${1:-} in
  "") ;;
  --purge) purge=yes ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument \"$1\" (usage: uninstall.sh [--purge])" ;;
esac
[ -n "$DESTDIR" ] || [ "$(id -u)" -eq 0 ] || die "run as root (or set DESTDIR=DIR for staged files)"
[ -d "$DESTDIR$PREFIX" ] || [ "$purge" = yes ] || die "phalanx-dns is not installed here ($DESTDIR$PREFIX does not exist)"

# Exactly what install.sh installed: the files it listed, then $PREFIX whole.
remove_files() {
  local manifest=$DESTDIR$PREFIX/installed-files path
  [ -f "$manifest" ] || die "$manifest is missing, so what install.sh installed is unknown; nothing was removed"
  while IFS= read -r path; do
    rm -f "$DESTDIR$path"
  done <"$manifest"
  rm -rf "$DESTDIR$PREFIX"
  rmdir "$DESTDIR$DOCDIR/docs" "$DESTDIR$DOCDIR" 2>/dev/null || true
  rmdir "$DESTDIR$SHAREDIR/prometheus" "$DESTDIR$SHAREDIR/grafana" "$DESTDIR$SHAREDIR" 2>/dev/null || true
}

if [ -n "$DESTDIR" ]; then
  if [ -d "$DESTDIR$PREFIX" ]; then
    if [ -f "$DESTDIR$CONFIG" ]; then
      "$DESTDIR$RUNTIME" "$DESTDIR$PREFIX/dist/genresolv/main.js" --config "$DESTDIR$CONFIG" --restore --output "$DESTDIR/etc/resolv.conf" ||
        die "resolv.conf was not restored (see the message above); nothing was removed"
    fi
    remove_files
    say "removed the staged files under $DESTDIR"
  fi
  if [ "$purge" = yes ]; then rm -rf "$DESTDIR$CONFDIR"; else say "kept $CONFDIR (uninstall.sh --purge removes it)"; fi
  exit 0
fi

# The scripts are part of what is removed: run copies.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -d "$PREFIX" ]; then
  cp "$PREFIX/maintainer/prerm" "$PREFIX/maintainer/postrm" "$work/"
  "$work/prerm" remove
  remove_files
  "$work/postrm" remove
  say "removed phalanx-dns, its commands and its units"
fi
if [ "$purge" = yes ]; then
  # Removed earlier without --purge: the checkout's own postrm does the rest.
  [ -f "$work/postrm" ] || "$(dirname "$0")/debian/maintainer-script.sh" postrm >"$work/postrm"
  sh "$work/postrm" purge
  say "removed $CONFDIR and the user $USER_NAME"
else
  say "kept $CONFDIR (uninstall.sh --purge removes it)"
fi
