// Masters and ZooKeepers on IPv6: a real ZooKeeper on ::1 that the agent reaches as
// zk://[::1]:port/mesos, a master registered there with an IPv6 MasterInfo address, and a
// master_list file of IPv6 addresses; the Mesos names then go to the master over IPv6, and the zk
// zone answers AAAA. Everything on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Client } from 'node-zookeeper-client';
import { createZooKeeperClient } from '../../agent/discovery/zookeeper.js';
import { parseEndpoint } from '../../common/config/endpoint.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { NGINX_IPS, startMastersOnOnePort } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { ZooKeeperEnsemble, closeZk, registerMaster } from '../helpers/zookeeper.js';
import type { FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';

const HOST = '127.0.0.1';
let masters: FakeDnsServer[];
let mesosPort: number;
let dir: string;

beforeAll(async () => {
  ({ port: mesosPort, masters } = await startMastersOnOnePort(['::1']));
  dir = mkdtempSync(join(tmpdir(), 'phalanx-discovery-ipv6-'));
});
afterAll(async () => {
  await Promise.all((masters ?? []).map((m) => m.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startAgent(mesos: Record<string, unknown>): Promise<{ agent: AgentProcess; port: number }> {
  const port = await freePort(HOST);
  const agent = await AgentProcess.start({
    listen: [`${HOST}:${port}`],
    http: { enabled: false },
    mesos: { port: mesosPort, refreshMs: 3000, retryMs: 200, requestTimeoutMs: 1500, zkSessionTimeoutMs: 4000, ...mesos },
    timeoutMs: 800,
    log: { level: 'debug' },
  });
  return { agent, port };
}

describe('a ZooKeeper on ::1', () => {
  let zk: ZooKeeperEnsemble;
  let registrar: Client;

  beforeAll(async () => {
    zk = await ZooKeeperEnsemble.start({ hosts: ['::1'] });
    registrar = createZooKeeperClient([parseEndpoint(`[::1]:${zk.members[0].clientPort}`)!], { sessionTimeout: 5000, retries: 0 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('could not connect to ZooKeeper on ::1 within 10 s')), 10_000);
      registrar.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      registrar.connect();
    });
  }, 60_000);

  afterAll(async () => {
    if (registrar) await closeZk(registrar);
    await zk?.stopAll();
  });

  test('the agent connects over IPv6, learns the IPv6 master and sends it the Mesos names', async () => {
    await registerMaster(registrar, { ip: '::1' });
    const { agent, port } = await startAgent({ zookeeper: `zk://[::1]:${zk.members[0].clientPort}/mesos` });
    try {
      const changed = await agent.waitForLog((l) => /masters changed/.test(l.msg), 15_000);
      expect(changed).toMatchObject({ masters: ['::1'], added: [`[::1]:${mesosPort}`] });
      const answer = await dig(HOST, port, 'nginx.marathon.mesos');
      expect(answer.status).toBe('NOERROR');
      expect(NGINX_IPS).toContain(answer.answers[0].data);
      // The ensemble from the URL's hosts (a standalone server's /zookeeper/config is empty).
      expect((await dig(HOST, port, 'zk-1.zk', 'AAAA')).answers.map((a) => a.data)).toEqual(['::1']);
    } finally {
      await agent.stop();
    }
  }, 60_000);
});

test('a master_list file of IPv6 addresses: the Mesos names go to the master over IPv6', async () => {
  const file = join(dir, 'master_list');
  writeFileSync(file, JSON.stringify(['0:0:0:0:0:0:0:1']));
  const { agent, port } = await startAgent({ masterListFile: file });
  try {
    const changed = await agent.waitForLog((l) => /masters changed/.test(l.msg), 15_000);
    expect(changed).toMatchObject({ masters: ['::1'], added: [`[::1]:${mesosPort}`] });
    expect(NGINX_IPS).toContain((await dig(HOST, port, 'nginx.marathon.mesos')).answers[0].data);
  } finally {
    await agent.stop();
  }
});
