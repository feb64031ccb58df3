// Masters and ZooKeepers from Exhibitor's cluster status, through every way Exhibitor fails.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { startMastersOnOnePort } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import { ExhibitorFixture } from '../helpers/exhibitor.js';
import type { FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';

const HOST = '127.0.0.1';
let masters: FakeDnsServer[];
let mesosPort: number;
let exhibitor: ExhibitorFixture;
let agent: AgentProcess;
let listenPort: number;
let httpPort: number;

async function enumerate(): Promise<{ discovery: Record<string, unknown>; mesos: { masters: Array<{ address: string }> } }> {
  return (await fetch(`http://${HOST}:${httpPort}/v1/enumerate`)).json() as never;
}

beforeAll(async () => {
  ({ port: mesosPort, masters } = await startMastersOnOnePort(['127.0.0.11', '127.0.0.12', '127.0.0.13']));
  exhibitor = await ExhibitorFixture.start({ host: '127.0.0.8', servers: ['127.0.0.11', '127.0.0.12', '127.0.0.13'], leader: 1 });
  listenPort = await freePort(HOST);
  httpPort = await freePort(HOST);
  agent = await AgentProcess.start({
    listen: [`${HOST}:${listenPort}`],
    http: { listen: `${HOST}:${httpPort}` },
    mesos: { exhibitorUrl: exhibitor.baseUrl, port: mesosPort, refreshMs: 300, retryMs: 100, requestTimeoutMs: 400 },
    timeoutMs: 800,
    cache: { enabled: false }, // these tests count which masters are asked
    log: { level: 'debug' },
  });
  await agent.waitForLog((l) => /masters changed/.test(l.msg));
});
afterAll(async () => {
  await agent?.stop();
  await exhibitor?.stop();
  await Promise.all((masters ?? []).map((m) => m.stop()));
});

describe('Exhibitor', () => {
  test('the status hostnames are the masters and the zk zone; the leader is known', async () => {
    expect((await dig(HOST, listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    const zk = [];
    for (let i = 1; i <= 5; i++) zk.push((await dig(HOST, listenPort, `zk-${i}.zk`)).answers[0].data);
    expect(zk).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.11', '127.0.0.12']);
    const e = await enumerate();
    expect(e.discovery).toEqual(expect.objectContaining({ source: 'exhibitor', state: 'ok', leader: '127.0.0.12' }));
    expect(e.mesos.masters.map((m) => m.address)).toEqual(['11', '12', '13'].map((n) => `127.0.0.${n}:${mesosPort}`));
  });

  test('a master leaving the status is dropped; the agent stops asking it', async () => {
    const from = agent.logs.length;
    exhibitor.setServers(['127.0.0.12', '127.0.0.13'], 0);
    const line = await agent.waitForLog((l) => agent.logs.indexOf(l) >= from && /masters changed/.test(l.msg));
    expect(line.removed).toEqual([`127.0.0.11:${mesosPort}`]);
    masters[0].resetQueries();
    for (let i = 0; i < 6; i++) expect((await dig(HOST, listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    expect(masters[0].queryCount()).toBe(0);
  });

  test.each([
    ['HTTP 500', (x: ExhibitorFixture) => x.setStatus(500), 'answered HTTP 500'],
    ['malformed JSON', (x: ExhibitorFixture) => x.setBody('[{"hostname": '), 'not valid JSON'],
    ['an empty list', (x: ExhibitorFixture) => x.setBody('[]'), 'is empty'],
    ['a non-IP hostname', (x: ExhibitorFixture) => x.setBody('[{"hostname":"master-1.internal","code":3}]'), 'not an IP address'],
    ['a hung Exhibitor', (x: ExhibitorFixture) => x.setHang(true), 'no answer within 400 ms'],
  ])('%s keeps the last good list, logged once, and recovers', async (_, breakIt, reason) => {
    const from = agent.logs.length;
    const fresh = (l: object) => agent.logs.indexOf(l as never) >= from;
    breakIt(exhibitor);
    const line = await agent.waitForLog((l) => fresh(l) && /master discovery failed/.test(l.msg));
    expect(String(line.err)).toContain(reason);
    expect(line.keptMasters).toEqual([`127.0.0.12:${mesosPort}`, `127.0.0.13:${mesosPort}`]);
    await new Promise((r) => setTimeout(r, 600)); // more failed polls, no more log lines
    expect(agent.logs.filter((l) => fresh(l) && /master discovery failed/.test(l.msg))).toHaveLength(1);
    expect((await dig(HOST, listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    expect((await enumerate()).discovery).toEqual(expect.objectContaining({ state: 'error', detail: expect.stringContaining(reason) }));
    exhibitor.setHang(false);
    exhibitor.setServers(['127.0.0.12', '127.0.0.13'], 0);
    await agent.waitForLog((l) => fresh(l) && /recovered/.test(l.msg), 8000);
    expect((await enumerate()).discovery.state).toBe('ok');
  });
});
