// The watchdog's rule (two failed rounds before a restart), the
// way it finds the agent process, and how it finds the restart program.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { parseEndpoint } from '../../common/config/endpoint.js';
import { listeningInodes } from '../../watchdog/agent-snapshot.js';
import type { KernelSocket } from '../../common/kernel-sockets.js';
import { FAILED_ROUNDS_BEFORE_RESTART, nextStep } from '../../watchdog/decision.js';
import { findExecutable } from '../../watchdog/restart.js';

const on = { enabled: true, retryDelayMs: 60_000 };
const off = { enabled: false, retryDelayMs: 60_000 };

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

const socket = (transport: 'tcp' | 'udp', address: string): KernelSocket => ({ transport, endpoint: parseEndpoint(address)! });

describe('listeningInodes', () => {
  const agent = ['198.51.100.1:53', '198.51.100.2:53', '198.51.100.3:53'].map((a) => parseEndpoint(a)!);

  test('the listening TCP sockets on an agent address', () => {
    const table = new Map([
      [101, socket('tcp', '198.51.100.1:53')],
      [102, socket('tcp', '198.51.100.2:53')],
      [103, socket('udp', '198.51.100.1:53')], // the agent's too, but UDP: TCP alone names the listener
      [104, socket('tcp', '127.0.0.1:53')], // someone else's resolver
      [105, socket('tcp', '198.51.100.1:5353')], // other port
    ]);
    expect([...listeningInodes(table, agent)]).toEqual([101, 102]);
  });

  test('a wildcard listener on the same port counts, IPv4 and IPv6', () => {
    const table = new Map([
      [7, socket('tcp', '0.0.0.0:53')],
      [8, socket('tcp', '[::]:53')],
      [9, socket('tcp', '0.0.0.0:80')],
    ]);
    expect([...listeningInodes(table, agent)]).toEqual([7, 8]);
  });

  test('IPv6 agent addresses', () => {
    const v6 = [parseEndpoint('[fd01:d::c633:6401]:53')!];
    expect([...listeningInodes(new Map([[11, socket('tcp', '[fd01:d::c633:6401]:53')]]), v6)]).toEqual([11]);
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
