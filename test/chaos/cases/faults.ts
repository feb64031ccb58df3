// Case 6, faults mid-load: a steady load of Mesos and upstream names, every reply checked, while
// masters die, hang and come back, all of them hang at once (serve-stale must answer before the
// client gives up, and say so to dig), all of them stop at once, the master
// list source disappears and returns, and a broken config is sent with SIGHUP and then fixed.
// NOERROR must carry exactly the right records throughout; SERVFAIL is correct only while nothing,
// not even serve-stale, can answer.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UPSTREAM_RECORDS, fakeMasterRecords, startMastersOnOnePort } from '../../helpers/cluster.js';
import { FakeDnsServer } from '../../../sim/fake-dns.js';
import { onCleanup, throwIfAborted } from '../../harness/cleanup.js';
import { type DigResult, dig } from '../../harness/dig.js';
import { sleep } from '../../helpers/time.js';
import { ChaosAgent } from '../agent.js';
import type { ChaosCase } from '../context.js';
import { type Expected, runLoad, tallyText } from '../load.js';
import { check, fmtInt } from '../report.js';
import { FAULTS_PHASE_SECONDS, FAULTS_QPS, FAULTS_TIMEOUT_MS, LOAD_REPLY_TIMEOUT_MS } from '../settings.js';

const MASTER_IPS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
/** 100 A records: past the masters' 512 bytes, within the client's 4096 (dns-packet does not compress names). */
const BIG_TASKS = 100;
const STALE_TTL = 30;
/** serveStale.clientTimeoutMs, the default: a stale answer must come this soon, well before FAULTS_TIMEOUT_MS. */
const CLIENT_TIMEOUT_MS = 400;
/** What a stale answer may take past the client-response timer (scheduling, the load's own CPU). */
const STALE_SLACK_MS = 300;

const bigAddresses = () => fakeMasterRecords(BIG_TASKS).flatMap((r) => (r.name === 'big.marathon.mesos' && r.type === 'A' ? [r.data] : []));

const NAMES: Expected[] = [
  { name: 'nginx.marathon.mesos', type: 'A', records: ['10.0.1.5', '10.0.1.6'], route: 'mesos' },
  { name: 'www.example.org', type: 'A', records: ['192.0.2.80'], route: 'upstream' },
  { name: 'nginx-a1b2c.marathon.mesos', type: 'A', records: ['10.0.1.5'], route: 'mesos' },
  { name: '_nginx._tcp.marathon.mesos', type: 'SRV', records: ['31001 nginx-a1b2c.marathon.mesos'], route: 'mesos' },
  { name: 'example.org', type: 'A', records: ['192.0.2.1'], route: 'upstream' },
  { name: 'leader.mesos', type: 'A', records: ['127.0.0.11'], route: 'mesos' },
  // Over 512 bytes: the agent's TCP retry to the masters, through every fault too.
  { name: 'big.marathon.mesos', type: 'A', records: bigAddresses(), route: 'mesos', ednsSize: 4096 },
];

interface Phase {
  name: string;
  /** What changes when the phase begins. */
  enter(): Promise<void> | void;
}

