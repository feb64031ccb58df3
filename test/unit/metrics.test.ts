// The dcos-dns aliases: written at scrape time from the same text, so both names carry equal values.
import { describe, expect, test } from '@jest/globals';
import { Counter, Histogram, Registry } from 'prom-client';
import { DCOS_DNS_ALIASES, type MetricAlias, createMetrics, withAliases } from '../../agent/metrics.js';

const ALIASES: MetricAlias[] = [
  { name: 'x_request_seconds', alias: 'old_request_seconds', labels: { transport: 'protocol' } },
  { name: 'x_failures_total', alias: 'old_failures_total' },
];

async function sampleText(): Promise<string> {
  const registry = new Registry();
  const h = new Histogram({
    name: 'x_request_seconds',
    help: 'Time',
    labelNames: ['transport', 'server'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  const c = new Counter({ name: 'x_failures_total', help: 'Failures', labelNames: ['zone'], registers: [registry] });
  const other = new Counter({ name: 'x_other_total', help: 'Not aliased', registers: [registry] });
  h.observe({ transport: 'udp', server: '10.0.0.1:53' }, 0.05);
  h.observe({ transport: 'tcp', server: '10.0.0.1:53' }, 0.5);
  c.inc({ zone: 'mesos' }, 3);
  other.inc();
  return registry.metrics();
}

describe('withAliases', () => {
  test('each aliased family follows again under its alias: HELP, TYPE, every sample, labels renamed', async () => {
    const text = await sampleText();
    const out = withAliases(text, ALIASES);
    expect(out.startsWith(text)).toBe(true);
    const added = out.slice(text.length).split('\n').filter(Boolean);
    expect(added).toEqual([
      "# HELP old_request_seconds Alias of x_request_seconds (dcos-dns's name): Time",
      '# TYPE old_request_seconds histogram',
      'old_request_seconds_bucket{le="0.1",protocol="udp",server="10.0.0.1:53"} 1',
      'old_request_seconds_bucket{le="1",protocol="udp",server="10.0.0.1:53"} 1',
      'old_request_seconds_bucket{le="+Inf",protocol="udp",server="10.0.0.1:53"} 1',
      'old_request_seconds_sum{protocol="udp",server="10.0.0.1:53"} 0.05',
      'old_request_seconds_count{protocol="udp",server="10.0.0.1:53"} 1',
      'old_request_seconds_bucket{le="0.1",protocol="tcp",server="10.0.0.1:53"} 0',
      'old_request_seconds_bucket{le="1",protocol="tcp",server="10.0.0.1:53"} 1',
      'old_request_seconds_bucket{le="+Inf",protocol="tcp",server="10.0.0.1:53"} 1',
      'old_request_seconds_sum{protocol="tcp",server="10.0.0.1:53"} 0.5',
      'old_request_seconds_count{protocol="tcp",server="10.0.0.1:53"} 1',
      "# HELP old_failures_total Alias of x_failures_total (dcos-dns's name): Failures",
      '# TYPE old_failures_total counter',
      'old_failures_total{zone="mesos"} 3',
    ]);
  });

  test('a label value that looks like a label name is left alone', async () => {
    const registry = new Registry();
    new Counter({ name: 'x_failures_total', help: 'F', labelNames: ['transport', 'reason'], registers: [registry] }).inc({
      transport: 'udp',
      reason: ',transport="x',
    });
    const out = withAliases(await registry.metrics(), [{ name: 'x_failures_total', alias: 'old', labels: { transport: 'protocol' } }]);
    expect(out).toContain('old{protocol="udp",reason=",transport=\\"x"} 1');
  });

  test('without an aliased family the text is unchanged', async () => {
    const text = await sampleText();
    expect(withAliases(text, [{ name: 'absent_total', alias: 'gone_total' }])).toBe(text);
  });
});

test("the agent's aliases name its own families, and its scrape text carries both names", async () => {
  const m = createMetrics();
  for (const a of DCOS_DNS_ALIASES) expect(m.registry.getSingleMetric(a.name)).toBeDefined();
  m.serverRequestFailures.inc({ transport: 'udp', upstream_address: '10.0.0.1:53', reason: 'timeout' });
  const text = await m.text();
  expect(text).toContain('phalanx_dns_server_request_failures_total{transport="udp",upstream_address="10.0.0.1:53",reason="timeout"} 1');
  expect(text).toContain('worker_failures_total{protocol="udp",upstream_address="10.0.0.1:53",reason="timeout"} 1');
});
