// The alert rules and the dashboard (deploy/prometheus/, deploy/grafana/): promtool checks the rules
// and runs their unit tests; every alert has a firing and a quiet case and tells the operator what
// to do; the dashboard is what deploy/grafana/dashboard.ts writes, has its variables and parses.
// That they read only metrics the agent exports
// is test/integration/monitoring.test.ts, against the running agent.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { type ScrapedState, createMetrics } from '../../agent/metrics.js';
import { DASHBOARD_PATH, renderDashboard } from '../../deploy/grafana/dashboard.js';
import { runToCompletion } from '../helpers/agent-process.js';
import {
  DASHBOARD_FILE,
  RULES_FILE,
  RULE_TESTS_FILE,
  allPanels,
  dashboardQueries,
  exportedNames,
  metricNames,
  readDashboard,
  readRules,
  requirePrometheusBinary,
  ruleQueries,
  unavailableNames,
} from '../helpers/monitoring-queries.js';

describe('promtool', () => {
  // Never skipped: test/run.sh installs promtool (test/install-prometheus.sh).
  const promtool = () => requirePrometheusBinary('promtool');

  test('check rules accepts the rules file', async () => {
    const r = await runToCompletion([promtool(), 'check', 'rules', RULES_FILE], 30_000);
    expect(r).toMatchObject({ code: 0 });
  });

  test("test rules passes the rules' unit tests", async () => {
    const r = await runToCompletion([promtool(), 'test', 'rules', RULE_TESTS_FILE], 60_000);
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('SUCCESS') });
  });

  // Grafana's editor is not Prometheus' parser: each panel's query, as a recording rule, goes
  // through the real one.
  test('check rules accepts every dashboard query as PromQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phalanx-dashboard-'));
    try {
      const rules = dashboardQueries().map((q, i) => ({ record: `dashboard_query_${i}`, expr: q.expr }));
      writeFileSync(join(dir, 'dashboard.rules.yml'), stringifyYaml({ groups: [{ name: 'dashboard', rules }] }));
      const r = await runToCompletion([promtool(), 'check', 'rules', join(dir, 'dashboard.rules.yml')], 30_000);
      expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the alert rules', () => {
  const rules = readRules();
  const alerts = rules.filter((r) => r.alert);

  test('each alert waits a while, has a severity and tells the operator what to do', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(9);
    for (const a of alerts) {
      expect({ alert: a.alert, for: a.for, severity: a.labels?.severity }).toEqual({
        alert: a.alert,
        for: expect.stringMatching(/^\d+[mh]$/),
        severity: expect.stringMatching(/^(page|ticket)$/),
      });
      expect(a.annotations?.summary).toBeTruthy();
      expect(a.annotations?.description).toMatch(/README's\s+Operating\s+section|scrape config/);
    }
  });

  test('each alert has a promtool case where it fires and one where it does not', () => {
    interface Case {
      alertname: string;
      exp_alerts?: unknown[];
    }
    const doc = parseYaml(readFileSync(RULE_TESTS_FILE, 'utf8')) as { tests: Array<{ alert_rule_test?: Case[] }> };
    const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    const seen = (fires: boolean) => new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0 === fires).map((c) => c.alertname));
    const names = alerts.map((a) => a.alert);
    expect(names.filter((n) => !seen(true).has(n!))).toEqual([]);
    expect(names.filter((n) => !seen(false).has(n!))).toEqual([]);
  });

  test('every expression is PromQL and names its metrics', () => {
    for (const q of ruleQueries(rules)) expect(metricNames(q.expr).length).toBeGreaterThan(0);
  });
});

describe('the dashboard', () => {
  const d = readDashboard() as ReturnType<typeof readDashboard> & {
    uid: string;
    templating: { list: Array<{ name: string; type: string; query?: unknown; multi?: boolean; includeAll?: boolean }> };
  };

  test('is what deploy/grafana/dashboard.ts writes now', () => {
    const [written, generated] = [readFileSync(DASHBOARD_FILE, 'utf8'), renderDashboard()];
    if (written === generated) return;
    const [a, b] = [written.split('\n'), generated.split('\n')];
    const line = a.findIndex((text, i) => text !== b[i]);
    throw new Error(
      `${DASHBOARD_PATH} is out of date with deploy/grafana/dashboard.ts: run \`npm run dashboard\` and commit the result.\n` +
        `First difference, line ${line + 1}:\n  file:      ${a[line]}\n  generated: ${b[line]}`,
    );
  });

  test('has a Prometheus data source variable and a multi-value instance variable', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toBe('phalanx-dns');
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.instance).toMatchObject({ type: 'query', multi: true, includeAll: true });
  });

  test('every panel asks the chosen data source, for the chosen instances, and has its own id', () => {
    const panels = allPanels(d.panels) as Array<{
      id: number;
      type: string;
      datasource?: { uid: string };
      targets?: Array<{ expr: string }>;
    }>;
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource?.uid).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.expr).toContain('instance=~"$instance"');
    }
  });

  test('covers what the issue asks: queries by route and rcode, latency, servers, stores, discovery', () => {
    const exprs = dashboardQueries(d)
      .map((q) => q.expr)
      .join('\n');
    for (const used of [
      'sum by (route, rcode)',
      'histogram_quantile(0.99',
      'phalanx_dns_server_up',
      'phalanx_dns_server_request_duration_seconds_bucket',
      'phalanx_dns_cache_lookups_total',
      'phalanx_dns_stale_store_bytes',
      'phalanx_dns_discovery_up',
      'phalanx_dns_tcp_max_connections',
    ]) {
      expect(exprs).toContain(used);
    }
  });

  test('every query is PromQL with a fixed metric name', () => {
    for (const q of dashboardQueries(d)) expect(metricNames(q.expr).length).toBeGreaterThan(0);
  });
});