export const faultsCase: ChaosCase = {
  n: '6',
  id: 'faults',
  title: 'faults mid-load: masters, discovery, reload',
  async run(ctx, c) {
    const records = fakeMasterRecords(BIG_TASKS);
    const { port: mesosPort, masters } = await startMastersOnOnePort(MASTER_IPS, records);
    const upstreams = [
      await FakeDnsServer.start({ address: '127.0.0.21', zone: 'example.org', records: UPSTREAM_RECORDS, udpLimit: 'edns' }),
      await FakeDnsServer.start({ address: '127.0.0.22', zone: 'example.org', records: UPSTREAM_RECORDS, udpLimit: 'edns' }),
    ];
    const stopAll = () => Promise.all([...masters, ...upstreams].map((s) => s.stop()));
    onCleanup(stopAll);
    const listFile = join(ctx.dir, 'master_list');
    const writeList = (content: string) => {
      writeFileSync(`${listFile}.tmp`, content);
      renameSync(`${listFile}.tmp`, listFile);
    };
    writeList(JSON.stringify(MASTER_IPS));
    const startMaster = async (i: number) => {
      masters[i] = await FakeDnsServer.start({ address: MASTER_IPS[i], port: mesosPort, zone: 'mesos', records });
    };

    const agent = await ChaosAgent.start(
      {
        upstreams: upstreams.map((u) => u.endpoint),
        mesos: { masterListFile: listFile, port: mesosPort, refreshMs: 500, retryMs: 100 },
        timeoutMs: FAULTS_TIMEOUT_MS,
        health: { probeIntervalMs: 200 },
        // The defaults, written out: the answer cache on, serve-stale on with a 30 s TTL.
        cache: { enabled: true, mesosMaxTtlSec: 2 },
        serveStale: {
          enabled: true,
          maxEntries: 10_000,
          maxBytes: 16 * 1024 * 1024,
          maxStaleSec: 3600,
          ttlSec: STALE_TTL,
          clientTimeoutMs: CLIENT_TIMEOUT_MS,
        },
        log: { level: 'info' },
      },
      ctx.pinning,
    );
    try {
      await agent.proc.waitForLog((l) => /masters changed/.test(l.msg), 5000);
      const logsFrom = (i: number, re: RegExp) => agent.proc.logs.slice(i).filter((l) => re.test(l.msg));
      const marks: Record<string, number> = {};
      /** When every master was hung or stopped: a SERVFAIL then is correct for a name serve-stale does not have. */
      let allDown: { from: number; to: number } | undefined;
      /** dig's view while every master hangs: the EDE it prints. */
      let digWhileHung: Promise<DigResult> | undefined;

      const phases: Phase[] = [
        { name: 'healthy', enter: () => {} },
        { name: 'master 1 killed', enter: () => masters[0].stop() },
        { name: 'master 2 hung too', enter: () => masters[1].setBehaviour({ kind: 'silent' }) },
        {
          name: 'both revived',
          enter: async () => {
            await startMaster(0);
            masters[1].setBehaviour({ kind: 'answer' });
          },
        },
        {
          name: 'every master hung',
          enter: () => {
            allDown = { from: Date.now(), to: Infinity };
            for (const m of masters) m.setBehaviour({ kind: 'silent' });
            // Past the answer cache's 2 s, so the answer must come from the stale store.
            digWhileHung = sleep(2500).then(() =>
              dig(ctx.tools.dig, `${agent.host}:${agent.port}`, 'nginx.marathon.mesos', 'A', { timeoutS: 2, bufsize: 1232 }),
            );
          },
        },
        {
          name: 'every master stopped',
          enter: () => Promise.all(masters.map((m) => m.stop())),
        },
        {
          name: 'masters back',
          enter: async () => {
            for (let i = 0; i < masters.length; i++) await startMaster(i);
            allDown!.to = Date.now();
          },
        },
        {
          name: 'master list lost',
          enter: () => {
            marks.listLost = agent.proc.logs.length;
            rmSync(listFile);
          },
        },
        { name: 'master list back', enter: () => writeList(JSON.stringify(MASTER_IPS)) },
        {
          name: 'SIGHUP, broken config',
          enter: () => {
            marks.broken = agent.proc.logs.length;
            agent.proc.rewriteConfig('{"listen": ["127.0.0.1:53"], this is not JSON');
            agent.proc.signal('SIGHUP');
          },
        },
        {
          name: 'SIGHUP, config restored',
          enter: () => {
            marks.restored = agent.proc.logs.length;
            agent.proc.rewriteConfig(agent.config);
            agent.proc.signal('SIGHUP');
          },
        },
      ];

      let current = phases[0].name;
      const seconds = phases.length * FAULTS_PHASE_SECONDS;
      const load = runLoad({
        host: agent.host,
        port: agent.port,
        names: NAMES,
        qps: FAULTS_QPS,
        count: FAULTS_QPS * seconds,
        seconds: seconds + 2,
        replyTimeoutMs: LOAD_REPLY_TIMEOUT_MS,
        phase: () => current,
        staleTtl: STALE_TTL,
        servfailAllowed: (q, sentAt, answeredBefore) =>
          q.route === 'mesos' &&
          !answeredBefore &&
          allDown !== undefined &&
          sentAt >= allDown.from - FAULTS_TIMEOUT_MS &&
          sentAt <= allDown.to + 1000,
      });
      const t0 = Date.now();
      for (const [i, p] of phases.entries()) {
        throwIfAborted();
        await sleep(Math.max(0, t0 + i * FAULTS_PHASE_SECONDS * 1000 - Date.now()));
        await p.enter();
        current = p.name;
      }
      const result = await load;

      c.sent = result.sent;
      c.answered = result.answered;
      c.wrong = result.wrong;
      c.lost = result.lost;
      c.restarts = agent.restarts;
      c.peakRssKb = agent.peakRssKb();
      c.details.push(
        `${fmtInt(FAULTS_QPS)} q/s for ${seconds} s, ${NAMES.length} names (Mesos, upstream, and one answer over 512 bytes asked with EDNS 4096), every reply checked; per phase (${FAULTS_PHASE_SECONDS} s each):`,
      );
      for (const p of phases) {
        const t = result.byPhase[p.name];
        c.details.push(`  ${p.name.padEnd(24)} ${t ? tallyText(t) : 'no queries'}`);
      }
      for (const s of result.wrongSamples) c.details.push(`wrong: ${s}`);
      const staleWhileDown = result.byPhase['every master stopped']?.stale ?? 0;
      const hungTally = result.byPhase['every master hung'];
      const staleWhileHung = [...(hungTally?.staleMs ?? [])].sort((a, b) => a - b);
      const slowestStale = staleWhileHung.length ? staleWhileHung[staleWhileHung.length - 1] : null;
      const medianStale = staleWhileHung.length ? staleWhileHung[Math.floor(staleWhileHung.length / 2)] : null;
      const digHung = await digWhileHung;
      c.details.push(
        `every master hung: ${fmtInt(staleWhileHung.length)} stale answers, median ${medianStale ?? '-'} ms, slowest ${slowestStale ?? '-'} ms (serveStale.clientTimeoutMs ${CLIENT_TIMEOUT_MS}, timeoutMs ${FAULTS_TIMEOUT_MS}); dig: ${digHung?.rcode ?? 'no answer'} in ${digHung?.timeMs ?? '-'} ms, EDE ${digHung?.ede ?? 'none'}`,
      );
      const listLost = logsFrom(marks.listLost ?? 0, /master discovery failed/);
      const reloadFailed = logsFrom(marks.broken ?? 0, /config reload failed/);
      const reloaded = logsFrom(marks.restored ?? 0, /^config reloaded/);
      c.details.push(
        `agent log: ${listLost.length ? `"${listLost[0].msg}" (${String(listLost[0].err ?? '')})` : 'no discovery failure logged'}; ${reloadFailed.length ? `"${reloadFailed[0].msg}"` : 'no reload failure logged'}; ${reloaded.length ? '"config reloaded"' : 'no reload logged'}`,
      );

      check(
        c,
        result.sent >= FAULTS_QPS * seconds * 0.95,
        `the load ran through every phase (${fmtInt(FAULTS_QPS * seconds)} queries)`,
        fmtInt(result.sent),
      );
      check(
        c,
        result.wrong === 0,
        'every reply correct: exactly the records of the name; SERVFAIL only while nothing could answer',
        `${result.wrong} wrong (${
          Object.entries(result.wrongReasons)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        })`,
      );
      check(c, result.lost === 0, `every query answered within ${LOAD_REPLY_TIMEOUT_MS} ms`, `${result.lost} lost`);
      check(
        c,
        staleWhileDown > 0,
        'with every master stopped, names asked before are answered from serve-stale (TTL 30)',
        `${fmtInt(staleWhileDown)} stale answers`,
      );
      check(
        c,
        staleWhileHung.length > 0 && slowestStale !== null && slowestStale <= CLIENT_TIMEOUT_MS + STALE_SLACK_MS,
        `with every master hung, stale answers within serveStale.clientTimeoutMs (${CLIENT_TIMEOUT_MS} ms) + ${STALE_SLACK_MS} ms, before glibc's 1 s`,
        `${fmtInt(staleWhileHung.length)}, slowest ${slowestStale ?? '-'} ms`,
      );
      check(
        c,
        /^3 \(Stale Answer\): \((no answer yet|no usable answer) from mesos 127\.0\.0\.11:/.test(digHung?.ede ?? ''),
        'dig sees why: Extended DNS Error 3 (Stale Answer) naming the masters',
        digHung?.ede ?? 'no EDE',
      );
      check(
        c,
        listLost.length > 0,
        'the lost master list is noticed (and the masters kept: answers go on)',
        listLost.length ? 'logged' : 'not logged',
      );
      check(
        c,
        reloadFailed.length > 0 && reloaded.length > 0,
        'a broken config on SIGHUP is refused and the running one kept; the fixed one is loaded',
        `${reloadFailed.length ? 'refused' : 'not refused'}, ${reloaded.length ? 'reloaded' : 'not reloaded'}`,
      );
      check(c, c.restarts === 0, 'the same agent process throughout', `pid ${agent.pid}`);
      c.data = { names: NAMES.map((n) => n.name), phaseSeconds: FAULTS_PHASE_SECONDS, result };
    } finally {
      await agent.stop();
      await stopAll();
    }
  },
};
