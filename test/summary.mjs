// Prints the closing line CI reads ("N passed, N failed", skipped only when any) from jest's JSON
// and, when given, the chaos suite's results (each chaos case counts as one test).
import { readFileSync } from 'node:fs';

const [jestFile, chaosFile] = process.argv.slice(2);
const read = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.log(`tests: no results in ${file} (${err.message})`);
    return undefined;
  }
};
let passed = 0;
let failed = 0;
let skipped = 0;
const r = read(jestFile);
if (r) {
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) + (r.numTotalTests === 0 ? 1 : 0);
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
} else failed++;
if (chaosFile) {
  const c = read(chaosFile);
  if (!c) failed++;
  for (const k of c?.cases ?? []) {
    if (k.checks.length > 0 && k.checks.every((x) => x.ok)) passed++;
    else failed++;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
