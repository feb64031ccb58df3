// The demo behind `npm start`, as a newcomer meets it: the built demo as a real process, dug at
// through the agent it starts. Expectations come from the fixture itself (the tasks' IPs and
// ports as the Mesos state lists them). Everything runs on its own ports and on 127.0.0.111–122,
// so a developer's running demo (127.0.0.1:5353, 127.0.0.11–22) is never disturbed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { REPO_ROOT, runToCompletion } from '../helpers/agent-process.js';
import { dig } from '../helpers/dig.js';
import { bindUdpAndTcp, freePort } from '../../sim/ports.js';
import { waitFor } from '../helpers/time.js';

const DEMO_MAIN = join(REPO_ROOT, 'dist/demo/main.js');
const HOST = '127.0.0.1';
// The agent's per-server deadline in the demo's config.
const TIMEOUT_MS: number = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/demo/phalanx.json'), 'utf8')).timeoutMs ?? 2000;

// ---- what the fixture says ------------------------------------------------------------------------

interface FixtureTask {
  name: string;
  state: string;
  statuses: Array<{
    state: string;
    timestamp: number;
    container_status?: { network_infos?: Array<{ ip_addresses?: Array<{ ip_address: string }> }> };
  }>;
  discovery?: { ports?: { ports?: Array<{ number: number; protocol: string }> } };
}
const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/demo/mesos-state.json'), 'utf8'));
const nginxTasks: FixtureTask[] = fixture.frameworks
  .find((f: { name: string }) => f.name === 'marathon')
  .tasks.filter((t: FixtureTask) => t.name === 'nginx' && t.state === 'TASK_RUNNING');
const NGINX_IPS = nginxTasks
  .map((t) => {
    const running = t.statuses.filter((s) => s.state === 'TASK_RUNNING').sort((a, b) => b.timestamp - a.timestamp)[0];
    return running.container_status!.network_infos![0].ip_addresses![0].ip_address;
  })
  .sort();
const NGINX_TCP_PORTS = nginxTasks
  .flatMap((t) => t.discovery!.ports!.ports!.filter((p) => p.protocol === 'tcp').map((p) => p.number))
  .sort();
const LEADER_IP = /@([\d.]+):/.exec(fixture.leader)![1];

// ---- the demo process -----------------------------------------------------------------------------

class DemoProcess {
  output = '';
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (c) => (this.output += c));
    child.stderr!.on('data', (c) => (this.output += c));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  async waitForOutput(text: string, timeoutMs: number): Promise<void> {
    const printed = await waitFor(
      () => {
        if (this.output.includes(text)) return true;
        if (this.exitCode !== null) throw new Error(`demo exited (${this.exitCode}) before printing "${text}":\n${this.output}`);
        return false;
      },
      { timeoutMs, everyMs: 50 },
    );
    if (!printed) throw new Error(`demo did not print "${text}" within ${timeoutMs} ms:\n${this.output}`);
  }

  waitForExit(timeoutMs: number): Promise<number | null> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`demo still running after ${timeoutMs} ms:\n${this.output}`)), timeoutMs).unref(),
      ),
    ]);
  }
}

function runDemoCli(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runToCompletion([process.execPath, DEMO_MAIN, ...args], timeoutMs);
}

function request(port: number, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, method, path, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('control request timed out')));
    req.on('error', reject);
    req.end();
  });
}

// ---- set-up ---------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'phalanx-demo-test-'));
const configPath = join(dir, 'phalanx.json');
const MASTER_HOSTS = ['127.0.0.111', '127.0.0.112', '127.0.0.113'];
const UPSTREAM_HOSTS = ['127.0.0.121', '127.0.0.122'];
let listenPort: number;
let httpPort: number;
let controlPort: number;
let masterPorts: number[];
let upstreamPorts: number[];
let demo: DemoProcess;
let agentPid: number | undefined;