describe('metricNames', () => {
  test('finds the selectors, not functions, keywords, label names or label values', () => {
    const expr =
      'sum by (job, instance) (rate(phalanx_dns_queries_total{rcode="SERVFAIL", route=~"mesos|up"}[5m]))' +
      ' / on (instance) group_left sum without (reason) (rate(phalanx_dns_stale_answers_total[5m] offset 1h))' +
      ' > 0.05 and histogram_quantile(0.9, sum by (le) (rate(x_seconds_bucket[5m]))) unless absent(up{job="phalanx-dns"})' +
      ' or {__name__="by_name"} or {"quoted.name", a="b"} or time() - ts_seconds';
    expect(metricNames(expr).sort()).toEqual([
      'by_name',
      'phalanx_dns_queries_total',
      'phalanx_dns_stale_answers_total',
      'quoted.name',
      'ts_seconds',
      'up',
      'x_seconds_bucket',
    ]);
  });

  test('throws on what is not PromQL, and on a selector without a fixed name', () => {
    expect(() => metricNames('rate(phalanx_dns_queries_total[$__rate_interval])')).toThrow(/not PromQL/);
    expect(() => metricNames('sum(rate(x_total[5m])')).toThrow(/not PromQL/);
    expect(() => metricNames('{__name__=~"phalanx_.*"}')).toThrow(/no fixed metric name/);
  });

  test('a misspelt metric in a rule is reported where it is', () => {
    const available = exportedNames('# TYPE phalanx_dns_queries_total counter\nphalanx_dns_queries_total{rcode="NOERROR"} 3\n');
    const queries = [{ where: 'rule Typo', expr: 'rate(phalanx_dns_querys_total[5m]) / rate(phalanx_dns_queries_total[5m])' }];
    expect(unavailableNames(queries, available)).toEqual(['rule Typo: phalanx_dns_querys_total']);
  });
});

describe('exportedNames', () => {
  test("a histogram's series are its _bucket, _sum and _count, with or without samples, not its bare name", () => {
    const names = exportedNames(
      [
        '# HELP d_seconds Time',
        '# TYPE d_seconds histogram',
        '# TYPE c_total counter',
        'c_total{zone="mesos"} 1',
        '# TYPE g gauge',
        'g 0',
        'alias_total 2',
      ].join('\n'),
    );
    expect([...names].sort()).toEqual(['alias_total', 'c_total', 'd_seconds_bucket', 'd_seconds_count', 'd_seconds_sum', 'g']);
  });
});

describe('the gauges the alerts read', () => {
  async function scrape(state: ScrapedState): Promise<string> {
    const m = createMetrics();
    m.readStateFrom(() => state);
    return m.text();
  }

  test('discovery: up by source, and the time of the last good report once there is one', async () => {
    const failing = await scrape({
      discovery: { source: 'zookeeper', state: 'error', updatedAt: '2026-01-02T03:04:05.000Z' },
      cache: null,
      staleStore: null,
      tcpMaxConnections: 256,
    });
    expect(failing).toContain('phalanx_dns_discovery_up{source="zookeeper"} 0');
    expect(failing).toContain(
      `phalanx_dns_discovery_last_success_timestamp_seconds{source="zookeeper"} ${Date.UTC(2026, 0, 2, 3, 4, 5) / 1000}`,
    );
    const connecting = await scrape({
      discovery: { source: 'file', state: 'connecting' },
      cache: null,
      staleStore: null,
      tcpMaxConnections: 1,
    });
    expect(connecting).toContain('phalanx_dns_discovery_up{source="file"} 0');
    expect(connecting).not.toMatch(/^phalanx_dns_discovery_last_success_timestamp_seconds/m);
  });

  test('store sizes and caps, 0 for a store that is off; the TCP cap', async () => {
    const text = await scrape({
      discovery: { source: 'static', state: 'ok' },
      cache: { entries: 12, maxEntries: 10_000 },
      staleStore: null,
      tcpMaxConnections: 256,
    });
    for (const line of [
      'phalanx_dns_discovery_up{source="static"} 1',
      'phalanx_dns_cache_entries 12',
      'phalanx_dns_cache_max_entries 10000',
      'phalanx_dns_stale_store_entries 0',
      'phalanx_dns_stale_store_max_entries 0',
      'phalanx_dns_stale_store_bytes 0',
      'phalanx_dns_stale_store_max_bytes 0',
      'phalanx_dns_tcp_max_connections 256',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });
});
