// Self-test of the ZooKeeper and Exhibitor test helpers: a real ZooKeeper (standalone and a
// 3-node ensemble on 127.0.0.1–3), Mesos-style master registration, and the Exhibitor fixture.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import zookeeper from 'node-zookeeper-client';
import { ExhibitorFixture } from '../helpers/exhibitor.js';
import {
  ZooKeeperEnsemble,
  closeMaster,
  closeZk,
  connectZk,
  deleteMaster,
  fourLetterWord,
  masterClient,
  registerMaster,
  zkCreate,
  zkExists,
  zkGetChildren,
  zkGetData,
} from '../helpers/zookeeper.js';
import { waitFor } from '../helpers/time.js';

const timings: Record<string, number> = {};
afterAll(() => {
  if (process.env.PHALANX_ZK_TIMINGS) console.log(`zookeeper harness timings (ms): ${JSON.stringify(timings)}`);
});

/** Local addresses of the listening TCP/UDP sockets a process holds (from /proc). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      /* fd closed meanwhile */
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    for (const line of readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      if (table.startsWith('tcp') && f[3] !== '0A') continue; // LISTEN only
      const [hex, portHex] = f[1].split(':');
      // IPv4 (or the IPv4 part of a v4-mapped v6 address), stored little-endian per 32-bit word.
      const v4 = hex.length === 8 ? hex : hex.startsWith('0000000000000000FFFF0000') ? hex.slice(24) : undefined;
      const addr = v4 ? [3, 2, 1, 0].map((i) => parseInt(v4.slice(i * 2, i * 2 + 2), 16)).join('.') : `[${hex}]`;
      out.push(`${table}:${addr}:${parseInt(portHex, 16)}`);
    }
  }
  return out;
}

describe('standalone ZooKeeper', () => {
  let zk: ZooKeeperEnsemble;

  beforeAll(async () => {
    const t0 = Date.now();
    zk = await ZooKeeperEnsemble.start();
    timings.standaloneStart = Date.now() - t0;
  });
  afterAll(() => zk?.stopAll());

  test('answers ruok and srvr on 127.0.0.1, listens on nothing else', async () => {
    const m = zk.members[0];
    expect(m).toMatchObject({ id: 1, host: '127.0.0.1', running: true });
    expect(zk.connectString).toBe(`127.0.0.1:${m.clientPort}`);
    expect(await fourLetterWord(m.host, m.clientPort, 'ruok')).toBe('imok');
    expect(await fourLetterWord(m.host, m.clientPort, 'srvr')).toMatch(/^Mode: standalone$/m);
    expect(await zk.leaderIndex()).toBeUndefined();
    expect(listeningAddresses(m.pid!)).toEqual([expect.stringMatching(new RegExp(`^tcp6?:127\\.0\\.0\\.1:${m.clientPort}$`))]);
  });

  test('/zookeeper/config exists and is empty on a standalone server', async () => {
    const c = await connectZk(zk.connectString);
    try {
      expect((await zkGetData(c, '/zookeeper/config')).toString()).toBe('');
    } finally {
      await closeZk(c);
    }
  });

  test('registerMaster writes Mesos MasterInfo into json.info_<seq>; a closed session removes it', async () => {
    const m1 = await connectZk(zk.connectString);
    const p1 = await registerMaster(m1, { ip: '127.0.0.11', hostname: 'master1.example' });
    const p2 = await registerMaster(zk.connectString, { ip: '127.0.0.12', port: 5051 });
    expect(p1).toBe('/mesos/json.info_0000000000');
    expect(p2).toBe('/mesos/json.info_0000000001');
    expect(masterClient(p1)).toBe(m1);

    const reader = await connectZk(zk.connectString);
    try {
      const info = JSON.parse((await zkGetData(reader, p1)).toString());
      expect(info).toEqual({
        id: expect.any(String),
        hostname: 'master1.example',
        address: { hostname: 'master1.example', ip: '127.0.0.11', port: 5050 },
        ip: 0x0b00007f, // Mesos's legacy field: network byte order as a little-endian uint32
        port: 5050,
        pid: 'master@127.0.0.11:5050',
        version: '1.10.1',
      });
      expect(JSON.parse((await zkGetData(reader, p2)).toString())).toMatchObject({
        hostname: '127.0.0.12',
        address: { ip: '127.0.0.12', port: 5051 },
        pid: 'master@127.0.0.12:5051',
      });
      expect((await zkGetChildren(reader, '/mesos')).sort()).toEqual(['json.info_0000000000', 'json.info_0000000001']);

      // The leading master dies: its session ends, its ephemeral znode goes at once.
      await closeZk(m1);
      expect(await zkExists(reader, p1)).toBe(false);
      expect(await zkGetChildren(reader, '/mesos')).toEqual(['json.info_0000000001']);

      // A third master gets the next sequence number even though 0 is gone.
      const p3 = await registerMaster(zk.connectString, { ip: '127.0.0.13', znode: '/custom/mesos', data: 'not json' });
      expect(p3).toBe('/custom/mesos/json.info_0000000000');
      expect((await zkGetData(reader, p3)).toString()).toBe('not json');

      await deleteMaster(p2);
      expect(await zkExists(reader, p2)).toBe(false);
      expect(masterClient(p2)?.getState()).toBe(zookeeper.State.SYNC_CONNECTED); // session still open
      await closeMaster(p2);
      await closeMaster(p3);
      expect(await zkExists(reader, p3)).toBe(false);
    } finally {
      await closeZk(reader);
    }
  });

  test('stop() closes the port, startMember() brings it back with the same data', async () => {
    const c = await connectZk(zk.connectString);
    await zkCreate(c, '/persisted', 'yes');
    await closeZk(c);
    const m = zk.members[0];
    await zk.stop(0, 'SIGTERM');
    expect(m.running).toBe(false);
    await expect(fourLetterWord(m.host, m.clientPort, 'ruok')).rejects.toThrow(/ECONNREFUSED/);
    const t0 = Date.now();
    await zk.startMember(0);
    timings.standaloneRestart = Date.now() - t0;
    const c2 = await connectZk(zk.connectString);
    try {
      expect((await zkGetData(c2, '/persisted')).toString()).toBe('yes');
    } finally {
      await closeZk(c2);
    }
  });
});

