// How the agent fits systemd, without systemd: the kernel's socket table that identifies the
// sockets systemd hands over (read from the real /proc for sockets this test binds), which
// listen address each one serves, and the syslog priorities journald files log lines under.
// The same paths under a real systemd: test/node/lifecycle.test.ts.
import dgram from 'node:dgram';
import { fstatSync } from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, test } from '@jest/globals';
import { parseEndpoint } from '../../common/config/endpoint.js';
import type { Transport } from '../../common/dns/wire.js';
import { parseProcNetSockets, readSocketTable, socketInode } from '../../common/kernel-sockets.js';
import { stdoutIsJournal, syslogPriority } from '../../common/log.js';
import { type InheritedSocket, inheritedSockets, planListenSockets } from '../../agent/systemd/socket-activation.js';

const ep = (text: string) => parseEndpoint(text)!;

describe('the kernel socket table', () => {
  const udp = dgram.createSocket('udp4');
  const udp6 = dgram.createSocket('udp6');
  const tcp = net.createServer();
  afterAll(() => {
    udp.close();
    udp6.close();
    tcp.close();
  });

  test('finds the sockets this process bound, with their transport and address', async () => {
    await new Promise<void>((r) => udp.bind(0, '127.0.0.7', r));
    await new Promise<void>((r) => udp6.bind(0, '::1', r));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.8', r));
    const seen = [...readSocketTable().values()].map((s) => `${s.transport} ${s.endpoint.host}:${s.endpoint.port}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        `udp 127.0.0.7:${udp.address().port}`,
        `udp ::1:${udp6.address().port}`,
        `tcp 127.0.0.8:${(tcp.address() as net.AddressInfo).port}`,
      ]),
    );
  });

  test('parses IPv4 and IPv6 rows as the kernel prints them; TCP only when listening', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const v4 =
      `${header}   0: 016433C6:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   999        0 ` +
      '4242 2 0000000000000000 0\n';
    expect(parseProcNetSockets(v4, 'udp', 4)).toEqual(new Map([[4242, ep('198.51.100.1:53')]]));
    expect(parseProcNetSockets(v4.replace(' 07 ', ' 0A '), 'tcp', 4)).toEqual(new Map([[4242, ep('198.51.100.1:53')]]));
    expect(parseProcNetSockets(v4.replace(' 07 ', ' 01 '), 'tcp', 4)).toEqual(new Map()); // an established connection
    // fd01:d::c633:6401 as four words in host (little-endian) byte order.
    const v6 =
      `${header}   0: 0D0001FD0000000000000000016433C6:0035 00000000000000000000000000000000:0000 07 ` +
      '00000000:00000000 00:00000000 00000000 0 0 77 2 0 0\n';
    expect(parseProcNetSockets(v6, 'udp', 6)).toEqual(new Map([[77, ep('[fd01:d::c633:6401]:53')]]));
    expect(parseProcNetSockets(`${header}garbage\n   0: XYZ:0035 0 07 0 0 0 0 0 0\n`, 'udp', 4)).toEqual(new Map());
  });

  test('reads socket inodes from /proc/PID/fd links', () => {
    expect(socketInode('socket:[12345]')).toBe(12345);
    expect(socketInode('pipe:[12345]')).toBeUndefined();
    expect(socketInode('/dev/null')).toBeUndefined();
  });
});

describe('sockets from systemd (sd_listen_fds)', () => {
  test('none unless LISTEN_PID names this process', () => {
    expect(inheritedSockets({})).toEqual([]);
    expect(inheritedSockets({ LISTEN_PID: String(process.pid + 1), LISTEN_FDS: '2' })).toEqual([]);
  });

  test('an fd that is not a bound socket stops the start with the reason', () => {
    // fd 0 is not one of systemd's (they start at 3), but fd 3+ in a jest worker is not a DNS socket either.
    const env: NodeJS.ProcessEnv = { LISTEN_PID: String(process.pid), LISTEN_FDS: '1' };
    expect(() => inheritedSockets(env)).toThrow(/systemd passed fd 3 .*(not a bound UDP or listening TCP socket|not open)/);
    expect(env.LISTEN_FDS).toBeUndefined(); // not passed on to children
  });

  const listen = [ep('198.51.100.1:53'), ep('198.51.100.2:53')];
  const passed = (fd: number, transport: Transport, address: string): InheritedSocket => ({ fd, transport, endpoint: ep(address) });

  test('each listen address gets UDP and TCP, from systemd where it passed that socket', () => {
    const plan = planListenSockets(listen, [passed(3, 'tcp', '198.51.100.1:53'), passed(4, 'udp', '198.51.100.1:53')]);
    expect(plan.sockets.map((s) => [s.transport, `${s.endpoint.host}:${s.endpoint.port}`, s.fd])).toEqual([
      ['udp', '198.51.100.1:53', 4],
      ['tcp', '198.51.100.1:53', 3],
      ['udp', '198.51.100.2:53', undefined], // bound by the agent itself
      ['tcp', '198.51.100.2:53', undefined],
    ]);
    expect(plan.unlisted).toEqual([]);
  });

  test('a passed socket for an address not in "listen" is served and reported', () => {
    const stray = passed(5, 'udp', '198.51.100.3:53');
    const plan = planListenSockets(listen, [stray]);
    expect(plan.sockets).toContainEqual(stray);
    expect(plan.unlisted).toEqual([stray]);
  });
});

describe('journal priorities', () => {
  test('pino levels map to syslog priorities: warn 4, error 3, fatal 2, info 6, debug 7', () => {
    expect([10, 20, 30, 40, 50, 60].map(syslogPriority)).toEqual([7, 7, 6, 4, 3, 2]);
  });

  test('stdout is the journal only when JOURNAL_STREAM names the very stream stdout is', () => {
    const st = fstatSync(1);
    expect(stdoutIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` })).toBe(true);
    expect(stdoutIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` })).toBe(false);
    expect(stdoutIsJournal({})).toBe(false);
  });
});
