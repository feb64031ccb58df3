# Where install.sh puts things and uninstall.sh takes them away: sourced by both, so the two can
# never disagree. Set PROGRAM before sourcing (for messages).
PREFIX=/opt/phalanx-dns
BINDIR=/usr/local/bin
CONFDIR=/etc/phalanx-dns
UNITDIR=/etc/systemd/system
UNITS=(phalanx-dns.service phalanx-watchdog.service phalanx-watchdog.timer phalanx-genresolv.service phalanx-genresolv.timer)
TIMERS=(phalanx-watchdog.timer phalanx-genresolv.timer)
USER_NAME=phalanx-dns

say() { echo "$PROGRAM: $*"; }
die() {
  echo "$PROGRAM: $*" >&2
  exit 1
}