test('a single server in quorum mode leads and lists itself in /zookeeper/config', async () => {
  const zk = await ZooKeeperEnsemble.start({ quorum: true });
  try {
    expect(await zk.modes()).toEqual(['leader']);
    expect(await zk.leaderIndex()).toBe(0);
    const m = zk.members[0];
    const c = await connectZk(zk.connectString);
    try {
      expect((await zkGetData(c, '/zookeeper/config')).toString()).toBe(
        `server.1=127.0.0.1:${m.peerPort}:${m.electionPort}:participant;127.0.0.1:${m.clientPort}\nversion=0`,
      );
    } finally {
      await closeZk(c);
    }
  } finally {
    await zk.stopAll();
  }
});

describe('3-node ZooKeeper ensemble', () => {
  let zk: ZooKeeperEnsemble;

  beforeAll(async () => {
    const t0 = Date.now();
    zk = await ZooKeeperEnsemble.start({ size: 3 });
    timings.ensembleStart = Date.now() - t0;
  });
  afterAll(() => zk?.stopAll());

  test('members on 127.0.0.1–3, one leader, each listening only on its own address', async () => {
    expect(zk.members.map((m) => [m.id, m.host, m.running])).toEqual([
      [1, '127.0.0.1', true],
      [2, '127.0.0.2', true],
      [3, '127.0.0.3', true],
    ]);
    expect(zk.connectString).toBe(zk.members.map((m) => `${m.host}:${m.clientPort}`).join(','));
    expect(zk.connectString).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.2:\d+,127\.0\.0\.3:\d+$/);
    const modes = await zk.modes();
    expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
    expect(modes.filter((m) => m === 'follower')).toHaveLength(2);
    for (const m of zk.members) {
      for (const addr of listeningAddresses(m.pid!)) expect(addr).toMatch(new RegExp(`^tcp6?:${m.host.replace(/\./g, '\\.')}:\\d+$`));
    }
  });

  test('/zookeeper/config lists every member with its client address', async () => {
    const c = await connectZk(zk.connectString);
    try {
      const config = (await zkGetData(c, '/zookeeper/config')).toString();
      expect(config.split('\n')).toEqual([
        ...zk.members.map((m) => `server.${m.id}=${m.host}:${m.peerPort}:${m.electionPort}:participant;${m.host}:${m.clientPort}`),
        'version=0',
      ]);
    } finally {
      await closeZk(c);
    }
  });

  test('killing the leader elects a new one; clients keep creating and reading znodes', async () => {
    const client = await connectZk(zk.connectString, { sessionTimeout: 10_000 });
    try {
      await zkCreate(client, '/before', 'one');
      const master = await registerMaster(zk.connectString, { ip: '127.0.0.11' });

      const oldLeader = await zk.leaderIndex();
      expect(oldLeader).toBeDefined();
      const t0 = Date.now();
      await zk.stop(oldLeader!);
      expect(zk.members[oldLeader!].running).toBe(false);
      await zk.waitForQuorum(15_000);
      timings.leaderFailover = Date.now() - t0;
      const newLeader = await zk.leaderIndex();
      expect(newLeader).toBeDefined();
      expect(newLeader).not.toBe(oldLeader);

      await zkCreate(client, '/after', 'two');
      expect((await zkGetData(client, '/before')).toString()).toBe('one');
      expect((await zkGetData(client, '/after')).toString()).toBe('two');
      // The master's session survived the election too.
      expect(await zkExists(client, master)).toBe(true);

      // The old leader comes back as a follower and serves the same data.
      const t1 = Date.now();
      await zk.startMember(oldLeader!);
      timings.memberRejoin = Date.now() - t1;
      await zk.waitForQuorum(10_000);
      expect((await zk.modes())[oldLeader!]).toBe('follower');
      const m = zk.members[oldLeader!];
      const direct = await connectZk(`${m.host}:${m.clientPort}`);
      try {
        expect((await zkGetData(direct, '/after')).toString()).toBe('two');
      } finally {
        await closeZk(direct);
      }
    } finally {
      await closeZk(client);
    }
  });

  test('stopAll leaves nothing running and can be called again', async () => {
    const pids = zk.members.map((m) => m.pid!);
    await zk.stopAll();
    await zk.stopAll();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    for (const m of zk.members) {
      expect(m.running).toBe(false);
      await expect(fourLetterWord(m.host, m.clientPort, 'ruok', 300)).rejects.toThrow();
    }
  });
});

