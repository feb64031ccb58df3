// Case 7, TCP hoard (silent sockets must not lock out a TCP retry): a process on the node opens 1,500 TCP connections to the agent and
// leaves them idle, filling tcp.maxConnections; the node is exempt from the per-client cap, so
// nothing else stops it. The agent must make room by closing the longest-idle connection (RFC 7766
// §6.2.3): every client that resolves over TCP meanwhile, the node's own and a neighbour's, is
// answered, and only the hoard's oldest connections are closed.
import net from 'node:net';
import { throwIfAborted } from '../../harness/cleanup.js';
import { settlesWithin, sleep, waitFor } from '../../helpers/time.js';
import { ChaosAgent } from '../agent.js';
import type { ChaosCase } from '../context.js';
import { NGINX, type SpotCheckResult, spotCheck } from '../spot-check.js';
import { check, fmtInt } from '../report.js';
import { HOARD_BATCH, HOARD_CONNS, HOARD_IDLE_TIMEOUT_MS, HOARD_NEIGHBOUR, HOARD_SECONDS } from '../settings.js';
import { openFilesLimit } from './tcp-abuse.js';

/** The node itself: exempt from the per-client cap, as every process on the node connects from it. */
const NODE = '127.0.0.1';
const HELD = 'phalanx_dns_tcp_connections';

interface Hoarded {
  sock: net.Socket;
  /** Closed by the agent (we close ours only at the end). */
  closed: boolean;
}

/** Opens `count` idle connections from the node, HOARD_BATCH at a time, each batch connected (or failed, or 5 s gone) before the next. */
async function hoard(host: string, port: number, count: number, into: Hoarded[]): Promise<void> {
  for (let i = 0; i < count; i += HOARD_BATCH) {
    throwIfAborted();
    const batch = Array.from({ length: Math.min(HOARD_BATCH, count - i) }, () => {
      const sock = net.connect({ host, port, localAddress: NODE });
      const h: Hoarded = { sock, closed: false };
      sock.on('error', () => {}); // a reset is one way to be closed; 'close' follows
      sock.on('close', () => (h.closed = true));
      sock.resume();
      into.push(h);
      return new Promise<void>((resolve) => {
        sock.once('connect', resolve);
        sock.once('close', resolve);
      });
    });
    await settlesWithin(Promise.all(batch), 5000);
  }
}

/** Polls the agent's count of client connections until `done` holds of it (at most ~2 s); the last count read. */
async function heldUntil(agent: ChaosAgent, done: (held: number) => boolean): Promise<number> {
  let held = 0;
  await waitFor(async () => done((held = await agent.metric(HELD))), { timeoutMs: 2000, everyMs: 50 });
  return held;
}

