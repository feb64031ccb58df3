// The watchdog's rule (two failed rounds before a restart; any answering address is enough), the
// way it finds the agent process, and how it finds the restart program.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import type { Systeminformation } from 'systeminformation';
import { parseEndpoint } from '../../agent/config/endpoint.js';
import type { ProbeResult } from '../../agent/probe.js';
import { pidsListeningOn } from '../../watchdog/agent-snapshot.js';
import { FAILED_ROUNDS_BEFORE_RESTART, nextStep, roundPassed } from '../../watchdog/decision.js';
import { findExecutable } from '../../watchdog/restart.js';

const on = { enabled: true, retryDelayMs: 60_000 };
const off = { enabled: false, retryDelayMs: 60_000 };

const probe = (address: string, ok: boolean): ProbeResult => ({
  endpoint: parseEndpoint(address)!,
  ok,
  ...(ok ? { rttMs: 1 } : { reason: 'no answer within 5000 ms' }),
});

describe('roundPassed', () => {
  test('any answering address is enough: the resolver moves on to it', () => {
    expect(roundPassed([probe('198.51.100.1:53', false), probe('198.51.100.2:53', true), probe('198.51.100.3:53', false)])).toBe(true);
  });
  test('no answer on any address fails the round', () => {
    expect(roundPassed([probe('198.51.100.1:53', false), probe('198.51.100.2:53', false)])).toBe(false);
  });
  test('no addresses at all is a failure, never silently healthy', () => {
    expect(roundPassed([])).toBe(false);
  });
});

describe('nextStep', () => {
  test('a passing first round ends the run', () => {
    expect(nextStep([true], on)).toEqual({ kind: 'healthy' });
  });
  test('one failed round is not enough: ask again after the retry delay', () => {
    expect(nextStep([false], on)).toEqual({ kind: 'retry', delayMs: 60_000 });
  });
  test('two failed rounds in a row restart the agent', () => {
    expect(FAILED_ROUNDS_BEFORE_RESTART).toBe(2);
    expect(nextStep([false, false], on)).toEqual({ kind: 'restart' });
  });
  test('recovering in the second round means no restart', () => {
    expect(nextStep([false, true], on)).toEqual({ kind: 'healthy' });
  });
  test('a failure after a pass starts counting again', () => {
    expect(nextStep([false, true, false], on)).toEqual({ kind: 'retry', delayMs: 60_000 });
  });
  test('with watchdog.enabled false it only reports', () => {
    expect(nextStep([false, false], off)).toEqual({ kind: 'report-only' });
    expect(nextStep([false], off)).toEqual({ kind: 'retry', delayMs: 60_000 });
  });
  test('the retry delay comes from the config', () => {
    expect(nextStep([false], { enabled: true, retryDelayMs: 250 })).toEqual({ kind: 'retry', delayMs: 250 });
  });
  test('no rounds is a programming error', () => {
    expect(() => nextStep([], on)).toThrow('at least one round');
  });
});

const conn = (protocol: string, local: string, port: string, state: string, pid: number | null): Systeminformation.NetworkConnectionsData =>
  ({ protocol, localAddress: local, localPort: port, peerAddress: '0.0.0.0', peerPort: '*', state, pid, process: 'node' }) as Systeminformation.NetworkConnectionsData;

describe('pidsListeningOn', () => {
  const agent = ['198.51.100.1:53', '198.51.100.2:53', '198.51.100.3:53'].map((a) => parseEndpoint(a)!);

  test('the process with a listening TCP socket on an agent address', () => {
    const conns = [
      conn('tcp', '198.51.100.1', '53', 'LISTEN', 4242),
      conn('tcp', '198.51.100.2', '53', 'LISTEN', 4242),
      conn('tcp', '127.0.0.1', '53', 'LISTEN', 99), // someone else's resolver
      conn('tcp', '198.51.100.1', '5353', 'LISTEN', 98), // other port
      conn('tcp', '198.51.100.1', '53', 'ESTABLISHED', 97), // a client connection, not the listener
    ];
    expect(pidsListeningOn(conns, agent)).toEqual([4242]);
  });

  test('a wildcard listener on the same port counts (netstat and ss spellings)', () => {
    expect(pidsListeningOn([conn('tcp', '0.0.0.0', '53', 'LISTEN', 7)], agent)).toEqual([7]);
    expect(pidsListeningOn([conn('tcp6', '::', '53', 'LISTEN', 8)], agent)).toEqual([8]);
    expect(pidsListeningOn([conn('tcp', '*', '53', 'LISTEN', 9)], agent)).toEqual([9]);
  });

  test('IPv6 addresses as ss prints them, in brackets', () => {
    const v6 = [parseEndpoint('[fd01:d::c633:6401]:53')!];
    expect(pidsListeningOn([conn('tcp', '[fd01:d::c633:6401]', '53', 'LISTEN', 11)], v6)).toEqual([11]);
  });

  test('sockets whose owner could not be read are left out', () => {
    expect(pidsListeningOn([conn('tcp', '198.51.100.1', '53', 'LISTEN', null)], agent)).toEqual([]);
  });
});

describe('findExecutable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phalanx-exe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, 'restart-agent');
  writeFileSync(exe, '#!/bin/sh\n');
  chmodSync(exe, 0o755);
  const plain = join(dir, 'not-executable');
  writeFileSync(plain, '');
  chmodSync(plain, 0o644);

  test('searches PATH like execvp', () => {
    expect(findExecutable('restart-agent', `/nonexistent:${dir}`)).toBe(exe);
    expect(findExecutable('restart-agent', '/nonexistent')).toBeUndefined();
  });
  test('a path is checked as it is', () => {
    expect(findExecutable(exe, '')).toBe(exe);
    expect(findExecutable(join(dir, 'missing'), dir)).toBeUndefined();
  });
  test('a file without the execute bit or a directory does not count', () => {
    expect(findExecutable(plain, '')).toBeUndefined(); // even root needs one execute bit set
    expect(findExecutable('not-executable', dir)).toBeUndefined();
    expect(findExecutable(dir, '')).toBeUndefined();
  });
});
