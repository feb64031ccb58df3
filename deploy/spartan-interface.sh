#!/bin/sh
# The interface that holds the agent's addresses: `up` creates it, `down` removes it.
#
#   spartan-interface.sh up     create "spartan", add 198.51.100.1-3/32 and fd01:d::c633:6401/128, bring it up
#   spartan-interface.sh down   remove it (and with it the addresses)
#
# Both are idempotent: what already exists (or is already gone) counts as success, so systemd can
# run `up` before every start of the agent (ExecStartPre). Set SPARTAN_INTERFACE and
# SPARTAN_ADDRESSES (space-separated, IPv4 and IPv6) to change the defaults.
#
# Where the node has no IPv6 (ipv6.disable=1, or disable_ipv6 set for the interface), IPv6
# addresses are left out with a message instead of failing: the node must keep its IPv4 resolver.
#
# A dummy interface, or a bridge with no ports where the kernel is built without the dummy driver:
# either holds local /32 addresses.
set -eu

IFACE=${SPARTAN_INTERFACE:-spartan}
ADDRESSES=${SPARTAN_ADDRESSES:-198.51.100.1 198.51.100.2 198.51.100.3 fd01:d::c633:6401}
PROG=$(basename "$0")

say() { echo "$PROG: $*"; }
die() { echo "$PROG: $*" >&2; exit 1; }

command -v ip >/dev/null 2>&1 || die "the ip command is missing; install iproute2"

exists() { ip link show dev "$IFACE" >/dev/null 2>&1; }

# Why the interface cannot take an IPv6 address; nothing when it can. Writing
# net.ipv6.conf.all.disable_ipv6 sets it on every interface, so the interface's own value is the one to read.
no_ipv6() {
  if [ ! -e /proc/net/if_inet6 ]; then
    echo "this kernel has no IPv6 (booted with ipv6.disable=1?)"
  elif [ "$(cat "/proc/sys/net/ipv6/conf/$IFACE/disable_ipv6" 2>/dev/null)" = 1 ]; then
    echo "IPv6 is disabled on $IFACE (net.ipv6.conf.$IFACE.disable_ipv6 = 1)"
  fi
}

# `ip link add` that treats "File exists" (created meanwhile by someone else) as success.
add_link() {
  if out=$(ip link add "$IFACE" type "$1" 2>&1); then return 0; fi
  case $out in *"File exists"*) return 0 ;; esac
  echo "$out"
  return 1
}

up() {
  if exists; then
    say "$IFACE already exists"
  elif dummy_err=$(add_link dummy); then
    say "created $IFACE (dummy)"
  elif bridge_err=$(add_link bridge); then
    say "created $IFACE (bridge: this kernel has no dummy driver: $dummy_err)"
  else
    die "cannot create $IFACE: as dummy: $dummy_err; as bridge: $bridge_err. Run as root (CAP_NET_ADMIN)"
  fi
  added=
  for addr in $ADDRESSES; do
    case $addr in
      */*) cidr=$addr ;;
      *:*) cidr=$addr/128 ;;
      *) cidr=$addr/32 ;;
    esac
    case $cidr in
      *:*)
        why=$(no_ipv6)
        if [ -n "$why" ]; then
          say "leaving out $cidr: $why"
          continue
        fi
        ;;
    esac
    # IPv6: no duplicate address detection, which never completes on a link without carrier
    # (a bridge without ports) and would leave the address "tentative", unusable for bind().
    case $cidr in
      *:*) set -- nodad ;;
      *) set -- ;;
    esac
    # "replace" adds the address or leaves it as it is: no "File exists" on a second run.
    ip address replace "$cidr" dev "$IFACE" "$@" || die "cannot add $cidr to $IFACE"
    added="$added${added:+ }$addr"
  done
  ip link set dev "$IFACE" up || die "cannot bring $IFACE up"
  say "$IFACE is up with $added"
}

down() {
  if exists; then
    ip link del dev "$IFACE" || die "cannot remove $IFACE"
    say "removed $IFACE"
  else
    say "$IFACE does not exist; nothing to remove"
  fi
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) die "usage: $PROG up|down" ;;
esac
