// The pure parts of `phalanx-dns status` and `explain`: reading the metrics text, percentiles from
// histogram buckets, the verdict behind the exit status, and text that lines up with or without colour.
import { describe, expect, test } from '@jest/globals';
import { buckets, bucketsSince, parseSamples, quantile, total, totalsBy } from '../../agent/cli/prometheus-text.js';
import { type Scrapes, buildStatus, decideVerdict } from '../../agent/cli/status-report.js';
import { duration, painter, percent, table, wantColour } from '../../agent/cli/table.js';
import type { AgentDescription } from '../../agent/http/enumerate.js';
import { createMetrics } from '../../agent/metrics.js';

describe('the Prometheus text', () => {
  test('samples with labels, escapes and +Inf; comments skipped', () => {
    const s = parseSamples(
      [
        '# HELP x_total Things',
        '# TYPE x_total counter',
        'x_total{a="1",b="say \\"hi\\"\\n"} 3',
        'x_total 2',
        'h_bucket{le="+Inf"} 7',
        '',
      ].join('\n'),
    );
    expect(s).toEqual([
      { name: 'x_total', labels: { a: '1', b: 'say "hi"\n' }, value: 3 },
      { name: 'x_total', labels: {}, value: 2 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
    expect(total(s, 'x_total')).toBe(5);
    expect(total(s, 'x_total', { a: '1' })).toBe(3);
    expect(totalsBy(s, 'x_total', 'a')).toEqual(new Map([['1', 3]]));
  });

  test("the agent's own registry reads back: a server's buckets over both transports", async () => {
    const m = createMetrics();
    const at = { upstream_address: '127.0.0.11:61053' };
    for (const sec of [0.0004, 0.002, 0.002, 0.004]) m.serverRequestDuration.observe({ ...at, transport: 'udp' }, sec);
    m.serverRequestDuration.observe({ ...at, transport: 'tcp' }, 0.02);
    m.serverRequestDuration.observe({ upstream_address: '127.0.0.12:61053', transport: 'udp' }, 3);
    m.queries.inc({ transport: 'udp', route: 'mesos', rcode: 'NOERROR' }, 4);
    const samples = parseSamples(await m.text());
    const b = buckets(samples, 'phalanx_dns_server_request_duration_seconds', at);
    expect(b.at(-1)).toEqual({ le: Infinity, count: 5 });
    expect(b.find((x) => x.le === 0.0025)!.count).toBe(3);
    expect(totalsBy(samples, 'phalanx_dns_queries_total', 'route')).toEqual(new Map([['mesos', 4]]));
  });
});

describe('quantiles from cumulative buckets, as histogram_quantile()', () => {
  const b = [
    { le: 0.001, count: 0 },
    { le: 0.0025, count: 5 },
    { le: 0.005, count: 10 },
    { le: Infinity, count: 10 },
  ];

  test('interpolated within the bucket the rank falls in', () => {
    expect(quantile(0.5, b)).toBeCloseTo(0.0025);
    expect(quantile(0.99, b)).toBeCloseTo(0.0025 + 0.0025 * (4.9 / 5));
    expect(quantile(0.1, [{ le: 0.01, count: 10 }])).toBeCloseTo(0.001);
  });

  test('in the +Inf bucket: the highest finite bound; nothing observed: undefined', () => {
    expect(quantile(0.99, [...b.slice(0, 3), { le: Infinity, count: 20 }])).toBe(0.005);
    expect(
      quantile(0.5, [
        { le: 0.1, count: 0 },
        { le: Infinity, count: 0 },
      ]),
    ).toBeUndefined();
    expect(quantile(0.5, [])).toBeUndefined();
  });

  test('between two scrapes: the difference, a bucket new since then counted whole', () => {
    const before = [
      { le: 0.001, count: 2 },
      { le: Infinity, count: 4 },
    ];
    const after = [
      { le: 0.001, count: 3 },
      { le: 0.0025, count: 5 },
      { le: Infinity, count: 9 },
    ];
    expect(bucketsSince(after, before)).toEqual([
      { le: 0.001, count: 1 },
      { le: 0.0025, count: 5 },
      { le: Infinity, count: 5 },
    ]);
  });
});

describe('text for a person', () => {
  test('columns line up, and colour codes do not move them', () => {
    const rows = [
      ['mesos', { text: 'up', style: 'green' as const }, '1'],
      ['upstream', { text: 'down', style: 'red' as const }, '22'],
    ];
    const plain = table(['GROUP', 'STATE', 'N'], rows, painter(false));
    expect(plain).toEqual(['GROUP     STATE  N', 'mesos     up     1', 'upstream  down   22']);
    const coloured = table(['GROUP', 'STATE', 'N'], rows, painter(true));
    expect(coloured[2]).toBe('upstream  \x1b[31mdown\x1b[0m   22');
    // eslint-disable-next-line no-control-regex
    expect(coloured.map((l) => l.replace(/\x1b\[\d+m/g, ''))).toEqual(plain);
  });

  test('colour only on a terminal without NO_COLOR', () => {
    expect(wantColour({ isTTY: true }, {})).toBe(true);
    expect(wantColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantColour({ isTTY: false }, {})).toBe(false);
    expect(wantColour({}, {})).toBe(false);
  });

  test('durations and shares', () => {
    expect([0.25, 12.34, 600, 7200, 172800].map(duration)).toEqual(['250 ms', '12.3 s', '10 min', '2 h', '2 d']);
    expect([null, 0, 0.004, 0.5].map(percent)).toEqual(['-', '0%', '0.4%', '50%']);
  });
});

describe('the verdict behind the exit status', () => {
  const ok = {
    agent: { api: 'http://127.0.0.1:62080', version: '0', listening: true, inflight: 0 },
    servers: [{ group: 'mesos', address: '127.0.0.11:61053', state: 'up' as const, lastFailure: null }],
    discovery: { source: 'zookeeper', state: 'ok', masters: 3, error: null },
  };
  const verdict = (patch: object) => decideVerdict({ ...ok, ...patch } as Parameters<typeof decideVerdict>[0]);

  test('healthy: 0', () => {
    expect(verdict({})).toEqual({ status: 'healthy', exitCode: 0, reasons: [] });
    // Connecting is not failing: the source has not answered yet.
    expect(verdict({ discovery: { ...ok.discovery, state: 'connecting' } }).exitCode).toBe(0);
  });

  test('a server down, discovery failing, no master known: 1, each with its reason', () => {
    const v = verdict({
      servers: [{ ...ok.servers[0], state: 'down', lastFailure: { reason: 'timeout', agoSec: 3 } }],
      discovery: { ...ok.discovery, state: 'error', error: 'connection lost', masters: 0 },
    });
    expect(v.exitCode).toBe(1);
    expect(v.reasons).toEqual([
      'mesos server 127.0.0.11:61053 is down (timeout)',
      'discovery (zookeeper) is failing: connection lost',
      'no Mesos master is known: Mesos names get SERVFAIL',
    ]);
  });
});

describe('the status report', () => {
  const server = (address: string, up = true) => ({
    address,
    up,
    failureScore: up ? 0 : 3,
    rttMs: 1,
    successes: 10,
    failures: up ? 0 : 3,
    consecutiveFailures: up ? 0 : 3,
    lastFailure: up ? null : 'rcode_SERVFAIL',
    lastFailureAt: up ? null : new Date(1_000_000).toISOString(),
  });
  const description = {
    listening: true,
    inflight: 0,
    mesos: { domain: 'mesos', masters: [server('127.0.0.11:61053', false), server('127.0.0.12:61053')] },
    upstreams: [server('127.0.0.21:53')],
    forwardZones: {},
    discovery: { source: 'static', state: 'ok' },
    cache: { entries: 4, maxEntries: 100 },
    staleStore: { entries: 4, bytes: 2048, maxEntries: 100, maxBytes: 1 << 20 },
  } as unknown as AgentDescription;
  const metrics = (mesos: number, servfail: number, stale: number, udpBucket: number) =>
    parseSamples(
      [
        `phalanx_dns_queries_total{transport="udp",route="mesos",rcode="NOERROR"} ${mesos}`,
        `phalanx_dns_queries_total{transport="udp",route="mesos",rcode="SERVFAIL"} ${servfail}`,
        `phalanx_dns_stale_answers_total{zone="mesos",reason="failed"} ${stale}`,
        `phalanx_dns_server_request_duration_seconds_bucket{transport="udp",upstream_address="127.0.0.12:61053",le="0.001"} 0`,
        `phalanx_dns_server_request_duration_seconds_bucket{transport="udp",upstream_address="127.0.0.12:61053",le="0.005"} ${udpBucket}`,
        `phalanx_dns_server_request_duration_seconds_bucket{transport="udp",upstream_address="127.0.0.12:61053",le="+Inf"} ${udpBucket}`,
      ].join('\n'),
    );

  test('rates between the scrapes; reply times recent when it answered then', () => {
    const scrapes: Scrapes = { before: metrics(10, 0, 0, 10), after: metrics(28, 2, 5, 20), seconds: 2 };
    const r = buildStatus({ api: 'http://x', version: '1', description, scrapes, now: 1_004_000 });
    expect(r.verdict.exitCode).toBe(1);
    expect(r.queries).toMatchObject({ total: 30, staleShare: 0.25, servfailShare: 0.1, window: 'recent' });
    expect(r.queries.perSecond).toMatchObject({ mesos: 10, local: 0, upstream: 0 });
    const [down, up] = r.servers;
    expect(down).toMatchObject({ state: 'down', lastFailure: { reason: 'rcode_SERVFAIL', agoSec: 4 }, replyTimes: null });
    expect(up).toMatchObject({ state: 'up', replyTimes: 'recent', p50Ms: 3 });
  });

  test('nothing between the scrapes: ratios and reply times since start', () => {
    const same = metrics(8, 2, 1, 10);
    const r = buildStatus({ api: 'http://x', version: '1', description, scrapes: { before: same, after: same, seconds: 1 }, now: 0 });
    expect(r.queries).toMatchObject({ staleShare: 0.1, servfailShare: 0.2, window: 'since start' });
    expect(r.queries.perSecond.mesos).toBe(0);
    expect(r.servers[1]).toMatchObject({ replyTimes: 'since start', p50Ms: 3 });
  });
});