beforeAll(async () => {
  listenPort = await freePort(HOST);
  httpPort = await freePort(HOST);
  controlPort = await freePort(HOST);
  masterPorts = [];
  for (const h of MASTER_HOSTS) masterPorts.push(await freePort(h));
  upstreamPorts = [];
  for (const h of UPSTREAM_HOSTS) upstreamPorts.push(await freePort(h));
  // The demo's own config, moved to these addresses. The Mesos answer cache is off, so that every
  // query below really goes to the masters and failover is what is measured.
  const base = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/demo/phalanx.json'), 'utf8'));
  writeFileSync(
    configPath,
    JSON.stringify({
      ...base,
      listen: [`${HOST}:${listenPort}`],
      upstreams: UPSTREAM_HOSTS.map((h, i) => `${h}:${upstreamPorts[i]}`),
      mesos: { ...base.mesos, masters: MASTER_HOSTS.map((h, i) => `${h}:${masterPorts[i]}`) },
      health: { ...base.health, probeIntervalMs: 200 },
      cache: { ...base.cache, mesosMaxTtlSec: 0 },
      http: { ...base.http, listen: `${HOST}:${httpPort}` },
    }),
  );
  demo = new DemoProcess(
    spawn(process.execPath, [DEMO_MAIN, '--config', configPath, '--control', `${HOST}:${controlPort}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await demo.waitForOutput('Ctrl-C stops', 20_000);
  agentPid = (await request(controlPort, 'GET', '/')).body.agent.pid;
}, 30_000);

afterAll(async () => {
  // Only when a test failed before the SIGINT test: never leave the demo or its agent behind.
  if (demo && demo.exitCode === null) {
    demo.child.kill('SIGINT');
    await demo.waitForExit(15_000).catch(() => demo.child.kill('SIGKILL'));
    // A demo killed outright cannot stop its agent; do it, if that pid still is our agent.
    if (agentPid && readCmdline(agentPid).includes(configPath)) process.kill(agentPid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

const ask = (name: string, type = 'A') => dig(HOST, listenPort, name, type, [], { timeoutSec: 5 });

// ---- the tests ------------------------------------------------------------------------------------

describe('npm start: the demo answers at once', () => {
  test('the banner shows the agent, the masters and what to dig', () => {
    expect(demo.output).toContain(`DNS ${HOST}:${listenPort}`);
    for (const [i, h] of MASTER_HOSTS.entries()) expect(demo.output).toContain(`${i + 1} ${h}:${masterPorts[i]}`);
    for (const name of ['nginx.marathon.mesos', '_nginx._tcp.marathon.mesos SRV', 'leader.mesos', 'ready.spartan', 'zk-1.zk']) {
      expect(demo.output).toContain(`dig @${HOST} -p ${listenPort} ${name}`);
    }
    expect(demo.output).toContain('hang master 1');
  });

  test("nginx.marathon.mesos A: the fixture's task IPs, authoritative, from the masters", async () => {
    expect(NGINX_IPS).toHaveLength(2);
    const r = await ask('nginx.marathon.mesos');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(r.answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
    expect(r.answers.every((a) => a.ttl === 60)).toBe(true);
  });

  test("_nginx._tcp.marathon.mesos SRV: the fixture's ports, targets resolved in ADDITIONAL", async () => {
    const r = await ask('_nginx._tcp.marathon.mesos', 'SRV');
    expect(r.status).toBe('NOERROR');
    const srv = r.answers.map((a) => a.data.split(/\s+/));
    expect(srv.map((s) => Number(s[2])).sort()).toEqual(NGINX_TCP_PORTS);
    const additional = new Map(r.additional.map((a) => [a.name, a.data]));
    expect(srv.map((s) => additional.get(s[3])).sort()).toEqual(NGINX_IPS);
  });

  test('leader.mesos, ready.spartan, zk-1.zk and an upstream name', async () => {
    expect((await ask('leader.mesos')).answers.map((a) => a.data)).toEqual([LEADER_IP]);
    expect((await ask('ready.spartan')).answers.map((a) => a.data)).toEqual(['127.0.0.1']);
    expect((await ask('zk-1.zk')).answers.map((a) => a.data)).toEqual([MASTER_HOSTS[0]]);
    expect((await ask('www.example.org')).answers.map((a) => a.data)).toEqual(['192.0.2.80']);
    const refused = await ask('www.example.com');
    expect(refused.status).toBe('SERVFAIL'); // the upstreams refuse what is not theirs: nothing leaves the machine
  });

  test('a missing name is NXDOMAIN with the Mesos-DNS SOA', async () => {
    const r = await ask('nothing.marathon.mesos');
    expect(r.status).toBe('NXDOMAIN');
    expect(r.authority.map((a) => a.data)).toEqual([expect.stringMatching(/^ns1\.mesos\. root\.ns1\.mesos\. \d+ 60 600 86400 60$/)]);
  });
});

describe('failover, live', () => {
  test('hang master 1 from the CLI: answers keep coming, well within the deadline', async () => {
    const r = await runDemoCli(['hang', 'master', '1', '--control', `${HOST}:${controlPort}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`master 1 (${MASTER_HOSTS[0]}:${masterPorts[0]}): now hung`);
    for (let i = 0; i < 10; i++) {
      const a = await ask('nginx.marathon.mesos');
      expect(a.status).toBe('NOERROR');
      expect(a.answers.map((x) => x.data).sort()).toEqual(NGINX_IPS);
      // Waiting for the hung master would take the whole deadline.
      expect(a.queryTimeMs).toBeLessThan(TIMEOUT_MS / 2);
    }
    // ns1.mesos is each master's own address: the hung one never answers.
    for (let i = 0; i < 4; i++) expect((await ask('ns1.mesos')).answers.map((a) => a.data)).not.toContain(MASTER_HOSTS[0]);
    const status = (await request(controlPort, 'GET', '/')).body;
    expect(status.servers.find((s: { role: string; index: number }) => s.role === 'master' && s.index === 1).state).toBe('hung');
  });

  test(
    'every master stopped: Mesos names asked before get their last answer (TTL 30), new ones SERVFAIL, ' +
      'others still answer; revived: fresh answers again',
    async () => {
      const stop = await request(controlPort, 'POST', '/masters/all/stop');
      expect(stop.status).toBe(200);
      expect(stop.body.changed).toHaveLength(3);
      const stale = await ask('nginx.marathon.mesos');
      expect(stale.status).toBe('NOERROR');
      expect(stale.answers.map((a) => a.data).sort()).toEqual(NGINX_IPS);
      expect(stale.answers.map((a) => a.ttl)).toEqual(NGINX_IPS.map(() => 30));
      const r = await ask('never-asked.marathon.mesos');
      expect(r.status).toBe('SERVFAIL');
      expect(r.flags).toContain('qr');
      expect((await ask('www.example.org')).status).toBe('NOERROR');

      expect((await request(controlPort, 'POST', '/masters/all/revive')).status).toBe(200);
      let ttl = 30;
      for (let i = 0; i < 20 && ttl === 30; i++) {
        ttl = (await ask('nginx.marathon.mesos')).answers[0]?.ttl ?? 30;
        if (ttl === 30) await new Promise((res) => setTimeout(res, 250));
      }
      expect(ttl).toBeGreaterThan(30);
    },
  );

  test('an upstream hung: upstream names still answer, from the other one', async () => {
    expect((await request(controlPort, 'POST', '/upstreams/1/hang')).status).toBe(200);
    // whoami (TTL 0, never cached) names the upstream that answered.
    for (let i = 0; i < 5; i++) {
      const r = await ask('whoami.example.org', 'TXT');
      expect(r.status).toBe('NOERROR');
      expect(r.answers.map((a) => a.data)).toEqual([`"upstream 2 ${UPSTREAM_HOSTS[1]}:${upstreamPorts[1]}"`]);
      expect(r.queryTimeMs).toBeLessThan(TIMEOUT_MS / 2);
    }
  });

  test('bad control requests are refused by name', async () => {
    expect((await request(controlPort, 'POST', '/masters/9/hang')).status).toBe(404);
    expect((await request(controlPort, 'POST', '/masters/1/explode')).status).toBe(404);
    expect((await request(controlPort, 'GET', '/masters/1/hang')).status).toBe(405);
  });
});

