// `npm run chaos`: proves the agent keeps answering correctly under faults and hostile input
// (docs/chaos.md), all on loopback, in under five minutes.
//
// One run starts five NSD servers (the bench's masters and upstreams, test/harness/servers.ts) and,
// per case, a fresh agent process on 127.0.0.1, pinned to a CPU of its own; this driver, the
// servers, dnsperf and dig share the other. The cases (cases/*.ts) each send a bounded load,
// check what comes back, and assert; the run prints one summary table plus each case's details,
// writes test-results/chaos.json, and exits 1 if any assertion failed.
//
// Every loop is bounded in count and time, and a backstop stops the whole run after
// BACKSTOP_MS whatever it is doing. CHAOS_SEED replays the fuzz case's packets; CHAOS_CASES
// (e.g. "1,4") runs only some cases (and writes no results file).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { aborted, cleanup, installSignalHandlers, onCleanup } from '../harness/cleanup.js';
import { startServers } from '../harness/servers.js';
import { allowedCpus, ensureTools, machineInfo, pin, toolVersions } from '../harness/system.js';
import { faultsCase } from './cases/faults.js';
import { floodCase } from './cases/flood.js';
import { fuzzCase } from './cases/fuzz.js';
import { propertiesCase } from './cases/properties.js';
import { spoofCase } from './cases/spoof.js';
import { tcpAbuseCase } from './cases/tcp-abuse.js';
import { tcpHoardCase } from './cases/tcp-hoard.js';
import type { ChaosCase, ChaosContext } from './context.js';
import { type CaseResult, caseText, newCase, passed, summaryTable, writeResults } from './report.js';
import { BACKSTOP_MS, RESULTS_JSON, SEED } from './settings.js';

const CASES: ChaosCase[] = [fuzzCase, propertiesCase, spoofCase, floodCase, tcpAbuseCase, faultsCase, tcpHoardCase];
const ONLY = (process.env.CHAOS_CASES ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

installSignalHandlers('chaos');

async function main(): Promise<boolean> {
  const runStarted = performance.now();
  const tools = ensureTools();
  const machine = machineInfo(toolVersions(tools));
  const cpus = allowedCpus(tools.taskset);
  // Children inherit the driver's CPU (NSD, dnsperf, dig); each agent is moved to its own.
  if (cpus.length >= 2) pin(tools.taskset, process.pid, cpus[1]);
  const pinning = cpus.length >= 2 ? { taskset: tools.taskset, cpu: cpus[0] } : undefined;
  const dir = mkdtempSync(join(os.tmpdir(), 'phalanx-chaos-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const servers = await startServers(tools.nsd, dir);
  const ctx: ChaosContext = { tools, servers, pinning, dir };

  console.log(`phalanx-dns chaos suite: seed ${SEED}, backstop ${BACKSTOP_MS / 1000} s`);
  console.log(
    `machine: ${machine.nproc} CPUs (${machine.cpu}), Linux ${machine.kernel}, node ${machine.node}, dnsperf ${machine.dnsperf}, nsd ${machine.nsd}, ${machine.date}`,
  );
  console.log(
    `pinning: ${pinning ? `the agent on CPU ${cpus[0]}; this driver, nsd, dnsperf and dig on CPU ${cpus[1]}` : 'none (needs taskset and 2 CPUs)'}\n`,
  );

  const chosen = ONLY.length ? CASES.filter((k) => ONLY.includes(k.n) || ONLY.includes(k.id)) : CASES;
  const results: CaseResult[] = [];
  for (const k of chosen) {
    const c = newCase(k.n, k.id, k.title);
    results.push(c);
    console.log(`running ${k.n} ${k.title} ...`);
    const t0 = performance.now();
    try {
      await k.run(ctx, c);
    } catch (err) {
      c.error = (err as Error).stack ?? String(err);
    }
    c.seconds = (performance.now() - t0) / 1000;
    if (aborted()) break;
    console.log(`${caseText(c)}\n`);
  }
  const ok = results.length === chosen.length && results.every(passed);
  const seconds = (performance.now() - runStarted) / 1000;
  console.log(`\n${summaryTable(results)}\n`);
  console.log(
    `${ok ? 'PASS' : 'FAIL'}: ${results.filter(passed).length} of ${chosen.length} cases passed in ${seconds.toFixed(0)} s (seed ${SEED})`,
  );
  if (!ONLY.length) {
    writeResults(RESULTS_JSON, { machine, seed: SEED, seconds, passed: ok, cases: results });
    console.log(`results: ${RESULTS_JSON}`);
  }
  return ok;
}

// The backstop: whatever hangs, the run ends, and everything it started is stopped.
const backstop = setTimeout(() => {
  console.error(`\nchaos: still running after ${BACKSTOP_MS / 1000} s; stopping everything it started`);
  setTimeout(() => process.exit(1), 15_000).unref(); // a cleanup step that hangs too
  void cleanup().finally(() => process.exit(1));
}, BACKSTOP_MS);
backstop.unref();

let exitCode = 1;
try {
  exitCode = (await main()) ? 0 : 1;
} catch (err) {
  if (!aborted()) console.error(`\nchaos run failed: ${(err as Error).stack ?? err}`);
} finally {
  await cleanup();
}
if (!aborted()) process.exit(exitCode);
