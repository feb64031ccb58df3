// Case 4, flood: twice what the agent can answer, for 30 s. Overload may cost answers (the kernel
// drops what the agent cannot read), but never the process, never unbounded memory, and never
// more than a moment once the flood stops.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsperf } from '../../harness/dnsperf.js';
import { queryLines } from '../../harness/zones.js';
import { ChaosAgent } from '../agent.js';
import type { ChaosCase } from '../context.js';
import { NGINX, spotCheck } from '../spot-check.js';
import { check, fmtInt, mib } from '../report.js';
import { rssFloorsKb } from '../../harness/system.js';
import {
  FLOOD_CAPACITY_SECONDS,
  FLOOD_MAX_OUTSTANDING,
  FLOOD_RECOVERY_MS,
  FLOOD_RSS_GROWTH_MIB,
  FLOOD_RSS_LIMIT_MIB,
  FLOOD_SECONDS,
  FLOOD_WARMUP_S,
} from '../settings.js';

/** Local and Mesos names, alternating: the node's own lookups. */
function floodLines(): string[] {
  const local = queryLines('local');
  return queryLines('mesos').flatMap((m, i) => [m, local[i % local.length]]);
}

/** Polls a Mesos name with dig until it is answered correctly; bounded by `attempts`. */
async function timeToCorrectAnswer(
  host: string,
  port: number,
  since: number,
  attempts = 10,
): Promise<{ ms: number | null; seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < attempts; i++) {
    const r = await spotCheck(host, port, NGINX, { timeoutSec: 1 });
    seen.push(`${r.seen} (${r.ms.toFixed(0)} ms)`);
    if (r.ok) return { ms: performance.now() - since, seen };
  }
  return { ms: null, seen };
}

export const floodCase: ChaosCase = {
  n: '4',
  id: 'flood',
  title: 'flood: twice the capacity for 30 s',
  async run(ctx, c) {
    const file = join(ctx.dir, 'flood.txt');
    writeFileSync(file, floodLines().join('\n') + '\n');
    const s = ctx.servers;
    // The defaults (maxInflight 1024, serve-stale on) but no answer cache: every Mesos name goes
    // to the masters, the agent's costliest path and the one with state per query in flight.
    // (With the cache the agent answers ~55k q/s here, more than dnsperf can send twice over
    // from one CPU.)
    const agent = await ChaosAgent.start(
      { upstreams: s.upstreams.map((u) => u.endpoint), mesos: { masters: s.masters.map((m) => m.endpoint) }, cache: { enabled: false } },
      ctx.pinning,
    );
    try {
      const run = { endpoint: agent.endpoint, file, verbose: false };
      // Enough queries outstanding that the agent, not the round trip, sets the figure.
      const capacity = await dnsperf(ctx.tools.dnsperf, { ...run, seconds: FLOOD_CAPACITY_SECONDS, maxOutstanding: 1000 });
      const rate = Math.round(capacity.qps * 2);
      const rss0 = agent.memory();
      agent.startSampling(1000);
      const flood = await dnsperf(ctx.tools.dnsperf, { ...run, seconds: FLOOD_SECONDS, qps: rate, maxOutstanding: FLOOD_MAX_OUTSTANDING });
      const ended = performance.now();
      const recovery = await timeToCorrectAnswer(agent.host, agent.port, ended);
      const samples = agent.stopSampling();

      const wrongRcodes = (r: Record<string, number>) =>
        Object.entries(r)
          .filter(([k]) => k !== 'NOERROR' && k !== 'SERVFAIL')
          .reduce((n, [, v]) => n + v, 0);
      c.sent = capacity.sent + flood.sent;
      c.answered = capacity.completed + flood.completed;
      c.wrong = wrongRcodes(capacity.rcodes) + wrongRcodes(flood.rcodes);
      c.lost = capacity.lost + flood.lost;
      c.restarts = agent.restarts;
      c.peakRssKb = agent.peakRssKb();
      const maxRss = Math.max(0, ...samples.map((m) => m.rssKb));
      // The floor of the GC sawtooth, first third against last (single readings swing ±15 MiB).
      const floors = rssFloorsKb(samples.slice(FLOOD_WARMUP_S));
      const growthKb = floors && floors[1] - floors[0];
      const rcodes = (r: Record<string, number>) =>
        Object.entries(r)
          .map(([k, v]) => `${k} ${fmtInt(v)}`)
          .join(', ');
      c.details.push(
        `capacity (dnsperf unthrottled, ${FLOOD_CAPACITY_SECONDS} s, local and Mesos names): ${fmtInt(capacity.qps)} q/s, lost ${fmtInt(capacity.lost)} (${rcodes(capacity.rcodes)})`,
      );
      c.details.push(
        `flood at ${fmtInt(rate)} q/s for ${FLOOD_SECONDS} s (dnsperf -Q, up to ${fmtInt(FLOOD_MAX_OUTSTANDING)} outstanding): sent ${fmtInt(flood.sent)} (${fmtInt(flood.sent / FLOOD_SECONDS)}/s), answered ${fmtInt(flood.completed)} (${fmtInt(flood.qps)}/s), lost ${fmtInt(flood.lost)} (${rcodes(flood.rcodes)})`,
      );
      c.details.push(
        `RSS ${mib(rss0?.rssKb)} before (peak so far ${mib(rss0?.hwmKb)}), ${mib(maxRss)} at most during (sampled every second, ${samples.length} samples), peak VmHWM ${mib(c.peakRssKb)}; lowest after ${FLOOD_WARMUP_S} s in the first and last third ${mib(floors?.[0])}, ${mib(floors?.[1])}`,
      );
      c.details.push(`after the flood: ${recovery.seen.join('; ')}`);
      check(c, c.restarts === 0, 'the same agent process at the end', `pid ${agent.pid}`);
      check(
        c,
        (c.peakRssKb ?? Infinity) < FLOOD_RSS_LIMIT_MIB * 1024,
        `peak RSS (VmHWM) under ${FLOOD_RSS_LIMIT_MIB} MiB`,
        mib(c.peakRssKb),
      );
      check(
        c,
        growthKb !== null && growthKb < FLOOD_RSS_GROWTH_MIB * 1024,
        `RSS does not grow during the flood (its floor rises less than ${FLOOD_RSS_GROWTH_MIB} MiB)`,
        growthKb === null ? 'too few samples' : `${(growthKb / 1024).toFixed(1)} MiB`,
      );
      check(c, c.wrong === 0, 'no answer but NOERROR or SERVFAIL (every name exists)', `${c.wrong}`);
      check(
        c,
        recovery.ms !== null && recovery.ms <= FLOOD_RECOVERY_MS,
        `${NGINX.name} answered correctly within ${FLOOD_RECOVERY_MS} ms of dnsperf's exit`,
        recovery.ms === null ? 'never, in 10 tries' : `${recovery.ms.toFixed(0)} ms`,
      );
      c.data = {
        capacity,
        rateQps: rate,
        flood,
        rssBeforeKb: rss0?.rssKb,
        rssSamplesKb: samples.map((m) => m.rssKb),
        rssGrowthKb: growthKb,
        recoveryMs: recovery.ms,
        recovery: recovery.seen,
      };
    } finally {
      await agent.stop();
    }
  },
};
