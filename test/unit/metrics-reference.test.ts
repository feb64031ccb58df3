// docs/metrics.md is written from the registry the agent builds; this fails when the two differ,
// so the reference can never drift from what /v1/metrics exports.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { METRICS_REFERENCE_PATH, renderMetricsReference } from '../../agent/metrics-reference.js';
import { DCOS_DNS_ALIASES, createMetrics } from '../../agent/metrics.js';

const written = readFileSync(new URL(`../../${METRICS_REFERENCE_PATH}`, import.meta.url), 'utf8');
const rendered = renderMetricsReference();

describe('docs/metrics.md', () => {
  test('is what the generator writes now', () => {
    if (written === rendered) return;
    const [a, b] = [written.split('\n'), rendered.split('\n')];
    const line = a.findIndex((text, i) => text !== b[i]);
    throw new Error(
      `${METRICS_REFERENCE_PATH} is out of date with agent/metrics.ts: run \`npm run docs:metrics\` and commit the result.\n` +
        `First difference, line ${line + 1}:\n  file:      ${a[line]}\n  generated: ${b[line]}`,
    );
  });

  test('has a row for every phalanx_dns_ family, with its help and its labels', () => {
    const own = createMetrics()
      .registry.getMetricsAsArray()
      .filter((m) => m.name.startsWith('phalanx_dns_'));
    expect(own.length).toBeGreaterThan(30);
    for (const m of own) {
      const row = rendered.split('\n').find((l) => l.startsWith(`| \`${m.name}\` |`));
      expect({ name: m.name, row }).toEqual({ name: m.name, row: expect.stringContaining(m.help) });
      for (const label of (m as unknown as { labelNames: string[] }).labelNames) expect(row).toContain(`\`${label}\``);
    }
  });

  test('has a row for every dcos-dns alias', () => {
    for (const a of DCOS_DNS_ALIASES) expect(rendered).toContain(`| \`${a.alias}\` | \`${a.name}\` |`);
  });
});