describe('stopping', () => {
  test('SIGINT: the demo exits 0 and nothing listens on its addresses any more', async () => {
    demo.child.kill('SIGINT');
    expect(await demo.waitForExit(15_000)).toBe(0);
    expect(demo.output).toContain('demo   stopped');
    // The agent is gone too...
    expect(agentPid).toBeDefined();
    expect(readCmdline(agentPid!)).not.toContain(configPath);
    // ...and every address is free again for both UDP and TCP.
    const addresses: Array<[string, number]> = [
      [HOST, listenPort],
      [HOST, httpPort],
      [HOST, controlPort],
      ...MASTER_HOSTS.map((h, i): [string, number] => [h, masterPorts[i]]),
      ...UPSTREAM_HOSTS.map((h, i): [string, number] => [h, upstreamPorts[i]]),
    ];
    for (const [host, port] of addresses) {
      const { udp, tcp } = await bindUdpAndTcp(host, port, 1);
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    }
  }, 30_000);
});

describe('the demo command line', () => {
  test('a control command with no demo running says so', async () => {
    const port = await freePort(HOST);
    const r = await runDemoCli(['status', '--control', `${HOST}:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no demo is running with controls at ${HOST}:${port}`);
  });

  test('an unreadable Mesos state file is named, and nothing is started', async () => {
    const r = await runDemoCli(['--state', join(dir, 'nope.json'), '--control', `${HOST}:${await freePort(HOST)}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Mesos state ${join(dir, 'nope.json')}: file not found`);
  });

  test('a state without a leader is refused, as Mesos-DNS refuses it', async () => {
    const path = join(dir, 'noleader.json');
    writeFileSync(path, JSON.stringify({ slaves: [], frameworks: [] }));
    const r = await runDemoCli(['--state', path, '--control', `${HOST}:${await freePort(HOST)}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('names no leading master');
  });
});
