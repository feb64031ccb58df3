#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine too: installs what the tests need when it
# is missing (Debian packages, node modules), builds, type-checks, runs jest, and ends with the
# line CI reads: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dig >/dev/null 2>&1 || need+=(dnsutils)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "test: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -x node_modules/.bin/jest ]; then
  echo "test: installing node modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

npm run --silent build
npm run --silent typecheck

mkdir -p test-results
status=0
node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js \
  --json --outputFile=test-results/jest.json "$@" || status=$?
node test/summary.mjs test-results/jest.json || status=1
exit $status
