// Prints the closing line CI reads ("N passed, N failed", skipped only when any) from jest's JSON.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let r;
try {
  r = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`tests: no results in ${file} (${err.message})`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
const failedSuites = r.numRuntimeErrorTestSuites ?? 0;
const failed = r.numFailedTests + failedSuites;
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || r.numTotalTests === 0 ? 1 : 0);
