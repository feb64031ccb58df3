// The alert rules and the dashboard read only what the agent exports: every metric name in them is
// looked up in a real scrape of /v1/metrics (`up` alone comes from Prometheus), so a misspelt or
// renamed metric fails here instead of leaving an alert that can never fire.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { dashboardQueries, exportedNames, readRules, ruleQueries, unavailableNames } from '../helpers/monitoring-queries.js';

const HOST = '127.0.0.1';
let cluster: Cluster;
let agent: AgentProcess;
let scraped: string;

beforeAll(async () => {
  cluster = await startCluster({ masters: 2, upstreams: 1, bigTasks: 0 });
  agent = await AgentProcess.start(
    cluster.config({ cache: { enabled: true, maxEntries: 500 }, serveStale: { enabled: true, maxEntries: 300, maxBytes: 1_048_576 } }),
  );
  // A few queries of each route, so that the labelled families have samples too.
  for (const name of ['ready.spartan', 'nginx.marathon.mesos', 'www.example.org', 'www.example.org'])
    await dig(HOST, cluster.listenPort, name);
  const res = await fetch(`http://127.0.0.1:${cluster.httpPort}/v1/metrics`);
  expect(res.status).toBe(200);
  scraped = await res.text();
});
afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
});

describe('metric names in deploy/prometheus and deploy/grafana', () => {
  const available = () => {
    const names = exportedNames(scraped);
    // Prometheus writes `up` for each scrape; recording rules add their own series.
    names.add('up');
    for (const r of readRules()) if (r.record) names.add(r.record);
    return names;
  };

  test('every metric the alert rules read is one the agent exports', () => {
    expect(unavailableNames(ruleQueries(), available())).toEqual([]);
  });

  test('every metric the dashboard reads is one the agent exports', () => {
    expect(unavailableNames(dashboardQueries(), available())).toEqual([]);
  });
});

describe('the gauges the alerts read, from the running agent', () => {
  const samples = () => scraped.split('\n');

  test('discovery, store caps and the TCP cap come from its state and config', () => {
    for (const line of [
      'phalanx_dns_discovery_up{source="static"} 1',
      'phalanx_dns_cache_max_entries 500',
      'phalanx_dns_stale_store_max_entries 300',
      'phalanx_dns_stale_store_max_bytes 1048576',
      'phalanx_dns_tcp_max_connections 256',
    ]) {
      expect(samples()).toContain(line);
    }
    // www.example.org once, kept in both stores (the Mesos name too in the stale store).
    const value = (name: string) =>
      Number(
        samples()
          .find((l) => l.startsWith(`${name} `))
          ?.split(' ')[1],
      );
    expect(value('phalanx_dns_cache_entries')).toBeGreaterThanOrEqual(1);
    expect(value('phalanx_dns_stale_store_entries')).toBeGreaterThanOrEqual(1);
    expect(value('phalanx_dns_stale_store_bytes')).toBeGreaterThan(0);
  });
});
