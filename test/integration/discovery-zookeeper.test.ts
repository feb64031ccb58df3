// Masters from a real ZooKeeper, registered the way Mesos registers them (ephemeral sequential
// json.info_ znodes holding MasterInfo JSON), through deletions, outages and a leader failover.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess, type LogLine } from '../helpers/agent-process.js';
import { mastersAsked, startMastersOnOnePort } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import type { FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';
import { ZooKeeperEnsemble, closeMaster, deleteMaster, registerMaster } from '../helpers/zookeeper.js';

const HOST = '127.0.0.1';
let masters: FakeDnsServer[];
let mesosPort: number;

beforeAll(async () => {
  ({ port: mesosPort, masters } = await startMastersOnOnePort(['127.0.0.11', '127.0.0.12', '127.0.0.13']));
});
afterAll(async () => {
  await Promise.all((masters ?? []).map((m) => m.stop()));
});

interface Running {
  agent: AgentProcess;
  listenPort: number;
  httpPort: number;
}

async function startAgent(connectString: string): Promise<Running> {
  const listenPort = await freePort(HOST);
  const httpPort = await freePort(HOST);
  const agent = await AgentProcess.start({
    listen: [`${HOST}:${listenPort}`],
    http: { listen: `${HOST}:${httpPort}` },
    mesos: {
      zookeeper: `zk://${connectString}/mesos`,
      port: mesosPort,
      refreshMs: 3000,
      retryMs: 200,
      requestTimeoutMs: 1500,
      zkSessionTimeoutMs: 4000,
    },
    timeoutMs: 800,
    cache: { enabled: false }, // these tests count which masters are asked
    log: { level: 'debug' },
  });
  return { agent, listenPort, httpPort };
}

/** A ZooKeeper with masters registered, and an agent that has learned them. */
async function ensembleWithMasters(size: 1 | 3, ips: string[]): Promise<{ zk: ZooKeeperEnsemble; r: Running }> {
  const zk = await ZooKeeperEnsemble.start({ size });
  for (const ip of ips) await registerMaster(zk.connectString, { ip });
  const r = await startAgent(zk.connectString);
  await r.agent.waitForLog((l) => /masters changed/.test(l.msg), 15_000);
  return { zk, r };
}

/** Waits for a log line that appears after `from` (an index into agent.logs). */
function nextLog(agent: AgentProcess, from: number, pred: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
  return agent.waitForLog((l) => agent.logs.indexOf(l) >= from && pred(l), timeoutMs);
}

async function currentMasters(r: Running): Promise<string[]> {
  const e = (await (await fetch(`http://${HOST}:${r.httpPort}/v1/enumerate`)).json()) as { mesos: { masters: Array<{ address: string }> } };
  return e.mesos.masters.map((m) => m.address.replace(`:${mesosPort}`, ''));
}

/** The masters queries reach, asking until each of `expected` was reached (a bounded number of times). */
function askedMasters(r: Running, expected: string[]): Promise<string[]> {
  return mastersAsked(masters, expected, async () => {
    expect((await dig(HOST, r.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
  });
}

describe('one ZooKeeper server', () => {
  let zk: ZooKeeperEnsemble;
  let r: Running;
  const paths: Record<string, string> = {};

  beforeAll(async () => {
    zk = await ZooKeeperEnsemble.start({ size: 1 });
    r = await startAgent(zk.connectString);
  });
  afterAll(async () => {
    await r?.agent.stop();
    await zk?.stopAll();
  });

  test('before any master registers: local zones answer, Mesos names SERVFAIL, the reason is logged', async () => {
    expect((await dig(HOST, r.listenPort, 'ready.spartan')).status).toBe('NOERROR');
    expect((await dig(HOST, r.listenPort, 'nginx.marathon.mesos')).status).toBe('SERVFAIL');
    const line = await nextLog(r.agent, 0, (l) => /master discovery failed/.test(l.msg));
    expect(String(line.err)).toMatch(/does not exist|no Mesos master is registered/);
  });

  test('registered masters are used, leader first; the zk zone comes from the connection string', async () => {
    const from = r.agent.logs.length;
    paths['11'] = await registerMaster(zk.connectString, { ip: '127.0.0.11' });
    paths['12'] = await registerMaster(zk.connectString, { ip: '127.0.0.12' });
    await nextLog(r.agent, from, (l) => /masters changed/.test(l.msg) && (l.masters as string[]).length === 2);
    expect(await currentMasters(r)).toEqual(['127.0.0.11', '127.0.0.12']);
    expect(await askedMasters(r, ['127.0.0.11', '127.0.0.12'])).toEqual(['127.0.0.11', '127.0.0.12']);
    expect((await dig(HOST, r.listenPort, 'zk-1.zk')).answers[0].data).toBe('127.0.0.1');
    const e = (await (await fetch(`http://${HOST}:${r.httpPort}/v1/enumerate`)).json()) as { discovery: Record<string, unknown> };
    expect(e.discovery).toEqual(expect.objectContaining({ source: 'zookeeper', state: 'ok', leader: '127.0.0.11' }));
  });

  test('a deleted master znode is dropped at once (the watch fires); a new one is picked up', async () => {
    let from = r.agent.logs.length;
    await deleteMaster(paths['11']);
    const gone = await nextLog(r.agent, from, (l) => /masters changed/.test(l.msg));
    expect(gone.removed).toEqual([`127.0.0.11:${mesosPort}`]);
    expect(await currentMasters(r)).toEqual(['127.0.0.12']);
    expect(await askedMasters(r, ['127.0.0.12'])).toEqual(['127.0.0.12']);
    from = r.agent.logs.length;
    paths['13'] = await registerMaster(zk.connectString, { ip: '127.0.0.13' });
    const came = await nextLog(r.agent, from, (l) => /masters changed/.test(l.msg));
    expect(came.added).toEqual([`127.0.0.13:${mesosPort}`]);
  });

  test('a master whose session ends (it died) disappears too', async () => {
    const from = r.agent.logs.length;
    await closeMaster(paths['13']);
    await nextLog(r.agent, from, (l) => /masters changed/.test(l.msg) && (l.removed as string[]).length === 1);
    expect(await currentMasters(r)).toEqual(['127.0.0.12']);
    paths['13'] = await registerMaster(zk.connectString, { ip: '127.0.0.13' });
    await nextLog(r.agent, from, (l) => /masters changed/.test(l.msg) && (l.added as string[]).length === 1);
  });

  test('garbage MasterInfo next to good ones does not disturb the good ones', async () => {
    const bad = await registerMaster(zk.connectString, { ip: '127.0.0.14', data: 'not json at all' });
    await new Promise((res) => setTimeout(res, 500));
    expect(await currentMasters(r)).toEqual(['127.0.0.12', '127.0.0.13']);
    await closeMaster(bad);
  });

  test('ZooKeeper stopped: the agent keeps serving with the last list; started again: updates resume', async () => {
    const from = r.agent.logs.length;
    await zk.stop(0);
    const lost = await nextLog(r.agent, from, (l) => /master discovery failed/.test(l.msg));
    expect(lost.keptMasters).toEqual([`127.0.0.12:${mesosPort}`, `127.0.0.13:${mesosPort}`]);
    expect(await askedMasters(r, ['127.0.0.12', '127.0.0.13'])).toEqual(['127.0.0.12', '127.0.0.13']);
    expect(await currentMasters(r)).toEqual(['127.0.0.12', '127.0.0.13']);

    await zk.startMember(0);
    const back = r.agent.logs.length;
    await registerMaster(zk.connectString, { ip: '127.0.0.11' });
    await nextLog(r.agent, back, (l) => /masters changed/.test(l.msg) && (l.masters as string[]).includes('127.0.0.11'), 20_000);
    expect(await currentMasters(r)).toContain('127.0.0.11');
  });
});

describe('session expiry', () => {
  let zk: ZooKeeperEnsemble;
  let r: Running;

  beforeAll(async () => {
    ({ zk, r } = await ensembleWithMasters(1, ['127.0.0.12']));
  });
  afterAll(async () => {
    await r?.agent.stop();
    await zk?.stopAll();
  });

  test('a ZooKeeper rebuilt with an empty database: a new session, and updates resume', async () => {
    const from = r.agent.logs.length;
    await zk.stop(0);
    // A server that lost its sessions (here: its data wiped) tells the reconnecting client that
    // its session expired, as one does after a long partition.
    rmSync(join(zk.members[0].dataDir, 'version-2'), { recursive: true, force: true });
    await zk.startMember(0);
    // The old session cannot come back: either the server says it expired, or (having seen
    // newer transactions than this empty server) the client is refused until a new one starts.
    const expired = await nextLog(r.agent, from, (l) => /session expired|starting a new session/.test(l.msg), 20_000);
    expect(expired.level).toBe('warn');
    expect((await dig(HOST, r.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    await registerMaster(zk.connectString, { ip: '127.0.0.13' });
    await nextLog(r.agent, from, (l) => /masters changed/.test(l.msg) && (l.masters as string[]).includes('127.0.0.13'), 20_000);
    expect(await currentMasters(r)).toEqual(['127.0.0.13']);
  });
});

describe('a three-node ensemble', () => {
  let zk: ZooKeeperEnsemble;
  let r: Running;

  beforeAll(async () => {
    ({ zk, r } = await ensembleWithMasters(3, ['127.0.0.11', '127.0.0.12']));
  });
  afterAll(async () => {
    await r?.agent.stop();
    await zk?.stopAll();
  });

  test('zk-1 … zk-5 name the ensemble', async () => {
    const ips = [];
    for (let i = 1; i <= 5; i++) ips.push((await dig(HOST, r.listenPort, `zk-${i}.zk`)).answers[0].data);
    expect(ips).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.1', '127.0.0.2']);
  });

  test('killing the ZooKeeper leader: the agent keeps serving and follows later changes', async () => {
    const leader = await zk.leaderIndex();
    expect(leader).toBeDefined();
    await zk.stop(leader!);
    // Answers never stop: the master list is held while the client finds another server.
    for (let i = 0; i < 5; i++) expect((await dig(HOST, r.listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    await zk.waitForQuorum();
    const from = r.agent.logs.length;
    await registerMaster(zk.connectString, { ip: '127.0.0.13' });
    await nextLog(r.agent, from, (l) => /masters changed/.test(l.msg) && (l.added as string[]).includes(`127.0.0.13:${mesosPort}`), 20_000);
    expect(await currentMasters(r)).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    expect(await askedMasters(r, ['127.0.0.11', '127.0.0.12', '127.0.0.13'])).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
  });
});
