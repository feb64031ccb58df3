// Extended DNS Errors (RFC 8914) as a person debugging a node sees them in dig: why an answer is
// stale, why a query was refused, why it failed, with a short note (EXTRA-TEXT) naming the servers.
// Only clients that sent EDNS get them (RFC 6891: no OPT to a client that sent none).
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { AgentProcess, restartAgent as restart } from '../helpers/agent-process.js';
import { type Cluster, fakeMasterRecords, startCluster } from '../helpers/cluster.js';
import { type DigResult, dig } from '../helpers/dig.js';
import { sleep } from '../helpers/time.js';

const HOST = '127.0.0.1';

let cluster: Cluster;
let agent: AgentProcess;

async function restartAgent(extra: Record<string, unknown> = {}): Promise<void> {
  agent = await restart(agent, cluster.config(extra));
}

/** The EDE line dig prints, e.g. "; EDE: 3 (Stale Answer): (no answer yet from …)", or undefined. */
const ede = (r: DigResult) => r.raw.split('\n').find((l) => l.startsWith('; EDE:'));

beforeAll(async () => {
  cluster = await startCluster({ masters: 2, upstreams: 1, bigTasks: 0 });
  agent = await AgentProcess.start(cluster.config({ serveStale: { enabled: true } }));
});
afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
});
afterEach(() => cluster.reset());

describe('extended DNS errors', () => {
  test('a stale answer says so, why, and whether its TTL has run out', async () => {
    await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    for (const m of cluster.masters) m.setBehaviour({ kind: 'silent' });
    const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
    expect(r.status).toBe('NOERROR');
    const line = ede(r);
    expect(line).toMatch(/^; EDE: 3 \(Stale Answer\): \(no answer yet from mesos 127\.0\.0\.11:\d+, 127\.0\.0\.12:\d+; within its TTL\)$/);
  });

  test("a stale answer's age counts from when its TTL ran out (RFC 8767)", async () => {
    const shortLived = [...fakeMasterRecords(0), { name: 'brief.marathon.mesos', type: 'A' as const, ttl: 1, data: '10.0.7.7' }];
    for (const m of cluster.masters) m.setRecords(shortLived);
    try {
      await dig(HOST, cluster.listenPort, 'brief.marathon.mesos');
      await sleep(2200); // its 1 s TTL runs out: the age is the subject
      for (const m of cluster.masters) m.setBehaviour({ kind: 'silent' });
      const r = await dig(HOST, cluster.listenPort, 'brief.marathon.mesos');
      expect(r.answers.map((a) => a.data)).toEqual(['10.0.7.7']);
      expect(ede(r)).toMatch(/; expired [12] s ago\)$/);
    } finally {
      for (const m of cluster.masters) m.setRecords(fakeMasterRecords(0));
    }
  });

  test('a stale NXDOMAIN is a Stale NXDOMAIN Answer', async () => {
    await dig(HOST, cluster.listenPort, 'gone.marathon.mesos');
    for (const m of cluster.masters) m.setBehaviour({ kind: 'rcode', rcode: 'SERVFAIL' });
    const r = await dig(HOST, cluster.listenPort, 'gone.marathon.mesos');
    expect(r.status).toBe('NXDOMAIN');
    expect(ede(r)).toMatch(/^; EDE: 19 \(Stale NXDOMAIN Answer\): \(no usable answer from mesos /);
  });

  test('every server failing and nothing kept: SERVFAIL with No Reachable Authority, naming the servers and which are down', async () => {
    await restartAgent({ serveStale: { enabled: true } }); // both masters healthy to begin with
    for (const m of cluster.masters) m.setBehaviour({ kind: 'rcode', rcode: 'REFUSED' });
    let r = await dig(HOST, cluster.listenPort, 'never-asked.marathon.mesos');
    expect(r.status).toBe('SERVFAIL');
    expect(ede(r)).toMatch(/^; EDE: 22 \(No Reachable Authority\): \(no usable answer from mesos 127\.0\.0\.11:\d+, 127\.0\.0\.12:\d+\)$/);
    // Three failures in a row mark a master down (health.downAfterFailures): the note says so.
    for (let i = 0; i < 3; i++) r = await dig(HOST, cluster.listenPort, `never-asked-${i}.marathon.mesos`);
    expect(ede(r)).toContain('(down)');
  });

  test('a client outside the ACL is refused with Prohibited', async () => {
    await restartAgent({ acl: ['127.0.0.1/32'] });
    try {
      const r = await dig(HOST, cluster.listenPort, 'ready.spartan', 'A', ['-b', '127.0.0.5']);
      expect(r.status).toBe('REFUSED');
      expect(ede(r)).toBe('; EDE: 18 (Prohibited): (127.0.0.5 is outside the acl)');
    } finally {
      await restartAgent({ serveStale: { enabled: true } });
    }
  });

  test('no master known yet: SERVFAIL with Not Ready', async () => {
    // A master list file that does not exist yet: discovery keeps trying, no master is known.
    await restartAgent({ mesos: { masterListFile: '/nonexistent/master_list' } });
    try {
      const r = await dig(HOST, cluster.listenPort, 'nginx.marathon.mesos');
      expect(r.status).toBe('SERVFAIL');
      expect(ede(r)).toBe('; EDE: 14 (Not Ready): (no Mesos master known yet (see /v1/enumerate discovery))');
      // The local zones answer meanwhile, without any note.
      const ready = await dig(HOST, cluster.listenPort, 'ready.spartan');
      expect(ready.status).toBe('NOERROR');
      expect(ede(ready)).toBeUndefined();
    } finally {
      await restartAgent({ serveStale: { enabled: true } });
    }
  });

  test('a client without EDNS gets the same answer and no OPT at all', async () => {
    for (const m of cluster.masters) m.setBehaviour({ kind: 'rcode', rcode: 'REFUSED' });
    const r = await dig(HOST, cluster.listenPort, 'never-asked-plain.marathon.mesos', 'A', ['+noedns']);
    expect(r.status).toBe('SERVFAIL');
    expect(ede(r)).toBeUndefined();
    expect(r.raw).not.toContain('OPT PSEUDOSECTION');
  });
});