// ---------------------------------------------------------------------------------------------

interface Reply {
  status: number;
  body: string;
  type: string | undefined;
}

function get(url: string, timeoutMs = 2000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
  });
}

describe('Exhibitor fixture', () => {
  let fx: ExhibitorFixture;

  beforeEach(async () => {
    fx = await ExhibitorFixture.start({ host: '127.0.0.21', servers: ['127.0.0.1', '127.0.0.2', '127.0.0.3'], leader: 1 });
  });
  afterEach(() => fx.stop());

  test('serves the cluster status JSON and switches it at run time', async () => {
    expect(fx.url).toBe(`http://127.0.0.21:${fx.port}/exhibitor/v1/cluster/status`);
    const r = await get(fx.url);
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual([
      { code: 3, description: 'serving', hostname: '127.0.0.1', isLeader: false },
      { code: 3, description: 'serving', hostname: '127.0.0.2', isLeader: true },
      { code: 3, description: 'serving', hostname: '127.0.0.3', isLeader: false },
    ]);

    fx.setServers(['10.0.4.160', { hostname: '10.0.4.161', code: 1 }], '10.0.4.161');
    expect(JSON.parse((await get(fx.url)).body)).toEqual([
      { code: 3, description: 'serving', hostname: '10.0.4.160', isLeader: false },
      { code: 1, description: 'down', hostname: '10.0.4.161', isLeader: true },
    ]);
    expect((await get(`${fx.baseUrl}/exhibitor/v1/other`)).status).toBe(404);
    expect(fx.requestCount).toBe(3);
    expect(fx.statusRequestCount).toBe(2);
  });

  test('error status and malformed body, then back to normal with setServers', async () => {
    fx.setStatus(500);
    expect((await get(fx.url)).status).toBe(500);
    fx.setStatus(200);
    fx.setBody('[{"code":3,"hostname":');
    const bad = await get(fx.url);
    expect(bad.status).toBe(200);
    expect(() => JSON.parse(bad.body)).toThrow();
    fx.setServers(['127.0.0.5']);
    expect(JSON.parse((await get(fx.url)).body)).toEqual([{ code: 3, description: 'serving', hostname: '127.0.0.5', isLeader: false }]);
  });

  test('delay and hang; stop() closes hanging connections', async () => {
    fx.setDelay(300);
    const t0 = Date.now();
    expect((await get(fx.url)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    fx.setDelay(0);

    fx.setHang(true);
    await expect(get(fx.url, 300)).rejects.toThrow('client timeout');
    expect(fx.requestCount).toBe(2);

    // A request left hanging is cut off by stop(), not left open.
    const pending = get(fx.url, 10_000);
    await waitFor(() => fx.requestCount >= 3, { timeoutMs: 1000 });
    expect(fx.requestCount).toBe(3);
    await fx.stop();
    await expect(pending).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expect(get(fx.url, 500)).rejects.toThrow(/ECONNREFUSED/);
  });
});
