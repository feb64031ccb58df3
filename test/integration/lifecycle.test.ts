// Signals as systemd and operators send them: SIGHUP reloads (a broken file keeps the running
// config), SIGTERM lets in-flight queries finish and exits 0.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';
import { waitFor } from '../helpers/time.js';

const HOST = '127.0.0.1';
let cluster: Cluster;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  cluster = await startCluster({ masters: 1, upstreams: 1, bigTasks: 0 });
});
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});
afterAll(async () => {
  await cluster?.stop();
});

describe('SIGHUP', () => {
  test('reloads the config: new upstreams are used at once', async () => {
    const other = await FakeDnsServer.start({
      address: '127.0.0.25',
      zone: 'example.org',
      records: [{ name: 'www.example.org', type: 'A', ttl: 60, data: '192.0.2.99' }],
    });
    try {
      agent = await AgentProcess.start(cluster.config());
      expect((await dig(HOST, cluster.listenPort, 'www.example.org')).answers[0].data).toBe('192.0.2.80');
      agent.rewriteConfig(cluster.config({ upstreams: [other.endpoint] }));
      agent.signal('SIGHUP');
      await agent.waitForLog((l) => l.msg === 'config reloaded');
      expect((await dig(HOST, cluster.listenPort, 'www.example.org')).answers[0].data).toBe('192.0.2.99');
    } finally {
      await other.stop();
    }
  });

  test('a broken file is logged with what to do, and the running config is kept', async () => {
    agent = await AgentProcess.start(cluster.config());
    agent.rewriteConfig('{"listen": [');
    agent.signal('SIGHUP');
    const line = await agent.waitForLog((l) => /reload failed/.test(l.msg));
    expect(line.level).toBe('error');
    expect(String(line.err)).toContain('not valid JSON');
    expect(line.msg).toContain('keeping the running config');
    agent.rewriteConfig(cluster.config({ upstreams: ['not-an-ip'] }));
    agent.signal('SIGHUP');
    await agent.waitForLog((l) => /reload failed/.test(l.msg) && String(l.err).includes('upstreams[0]'));
    expect((await dig(HOST, cluster.listenPort, 'www.example.org')).answers[0].data).toBe('192.0.2.80');
    expect((await dig(HOST, cluster.listenPort, 'ready.spartan')).status).toBe('NOERROR');
  });
});

describe('SIGTERM', () => {
  test('a query in flight is still answered, then the agent exits 0 and stops listening', async () => {
    agent = await AgentProcess.start(cluster.config());
    cluster.masters[0].resetQueries();
    cluster.masters[0].setBehaviour({ kind: 'slow', delayMs: 400 });
    try {
      const pending = dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      // Signal only once the query is waiting on the master.
      await waitFor(() => cluster.masters[0].queryCount() > 0, { timeoutMs: 2000 });
      expect(cluster.masters[0].queryCount()).toBeGreaterThan(0);
      agent.signal('SIGTERM');
      const r = await pending;
      expect(r.status).toBe('NOERROR');
      expect(await agent.waitForExit()).toBe(0);
      await expect(dig(HOST, cluster.listenPort, 'ready.spartan', 'A', [], { timeoutSec: 1 })).rejects.toThrow(/timed out|no servers/);
    } finally {
      cluster.masters[0].setBehaviour({ kind: 'answer' });
    }
  });

  test('logs a start-up line with the listen addresses, masters and upstreams', async () => {
    agent = await AgentProcess.start(cluster.config({ log: { level: 'info' } }));
    const line = await agent.waitForLog((l) => l.msg === 'phalanx-dns listening');
    expect(line.listen).toEqual([`127.0.0.1:${cluster.listenPort}`]);
    expect(line.masters).toEqual([cluster.masters[0].endpoint]);
    expect(line.upstreams).toEqual([cluster.upstreams[0].endpoint]);
  });
});
