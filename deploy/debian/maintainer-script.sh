#!/bin/sh
# Prints one maintainer script (postinst, prerm or postrm) ready to run: deploy/layout.sh is
# inlined where it says #LAYOUT#, since dpkg runs the scripts from its own directory, and a
# purge runs after the package's files are gone.
# Usage: deploy/debian/maintainer-script.sh NAME
set -eu
here=$(dirname "$0")
[ -f "$here/$1" ] || { echo "maintainer-script.sh: no maintainer script $1" >&2; exit 1; }
awk -v layout="$here/../layout.sh" '
  $0 == "#LAYOUT#" { while ((getline line < layout) > 0) print line; next }
  { print }
' "$here/$1"
