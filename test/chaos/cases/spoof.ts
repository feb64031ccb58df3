// Case 3, spoofing (RFC 5452): every master races each real reply with three forged ones carrying
// another address (a wrong ID; the right ID with another question; the right ID and question from
// another port: the only forgeries our loopback-only rule allows). No answer may ever carry the
// forged address, nor may the answer cache keep one, and the agent must count what it dropped. The
// forgeries from another port never reach it: its sockets are connected, so the kernel drops them.
import type { Answer } from 'dns-packet';
import { fakeMasterRecords } from '../../helpers/cluster.js';
import { FakeDnsServer } from '../../../sim/fake-dns.js';
import { onCleanup } from '../../harness/cleanup.js';
import { ChaosAgent } from '../agent.js';
import type { ChaosCase } from '../context.js';
import { type Expected, runLoad, tallyText } from '../load.js';
import { check, fmtInt } from '../report.js';
import { FORGED_ADDRESS, LOAD_REPLY_TIMEOUT_MS, SPOOF_NAMES, SPOOF_QPS } from '../settings.js';

const MASTERS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

/** app-0000 … : one task each, so every query is a cache miss the first time. */
function apps(): Expected[] {
  return Array.from({ length: SPOOF_NAMES }, (_, i) => ({
    name: `app-${String(i).padStart(4, '0')}.marathon.mesos`,
    type: 'A' as const,
    records: [`10.2.${Math.floor(i / 250)}.${(i % 250) + 1}`],
    route: 'mesos' as const,
  }));
}

export const spoofCase: ChaosCase = {
  n: '3',
  id: 'spoof',
  title: 'spoofing: forged replies before every real one',
  async run(ctx, c) {
    const names = apps();
    const records: Answer[] = [
      ...fakeMasterRecords(0),
      ...names.map((n): Answer => ({ name: n.name, type: 'A', ttl: 60, data: n.records[0] })),
    ];
    const masters: FakeDnsServer[] = [];
    onCleanup(() => Promise.all(masters.map((m) => m.stop())));
    for (const address of MASTERS) {
      masters.push(
        await FakeDnsServer.start({ address, zone: 'mesos', records, behaviour: { kind: 'forge-first', forgedAddress: FORGED_ADDRESS } }),
      );
    }
    // The answer cache on, keeping Mesos answers long enough to be asked again from it.
    const agent = await ChaosAgent.start(
      { mesos: { masters: masters.map((m) => m.endpoint) }, timeoutMs: 1000, cache: { enabled: true, mesosMaxTtlSec: 60 } },
      ctx.pinning,
    );
    try {
      const plan = { host: agent.host, port: agent.port, names, replyTimeoutMs: LOAD_REPLY_TIMEOUT_MS, count: names.length, seconds: 30 };
      const first = await runLoad({ ...plan, qps: SPOOF_QPS });
      const forged = masters.reduce((n, m) => n + m.forgeriesSent, 0);
      const mismatched = await agent.series('phalanx_dns_mismatched_replies_total');
      const byReason: Record<string, number> = {};
      for (const [labels, v] of Object.entries(mismatched)) {
        const reason = /reason="([^"]+)"/.exec(labels)?.[1] ?? '?';
        byReason[reason] = (byReason[reason] ?? 0) + v;
      }
      const dropped = Object.values(byReason).reduce((a, b) => a + b, 0);

      // Again, from the cache: no server is asked, and the cached answers are the real ones.
      const hits0 = await agent.metric('phalanx_dns_cache_lookups_total', { result: 'hit' });
      const second = await runLoad({ ...plan, qps: SPOOF_QPS * 2 });
      const hits = (await agent.metric('phalanx_dns_cache_lookups_total', { result: 'hit' })) - hits0;
      const forgedDuringSecond = masters.reduce((n, m) => n + m.forgeriesSent, 0) - forged;

      c.sent = first.sent + second.sent;
      c.answered = first.answered + second.answered;
      c.wrong = first.wrong + second.wrong;
      c.lost = first.lost + second.lost;
      c.restarts = agent.restarts;
      c.peakRssKb = agent.peakRssKb();
      c.details.push(`first pass (${SPOOF_QPS} q/s, every name a cache miss): ${tallyText(first)}`);
      c.details.push(`second pass (${SPOOF_QPS * 2} q/s, from the cache): ${tallyText(second)}; cache hits ${fmtInt(hits)}`);
      c.details.push(
        `forged replies sent by the masters: ${fmtInt(forged)}; dropped and counted by the agent: ${fmtInt(dropped)} (${Object.entries(
          byReason,
        )
          .map(([k, v]) => `${k} ${fmtInt(v)}`)
          .join(', ')})`,
      );
      for (const s of [...first.wrongSamples, ...second.wrongSamples]) c.details.push(`wrong: ${s}`);
      check(
        c,
        first.sent === names.length && first.wrong === 0 && first.lost === 0 && first.servfail === 0,
        `every one of ${fmtInt(names.length)} answers carries exactly the real address, never ${FORGED_ADDRESS}`,
        `${first.wrong} wrong, ${first.lost} lost of ${fmtInt(first.sent)}`,
      );
      check(
        c,
        second.wrong === 0 && second.lost === 0 && hits >= names.length,
        'asked again, every answer comes from the cache and is the real one',
        `${hits} hits, ${second.wrong} wrong, ${second.lost} lost of ${fmtInt(second.sent)}`,
      );
      check(c, forgedDuringSecond === 0, 'no server asked the second time', `${forgedDuringSecond} forged replies sent`);
      check(
        c,
        // Two of every three forgeries reach the agent; the third, from another port, the kernel drops.
        dropped >= ((forged * 2) / 3) * 0.95 && ['id', 'question'].every((r) => (byReason[r] ?? 0) > 0) && !byReason.source,
        'phalanx_dns_mismatched_replies_total counts the forgeries from the server by reason (id, question); none from another port reaches the agent',
        `${fmtInt(dropped)} of ${fmtInt((forged * 2) / 3)}`,
      );
      check(c, c.restarts === 0, 'the same agent process throughout', `pid ${agent.pid}`);
      c.data = { forgedAddress: FORGED_ADDRESS, first, second, cacheHits: hits, forgeriesSent: forged, mismatched: byReason };
    } finally {
      await agent.stop();
      await Promise.all(masters.map((m) => m.stop()));
    }
  },
};
