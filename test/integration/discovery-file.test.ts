// Masters from a DC/OS master_list file: followed without a restart, and never lost to a bad
// read of the file.
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess } from '../helpers/agent-process.js';
import { mastersAsked, startMastersOnOnePort } from '../helpers/cluster.js';
import { dig } from '../helpers/dig.js';
import type { FakeDnsServer } from '../../sim/fake-dns.js';
import { freePort } from '../../sim/ports.js';
import { sleep, waitFor } from '../helpers/time.js';

const HOST = '127.0.0.1';
const dir = mkdtempSync(join(tmpdir(), 'phalanx-masterlist-'));
const listFile = join(dir, 'master_list');
let masters: FakeDnsServer[];
let mesosPort: number;
let agent: AgentProcess;
let listenPort: number;
let httpPort: number;

function writeList(content: unknown): void {
  // Write then rename, as an operator's tool would: the agent never reads half a file.
  writeFileSync(listFile + '.tmp', typeof content === 'string' ? content : JSON.stringify(content));
  renameSync(listFile + '.tmp', listFile);
}

async function enumerate(): Promise<{
  discovery: Record<string, unknown>;
  mesos: { masters: Array<{ address: string }> };
  zookeeper: string[];
}> {
  return (await fetch(`http://${HOST}:${httpPort}/v1/enumerate`)).json() as never;
}

function askedMasters(): string[] {
  return masters.filter((m) => m.queryCount() > 0).map((m) => m.address);
}

beforeAll(async () => {
  ({ port: mesosPort, masters } = await startMastersOnOnePort(['127.0.0.11', '127.0.0.12', '127.0.0.13']));
  listenPort = await freePort(HOST);
  httpPort = await freePort(HOST);
  // Start with no file at all: the agent must serve its local zones at once.
  agent = await AgentProcess.start({
    listen: [`${HOST}:${listenPort}`],
    http: { listen: `${HOST}:${httpPort}` },
    mesos: { masterListFile: listFile, port: mesosPort, refreshMs: 300, retryMs: 100 },
    timeoutMs: 800,
    cache: { enabled: false }, // these tests count which masters are asked
    log: { level: 'debug' },
  });
});
afterAll(async () => {
  await agent?.stop();
  await Promise.all(masters.map((m) => m.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('master list file', () => {
  test('starting before the file exists: local zones answer, Mesos names SERVFAIL', async () => {
    expect((await dig(HOST, listenPort, 'ready.spartan')).status).toBe('NOERROR');
    expect((await dig(HOST, listenPort, 'nginx.marathon.mesos')).status).toBe('SERVFAIL');
    const line = await agent.waitForLog((l) => /master discovery failed/.test(l.msg));
    expect(String(line.err)).toContain(`cannot read ${listFile}: ENOENT`);
    expect((await enumerate()).discovery.state).toBe('error');
  });

  test('the file appears: its masters answer, and the zk zone follows them', async () => {
    writeList(['127.0.0.11']);
    const line = await agent.waitForLog((l) => /masters changed/.test(l.msg));
    expect(line.added).toEqual([`127.0.0.11:${mesosPort}`]);
    const r = await dig(HOST, listenPort, 'nginx.marathon.mesos');
    expect(r.status).toBe('NOERROR');
    expect(askedMasters()).toEqual(['127.0.0.11']);
    expect((await dig(HOST, listenPort, 'zk-1.zk')).answers[0].data).toBe('127.0.0.11');
    expect((await enumerate()).discovery).toEqual(expect.objectContaining({ source: 'file', state: 'ok', masters: ['127.0.0.11'] }));
  });

  test('a changed file moves queries to the new masters without a restart; one line per change', async () => {
    writeList(['127.0.0.12', '127.0.0.13']);
    const line = await agent.waitForLog((l) => /masters changed/.test(l.msg) && (l.removed as string[]).length === 1);
    expect(line.added).toEqual([`127.0.0.12:${mesosPort}`, `127.0.0.13:${mesosPort}`]);
    expect(line.removed).toEqual([`127.0.0.11:${mesosPort}`]);
    expect((await enumerate()).mesos.masters.map((m) => m.address)).toEqual([`127.0.0.12:${mesosPort}`, `127.0.0.13:${mesosPort}`]);
    const asked = await mastersAsked(masters, ['127.0.0.12', '127.0.0.13'], async () => {
      expect((await dig(HOST, listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    });
    expect(asked).toEqual(['127.0.0.12', '127.0.0.13']);
    // Unchanged re-reads (every 300 ms) log nothing more: a couple of them go by.
    await sleep(700);
    expect(agent.logs.filter((l) => /masters changed/.test(l.msg))).toHaveLength(2);
  });

  test('queries flowing while the list changes all succeed', async () => {
    let flipping = true;
    const flipper = (async () => {
      for (let i = 0; i < 12 && flipping; i++) {
        writeList(i % 2 ? ['127.0.0.12', '127.0.0.13'] : ['127.0.0.11', '127.0.0.13']);
        await sleep(150); // a change every half re-read, while the queries run
      }
    })();
    const statuses: string[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await dig(HOST, listenPort, 'nginx.marathon.mesos')).status);
    flipping = false;
    await flipper;
    expect(statuses).toEqual(Array(30).fill('NOERROR'));
    writeList(['127.0.0.12', '127.0.0.13']);
    const settled = [`127.0.0.12:${mesosPort}`, `127.0.0.13:${mesosPort}`];
    await waitFor(async () => JSON.stringify((await enumerate()).mesos.masters.map((m) => m.address)) === JSON.stringify(settled), {
      timeoutMs: 3000,
      everyMs: 50,
    });
  });

  test.each([
    ['malformed JSON', '["127.0.0.11"', 'not valid JSON'],
    ['an empty list', [], 'is empty'],
    ['a hostname', ['master1.example.com'], 'not an IP address'],
    ['no file', undefined, 'ENOENT'],
  ])('%s keeps the last good list, logged once', async (_, content, reason) => {
    const from = agent.logs.length;
    const fresh = (l: object) => agent.logs.indexOf(l as never) >= from;
    if (content === undefined) unlinkSync(listFile);
    else writeList(content);
    const line = await agent.waitForLog((l) => fresh(l) && /master discovery failed/.test(l.msg) && String(l.err).includes(reason));
    expect(line.level).toBe('warn');
    expect(line.keptMasters).toEqual([`127.0.0.12:${mesosPort}`, `127.0.0.13:${mesosPort}`]);
    await sleep(500); // several more failed reads, none logged
    expect(agent.logs.filter((l) => fresh(l) && /master discovery failed/.test(l.msg))).toHaveLength(1);
    expect((await dig(HOST, listenPort, 'nginx.marathon.mesos')).status).toBe('NOERROR');
    const e = await enumerate();
    expect(e.mesos.masters.map((m) => m.address)).toEqual([`127.0.0.12:${mesosPort}`, `127.0.0.13:${mesosPort}`]);
    expect(e.discovery.state).toBe('error');
    // Put the good file back so the next case starts from a known state.
    writeList(['127.0.0.12', '127.0.0.13']);
    await agent.waitForLog((l) => fresh(l) && /recovered/.test(l.msg));
  });
});