export const tcpHoardCase: ChaosCase = {
  n: '7',
  id: 'tcp-hoard',
  title: 'TCP hoard: idle connections from the node fill the cap',
  async run(ctx, c) {
    const s = ctx.servers;
    // This process holds every hoarded connection, the agent one end of each too.
    const limit = openFilesLimit();
    const count = Math.max(100, Math.min(HOARD_CONNS, limit - 1000));
    const tcp = { maxConnections: count, idleTimeoutMs: HOARD_IDLE_TIMEOUT_MS };
    const agent = await ChaosAgent.start(
      {
        upstreams: s.upstreams.map((u) => u.endpoint),
        mesos: { masters: s.masters.map((m) => m.endpoint) },
        tcp,
        rateLimit: { exempt: [`${NODE}/32`] },
      },
      ctx.pinning,
    );
    const hoarded: Hoarded[] = [];
    try {
      const agentLimit = openFilesLimit(agent.pid);
      c.details.push(
        `open-files limit: this process ${limit === Infinity ? 'unlimited' : fmtInt(limit)}, the agent ${agentLimit === Infinity ? 'unlimited' : fmtInt(agentLimit)}; hoard: ${fmtInt(count)}${count < HOARD_CONNS ? ` (fewer than ${fmtInt(HOARD_CONNS)}: the limit)` : ''}`,
      );
      await hoard(agent.host, agent.port, count, hoarded);
      const heldAtStart = await heldUntil(agent, (n) => n >= count);
      const evictedBefore = await agent.metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' });

      // Clients ask over TCP in turns, the node itself and a neighbour; before each, the hoard
      // replaces what the last one made room with, so every client meets a full cap.
      const checks: Array<SpotCheckResult & { source: string }> = [];
      const heldBefore: number[] = [];
      let replaced = 0;
      const deadline = performance.now() + HOARD_SECONDS * 1000;
      for (let i = 0; i < 200 && performance.now() < deadline; i++) {
        throwIfAborted();
        let held = await heldUntil(agent, (n) => n < count || i === 0); // the last client's connection gone
        if (held < count) {
          replaced += count - held;
          await hoard(agent.host, agent.port, count - held, hoarded);
          held = await heldUntil(agent, (n) => n >= count);
        }
        heldBefore.push(held);
        const source = i % 2 === 0 ? NODE : HOARD_NEIGHBOUR;
        checks.push({ source, ...(await spotCheck(agent.host, agent.port, NGINX, { tcp: true, timeoutSec: 2, source })) });
        await sleep(100);
      }

      const evicted = (await agent.metric('phalanx_dns_tcp_connections_closed_total', { reason: 'evicted' })) - evictedBefore;
      const rejected = await agent.series('phalanx_dns_tcp_connections_rejected_total');
      const closedBy = await agent.series('phalanx_dns_tcp_connections_closed_total');
      const closedIdx = hoarded.flatMap((h, i) => (h.closed ? [i] : []));
      const ok = checks.filter((p) => p.ok);
      const timedOut = checks.filter((p) => /timed out/.test(p.seen));
      const from = (src: string) =>
        `${checks.filter((p) => p.ok && p.source === src).length}/${checks.filter((p) => p.source === src).length}`;

      c.sent = checks.length;
      c.answered = checks.length - timedOut.length;
      c.wrong = checks.filter((p) => !p.ok && !/timed out/.test(p.seen)).length;
      c.lost = timedOut.length;
      c.restarts = agent.restarts;
      c.peakRssKb = agent.peakRssKb();
      c.details.push(
        `limits: ${JSON.stringify(tcp)}; hoard from ${NODE} (exempt, no per-client cap), dig +tcp from ${NODE} and ${HOARD_NEIGHBOUR} for ${HOARD_SECONDS} s`,
      );
      c.details.push(
        `held by the agent: ${fmtInt(heldAtStart)} after the hoard opened; before each dig ${fmtInt(Math.min(...heldBefore))}–${fmtInt(Math.max(...heldBefore))}; hoard connections opened ${fmtInt(hoarded.length)} (${fmtInt(replaced)} replacing those closed), closed by the agent ${fmtInt(closedIdx.length)}`,
      );
      c.details.push(
        `dig +tcp during the hold: ${fmtInt(ok.length)} of ${fmtInt(checks.length)} correct (from ${NODE} ${from(NODE)}, from ${HOARD_NEIGHBOUR} ${from(HOARD_NEIGHBOUR)}); slowest ${Math.max(0, ...checks.map((p) => p.ms)).toFixed(0)} ms`,
      );
      c.details.push(`agent metrics: rejected ${JSON.stringify(rejected)}, closed ${JSON.stringify(closedBy)}`);
      for (const p of checks.filter((k) => !k.ok).slice(0, 5)) c.details.push(`wrong: dig +tcp from ${p.source}: ${p.seen}`);

      check(c, heldAtStart >= count, 'the hoard fills tcp.maxConnections', `${fmtInt(heldAtStart)} held of ${fmtInt(count)}`);
      check(
        c,
        checks.length >= 20 && ok.length === checks.length,
        `dig +tcp answers ${NGINX.name} correctly throughout the hold, from the node and a neighbour`,
        `${ok.length} of ${checks.length}`,
      );
      check(
        c,
        Math.min(...heldBefore) >= count && evicted >= checks.length && Object.values(rejected).every((v) => v === 0),
        'every client met a full cap and was let in by closing an idle connection (evicted), none refused',
        `${fmtInt(evicted)} evicted for ${checks.length} clients; rejected ${JSON.stringify(rejected)}`,
      );
      // Batches connect concurrently, so the agent's order within one may differ from ours.
      check(
        c,
        closedIdx.length === evicted && closedIdx.every((i) => i < evicted + HOARD_BATCH),
        'the hoard connections closed were the longest idle (the first opened)',
        `${closedIdx.length} closed, the youngest of them opened ${closedIdx.length ? fmtInt(Math.max(...closedIdx) + 1) : '-'}th`,
      );
      check(c, c.restarts === 0, 'the same agent process throughout', `pid ${agent.pid}`);
      c.data = {
        limits: tcp,
        openFilesLimit: { driver: limit, agent: agentLimit },
        held: { atStart: heldAtStart, beforeEachClient: heldBefore },
        hoard: { opened: hoarded.length, replaced, closedByAgent: closedIdx.length },
        evicted,
        rejected,
        closed: closedBy,
        spotChecks: checks,
      };
    } finally {
      for (const h of hoarded) h.sock.destroy();
      await agent.stop();
    }
  },
};
