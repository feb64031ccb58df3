// Case 5, TCP abuse: thousands of idle connections from a few neighbours and slow senders that
// trickle a message a byte a second (slowloris), while the node's own clients keep asking over
// UDP and TCP. dcos-dns once ran out of connections this way; the per-client cap (past it the
// abuser's own longest-idle connection is closed for its new one), the idle timeout and the
// per-message deadline (tcp.maxConnectionsPerClient, idleTimeoutMs, queryTimeoutMs) must keep the
// well-behaved clients served and close every abuser.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { throwIfAborted } from '../../harness/cleanup.js';
import { sleep, waitFor } from '../../helpers/time.js';
import { ChaosAgent } from '../agent.js';
import type { ChaosCase } from '../context.js';
import { NGINX, type SpotCheckResult, spotCheck } from '../spot-check.js';
import { check, fmtInt } from '../report.js';
import { ABUSER_ADDRESSES, ABUSE_IDLE_CONNS, ABUSE_SECONDS, ABUSE_SLOW_SENDERS, ABUSE_TCP, SLOW_SENDER_ADDRESS } from '../settings.js';

/** The length a slow sender announces: at a byte a second it would take this many seconds. */
const SLOW_LENGTH = 40;
/** A connection the agent closes within this of its opening was refused at the door, or soon evicted for its owner's next one. */
const REJECTED_WITHIN_MS = 250;

/** Open files a process (this one by default) may have (soft limit), from /proc/<pid>/limits. */
export function openFilesLimit(pid: number | 'self' = 'self'): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

interface Conn {
  sock: net.Socket;
  openedAt: number;
  connectedAt?: number;
  /** When the agent closed it (we close ours only at the end). */
  closedAt?: number;
  firstByteAt?: number;
  bytes: number;
}

function open(host: string, port: number, localAddress: string, conns: Conn[]): Conn {
  const sock = net.connect({ host, port, localAddress });
  const c: Conn = { sock, openedAt: performance.now(), bytes: 0 };
  sock.on('connect', () => (c.connectedAt = performance.now()));
  sock.on('error', () => {}); // resets are how a refused or evicted connection may end; 'close' follows
  sock.on('close', () => (c.closedAt ??= performance.now()));
  sock.resume();
  conns.push(c);
  return c;
}

