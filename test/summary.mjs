// Prints the closing line CI reads ("N passed, N failed", skipped only when any) from the result
// files it is given: jest's JSON, and the chaos suite's (each chaos case counts as one test).
import { readFileSync } from 'node:fs';

// Each file is jest's --json output or the chaos suite's results (which have "cases");
// `--step NAME=passed|failed` adds a step that is not a test runner's (the lint) as one test.
const args = process.argv.slice(2);
const steps = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--step') steps.push(args[++i]);
  else files.push(args[i]);
}
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
for (const file of files) {
  const r = read(file);
  if (!r) {
    failed++;
  } else if (Array.isArray(r.cases)) {
    for (const k of r.cases) {
      if (k.checks.length > 0 && k.checks.every((x) => x.ok)) passed++;
      else failed++;
    }
  } else {
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) + (r.numTotalTests === 0 ? 1 : 0);
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
}
for (const step of steps) {
  if (step.endsWith('=passed')) passed++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
