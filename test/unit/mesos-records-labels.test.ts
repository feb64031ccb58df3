// Mesos-DNS's label rules (RFC 1123 by default, RFC 952 when enforced). The tables are Mesos-DNS's
// own test vectors (records/labels/labels_test.go), so a name mangled here is the name Mesos-DNS
// serves; the properties are the RFCs' constraints.
import { describe, expect, test } from '@jest/globals';
import { domainFrag, rfc1123Label, rfc952Label } from '../../sim/mesos-state/mangle.js';

// Cases both rules agree on.
const COMMON: Record<string, string> = {
  '': '',
  a: 'a',
  '-': '',
  'a---': 'a',
  '---a---': 'a',
  '---a---b': 'a---b',
  'a.b.c.d.e': 'a-b-c-d-e',
  'a.c.d_de.': 'a-c-d-de',
  abc123: 'abc123',
  '-abc123': 'abc123',
  'abc123-': 'abc123',
  'abc-123': 'abc-123',
  'abc--123': 'abc--123',
  'r29f.dev.angrypigs': 'r29f-dev-angrypigs',
};

describe('RFC 1123 labels (the default)', () => {
  const cases: Record<string, string> = {
    ...COMMON,
    '4abc123': '4abc123',
    '-4abc123': '4abc123',
    '89fdgsf---gs7-fgs--d7fddg-123': '89fdgsf---gs7-fgs--d7fddg-123',
    '89fdgsf---gs7-fgs--d7fddg---123': '89fdgsf---gs7-fgs--d7fddg---123',
    '89fdgsf---gs7-fgs--d7fddg-': '89fdgsf---gs7-fgs--d7fddg',
    'fd%gsf---gs7-f$gs--d7fddg-123': 'fdgsf---gs7-fgs--d7fddg-123',
    'fd%gsf---gs7-f$gs--d7fddg123456789012345678901234567890123456789-123':
      'fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891',
    '%%fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789---123':
      'fdgsf---gs7-fgs--d7fddg1234567890123456789012345678901234567891',
    '##fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789-': 'fdgsf---gs7-fgs--d7fddg123456789012345678901234567890123456789',
    ['hello' + '-'.repeat(56) + 'f']: 'hello' + '-'.repeat(56) + 'f',
    'apiserver.myservice': 'apiserver-myservice',
    'My_App.V2': 'my-app-v2',
  };
  test.each(Object.entries(cases))('%j → %j', (input, want) => {
    expect(rfc1123Label(input)).toBe(want);
  });
});

describe('RFC 952 labels (enforceRFC952)', () => {
  const cases: Record<string, string> = {
    ...COMMON,
    '4abc123': 'abc123', // must start with a letter
    '-4abc123': 'abc123',
    'fd%gsf---gs7-f$gs--d7fddg-123': 'fdgsf---gs7-fgs--d7fddg1', // 24 characters at most
    '89fdgsf---gs7-fgs--d7fddg-123': 'fdgsf---gs7-fgs--d7fddg1',
    '89fdgsf---gs7-fgs--d7fddg---123': 'fdgsf---gs7-fgs--d7fddg1',
    '89fdgsf---gs7-fgs--d7fddg-': 'fdgsf---gs7-fgs--d7fddg',
    'chronos with a space AND MIXED CASE-2.0.1': 'chronoswithaspaceandmixe',
    'chronos with a space AND----------MIXED--': 'chronoswithaspaceandmixe',
    // Cutting left a trailing run of '-': the room is refilled from what followed the cut.
    ['hello' + '-'.repeat(56) + 'f']: 'hellof',
  };
  test.each(Object.entries(cases))('%j → %j', (input, want) => {
    expect(rfc952Label(input)).toBe(want);
  });
});

describe('framework names keep their dots, each part mangled (domainFrag)', () => {
  const common: Record<string, string> = {
    '': '',
    '.': '',
    '...': '',
    abc: 'abc',
    'abc.': 'abc',
    '.abc': 'abc',
    'a..c': 'a.c',
    'a.c..e': 'a.c.e',
    'space space.com': 'spacespace.com',
    'not$1234.com': 'not1234.com',
    '(@ host . com': 'host.com',
    'MiXeDcase.CoM': 'mixedcase.com',
    'marathon.prod': 'marathon.prod',
  };
  test.each(Object.entries(common))('%j → %j under both rules', (input, want) => {
    expect(domainFrag(input, rfc1123Label)).toBe(want);
    expect(domainFrag(input, rfc952Label)).toBe(want);
  });
  test('a part that is all digits vanishes under RFC 952 only', () => {
    expect(domainFrag('pod_123$abc.marathon-0.6.0-dev.mesos', rfc1123Label)).toBe('pod-123abc.marathon-0.6.0-dev.mesos');
    expect(domainFrag('pod_123$abc.marathon-0.6.0-dev.mesos', rfc952Label)).toBe('pod-123abc.marathon-0.dev.mesos');
    expect(domainFrag('chronos with a space AND MIXED CASE-2.0.1', rfc952Label)).toBe('chronoswithaspaceandmixe');
  });
});

describe('properties over random names', () => {
  // A fixed-seed generator, so a failure reproduces.
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = 'abcXYZ019-._ $%é/';
  const names = Array.from({ length: 3000 }, () => Array.from({ length: rand(90) }, () => alphabet[rand(alphabet.length)]).join(''));

  test('RFC 1123: [a-z0-9-] only, at most 63 characters, never starts with "-"', () => {
    for (const n of names) {
      const l = rfc1123Label(n);
      expect(l).toMatch(/^[a-z0-9-]{0,63}$/);
      expect(l.startsWith('-')).toBe(false);
    }
  });

  test('RFC 952: [a-z0-9-] only, at most 24 characters, never starts with a digit or "-"', () => {
    for (const n of names) {
      const l = rfc952Label(n);
      expect(l).toMatch(/^[a-z0-9-]{0,24}$/);
      expect(l).not.toMatch(/^[-0-9]/);
    }
  });

  test('mangling is idempotent on names that are already valid', () => {
    for (const n of names) {
      const l = rfc1123Label(n);
      if (!l.endsWith('-')) expect(rfc1123Label(l)).toBe(l);
    }
  });
});
