#!/usr/bin/env bash
# Removes phalanx-dns from this node and gives it back the resolv.conf it had before.
#
# Order matters: the timers stop first (so genresolv cannot rewrite resolv.conf), then the saved
# original goes back (phalanx-genresolv --restore), and only then the agent stops. If resolv.conf
# cannot be restored, it stops there and leaves the agent running, so the node keeps its DNS.
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

systemd=no
[ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && systemd=yes

if [ "$systemd" = yes ]; then
  systemctl disable --now "${TIMERS[@]}" 2>/dev/null || true
fi

genresolv=$DESTDIR$PREFIX/dist/genresolv/main.js
config=$DESTDIR$CONFDIR/config.json
if [ -f "$genresolv" ] && [ -f "$config" ]; then
  args=(--config "$config" --restore)
  [ -z "$DESTDIR" ] || args+=(--output "$DESTDIR/etc/resolv.conf")
  node "$genresolv" "${args[@]}" ||
    die "resolv.conf was not restored (see the message above); phalanx-dns is left running so the node keeps DNS. Fix resolv.conf by hand, then run uninstall.sh again"
else
  say "phalanx-genresolv or its config is gone; check that resolv.conf does not list 198.51.100.x before the agent stops"
fi

if [ "$systemd" = yes ]; then
  systemctl disable --now phalanx-dns.service 2>/dev/null || true
fi
if [ -z "$DESTDIR" ] && [ -x "$PREFIX/deploy/spartan-interface.sh" ]; then
  "$PREFIX/deploy/spartan-interface.sh" down
fi

for unit in "${UNITS[@]}"; do
  rm -f "$DESTDIR$UNITDIR/$unit"
done
[ "$systemd" = no ] || systemctl daemon-reload
rm -f "$DESTDIR$BINDIR/phalanx-dns" "$DESTDIR$BINDIR/phalanx-watchdog" "$DESTDIR$BINDIR/phalanx-genresolv"
rm -rf "$DESTDIR$PREFIX"
say "removed the package, the commands and the systemd units"

if [ "$purge" = yes ]; then
  rm -rf "$DESTDIR$CONFDIR"
  if [ -z "$DESTDIR" ] && getent passwd "$USER_NAME" >/dev/null; then
    userdel "$USER_NAME" || say "could not remove the user $USER_NAME"
  fi
  say "removed $CONFDIR"
else
  say "kept $CONFDIR (uninstall.sh --purge removes it)"
fi