export const tcpAbuseCase: ChaosCase = {
  n: '5',
  id: 'tcp-abuse',
  title: 'TCP abuse: idle connections and slow senders',
  async run(ctx, c) {
    const s = ctx.servers;
    const agent = await ChaosAgent.start(
      {
        upstreams: s.upstreams.map((u) => u.endpoint),
        mesos: { masters: s.masters.map((m) => m.endpoint) },
        tcp: ABUSE_TCP,
        // The node is 127.0.0.1; the abusers on other loopback addresses play its neighbours.
        rateLimit: { exempt: ['127.0.0.1/32'] },
      },
      ctx.pinning,
    );
    const idle: Conn[] = [];
    const slow: Conn[] = [];
    try {
      // Stay well within the open-files limit: the driver holds at most every idle connection.
      const limit = openFilesLimit();
      const idleCount = Math.max(0, Math.min(ABUSE_IDLE_CONNS, limit - 1000));
      c.details.push(
        `open-files limit of this process: ${limit === Infinity ? 'unlimited' : fmtInt(limit)}; idle connections: ${fmtInt(idleCount)}${idleCount < ABUSE_IDLE_CONNS ? ` (fewer than ${fmtInt(ABUSE_IDLE_CONNS)}: the limit)` : ''}`,
      );

      const started = performance.now();
      const deadline = started + ABUSE_SECONDS * 1000;
      // The well-behaved clients: dig over UDP and over TCP, in turns, throughout.
      const udpChecks: SpotCheckResult[] = [];
      const tcpChecks: SpotCheckResult[] = [];
      const monitor = (async () => {
        for (let i = 0; i < 200 && performance.now() < deadline; i++) {
          throwIfAborted();
          udpChecks.push(await spotCheck(agent.host, agent.port, NGINX, { timeoutSec: 2 }));
          tcpChecks.push(await spotCheck(agent.host, agent.port, NGINX, { tcp: true, timeoutSec: 2 }));
          await sleep(200);
        }
      })();
      // Idle connections, opened steadily over the first two thirds, round robin over the abusers.
      const opener = (async () => {
        const openFor = ABUSE_SECONDS * 1000 * (2 / 3);
        for (let i = 0; i < idleCount && performance.now() < deadline;) {
          throwIfAborted();
          const due = Math.min(idleCount, Math.ceil(((performance.now() - started) / openFor) * idleCount));
          for (; i < due; i++) open(agent.host, agent.port, ABUSER_ADDRESSES[i % ABUSER_ADDRESSES.length], idle);
          await sleep(20);
        }
      })();
      // The agent's count of client connections: the per-client cap bounds it.
      let peakHeld = 0;
      const sampler = (async () => {
        while (performance.now() < deadline) {
          throwIfAborted();
          peakHeld = Math.max(peakHeld, await agent.metric('phalanx_dns_tcp_connections'));
          await sleep(250);
        }
      })();
      // Slow senders: a length prefix, then a byte a second.
      const trickle = (async () => {
        for (let i = 0; i < ABUSE_SLOW_SENDERS; i++) open(agent.host, agent.port, SLOW_SENDER_ADDRESS, slow);
        await sleep(REJECTED_WITHIN_MS); // connected, or closed at once
        for (let sec = 0; sec < SLOW_LENGTH && performance.now() < deadline; sec++) {
          throwIfAborted();
          for (const conn of slow) {
            if (conn.closedAt !== undefined || conn.connectedAt === undefined) continue;
            conn.firstByteAt ??= performance.now();
            conn.sock.write(conn.bytes === 0 ? Buffer.from([0, SLOW_LENGTH]) : Buffer.from([0x61]));
            conn.bytes += conn.bytes === 0 ? 2 : 1;
          }
          await sleep(1000);
        }
      })();
      await Promise.all([monitor, opener, trickle, sampler]);

      // Every abuser must be closed by the agent: idle ones within the idle timeout.
      await waitFor(() => [...idle, ...slow].every((k) => k.closedAt !== undefined), {
        timeoutMs: ABUSE_TCP.idleTimeoutMs + 2000,
        everyMs: 100,
      });

      const metrics = {
        rejected: await agent.series('phalanx_dns_tcp_connections_rejected_total'),
        closed: await agent.series('phalanx_dns_tcp_connections_closed_total'),
      };
      const idleOpen = idle.filter((k) => k.closedAt === undefined).length;
      const idleClosedAtOnce = idle.filter(
        (k) => k.closedAt !== undefined && k.closedAt - (k.connectedAt ?? k.openedAt) < REJECTED_WITHIN_MS,
      ).length;
      const heldMs = idle
        .filter((k) => k.closedAt !== undefined && k.closedAt - (k.connectedAt ?? k.openedAt) >= REJECTED_WITHIN_MS)
        .map((k) => k.closedAt! - (k.connectedAt ?? k.openedAt));
      const slowStarted = slow.filter((k) => k.firstByteAt !== undefined);
      const slowLate = slowStarted.filter((k) => k.closedAt === undefined || k.closedAt - k.firstByteAt! > ABUSE_TCP.queryTimeoutMs + 1500);
      const slowClosedAtOnce = slow.filter((k) => k.firstByteAt === undefined && k.closedAt !== undefined).length;
      const checksOk = (list: SpotCheckResult[]) => list.filter((p) => p.ok).length;
      const failures = [...udpChecks.map((p) => ['udp', p] as const), ...tcpChecks.map((p) => ['tcp', p] as const)].filter(
        ([, p]) => !p.ok,
      );

      c.sent = udpChecks.length + tcpChecks.length;
      c.answered = [...udpChecks, ...tcpChecks].filter((p) => !/timed out/.test(p.seen)).length;
      c.wrong = [...udpChecks, ...tcpChecks].filter((p) => !p.ok && !/timed out/.test(p.seen)).length;
      c.lost = c.sent - c.answered;
      c.restarts = agent.restarts;
      c.peakRssKb = agent.peakRssKb();
      c.details.push(
        `limits: ${JSON.stringify(ABUSE_TCP)}; abusers from ${ABUSER_ADDRESSES.join(', ')} (idle) and ${SLOW_SENDER_ADDRESS} (slow); dig from 127.0.0.1`,
      );
      c.details.push(
        `idle: ${fmtInt(idle.length)} opened; ${fmtInt(idleClosedAtOnce)} closed within ${REJECTED_WITHIN_MS} ms (refused, or evicted for their owner's next), ${fmtInt(heldMs.length)} held then closed (after ${heldMs.length ? `${(Math.min(...heldMs) / 1000).toFixed(1)}–${(Math.max(...heldMs) / 1000).toFixed(1)} s` : '-'}), ${idleOpen} still open`,
      );
      c.details.push(
        `slow senders: ${slow.length} opened, ${slowClosedAtOnce} closed before their first byte (refused or evicted), ${slowStarted.length} started a ${SLOW_LENGTH}-byte message a byte a second; closed after ${
          slowStarted
            .filter((k) => k.closedAt !== undefined)
            .map((k) => ((k.closedAt! - k.firstByteAt!) / 1000).toFixed(1))
            .join(', ') || '-'
        } s`,
      );
      c.details.push(
        `agent metrics: rejected ${JSON.stringify(metrics.rejected)}, closed ${JSON.stringify(metrics.closed)}; client connections held at most ${fmtInt(peakHeld)} (sampled every 250 ms)`,
      );
      c.details.push(
        `well-behaved clients: dig UDP ${checksOk(udpChecks)}/${udpChecks.length}, dig +tcp ${checksOk(tcpChecks)}/${tcpChecks.length} correct; slowest ${Math.max(0, ...[...udpChecks, ...tcpChecks].map((p) => p.ms)).toFixed(0)} ms`,
      );
      for (const [t, p] of failures.slice(0, 5)) c.details.push(`wrong: dig ${t}: ${p.seen}`);
      check(c, idle.length >= Math.min(1000, idleCount), 'thousands of idle connections opened', fmtInt(idle.length));
      check(
        c,
        udpChecks.length >= 10 && checksOk(udpChecks) === udpChecks.length,
        `dig over UDP answers ${NGINX.name} correctly throughout`,
        `${checksOk(udpChecks)} of ${udpChecks.length}`,
      );
      check(
        c,
        tcpChecks.length >= 10 && checksOk(tcpChecks) === tcpChecks.length,
        `dig +tcp answers ${NGINX.name} correctly throughout`,
        `${checksOk(tcpChecks)} of ${tcpChecks.length}`,
      );
      check(
        c,
        idleOpen === 0,
        `every idle connection closed by the agent (refused, evicted, or after idleTimeoutMs ${ABUSE_TCP.idleTimeoutMs})`,
        `${idleOpen} of ${idle.length} still open`,
      );
      // Each abuser and the slow sender at their cap, and the digs' own connections.
      const heldBound = (ABUSER_ADDRESSES.length + 1) * ABUSE_TCP.maxConnectionsPerClient + 2;
      check(
        c,
        idleClosedAtOnce > 0 &&
          (metrics.closed['reason="evicted"'] ?? 0) + (metrics.rejected['reason="per_client"'] ?? 0) > 0 &&
          peakHeld <= heldBound,
        `past tcp.maxConnectionsPerClient an abuser's own longest-idle connection is closed for its new one (or the new one refused): never more than ${heldBound} held`,
        `${fmtInt(idleClosedAtOnce)} closed within ${REJECTED_WITHIN_MS} ms; at most ${fmtInt(peakHeld)} held`,
      );
      check(
        c,
        slowStarted.length > 0 && slowLate.length === 0,
        `every slow sender closed within queryTimeoutMs (${ABUSE_TCP.queryTimeoutMs} ms) + 1.5 s of its first byte`,
        `${slowLate.length} of ${slowStarted.length} late or open`,
      );
      check(c, c.restarts === 0, 'the same agent process throughout', `pid ${agent.pid}`);
      c.data = {
        limits: ABUSE_TCP,
        openFilesLimit: limit,
        idle: { opened: idle.length, closedAtOnce: idleClosedAtOnce, heldThenClosed: heldMs.length, stillOpen: idleOpen },
        slow: { opened: slow.length, closedAtOnce: slowClosedAtOnce, started: slowStarted.length, late: slowLate.length },
        peakHeld,
        metrics,
        spotChecks: { udp: udpChecks, tcp: tcpChecks },
      };
    } finally {
      for (const k of [...idle, ...slow]) k.sock.destroy();
      await agent.stop();
    }
  },
};
