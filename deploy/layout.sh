# Where phalanx-dns lives on a node. Sourced by the package build (package.sh), install.sh,
# uninstall.sh and the maintainer scripts (the build inlines it at #LAYOUT#), so none of them
# can disagree. Set PROGRAM before sourcing (for messages).
PREFIX=/usr/lib/phalanx-dns
# The Node.js runtime the package carries: the commands run on it, whatever node the node has.
RUNTIME=$PREFIX/runtime/bin/node
BINDIR=/usr/bin
CONFDIR=/etc/phalanx-dns
CONFIG=$CONFDIR/config.json
# The example, kept beside the code: a config equal to it is a placeholder, and nothing starts.
EXAMPLE_CONFIG=$PREFIX/deploy/config.example.json
UNITDIR=/lib/systemd/system
DOCDIR=/usr/share/doc/phalanx-dns
# The alert rules and the dashboard, for the monitoring hosts to copy: data, not docs (FHS
# /usr/share), so they stay when dpkg is told to leave out /usr/share/doc.
SHAREDIR=/usr/share/phalanx-dns
MANDIR=/usr/share/man/man8
COMMANDS="phalanx-dns phalanx-watchdog phalanx-genresolv"
UNITS="phalanx-dns.socket phalanx-dns.service phalanx-watchdog.service phalanx-watchdog.timer phalanx-genresolv.service phalanx-genresolv.timer"
TIMERS="phalanx-watchdog.timer phalanx-genresolv.timer"
USER_NAME=phalanx-dns

say() { echo "$PROGRAM: $*"; }
die() {
  echo "$PROGRAM: $*" >&2
  exit 1
}
