// The fuzz case's packets (pure): valid queries and the ways to break them. Every generator takes
// a seeded random source, so a failing run can be replayed with CHAOS_SEED.
import dnsPacket from 'dns-packet';
import type { OptAnswer, Packet, RecordType } from 'dns-packet';
import { type Random, seededRandom } from '../helpers/seeded-random.js';

export { type Random, seededRandom };

const int = (rnd: Random, n: number) => Math.floor(rnd() * n);
const pick = <T>(rnd: Random, items: readonly T[]): T => items[int(rnd, items.length)];
const bytes = (rnd: Random, n: number) => Buffer.from(Array.from({ length: n }, () => int(rnd, 256)));

const OPT: OptAnswer = {
  name: '.',
  type: 'OPT',
  udpPayloadSize: 1232,
  extendedRcode: 0,
  ednsVersion: 0,
  flags: 0,
  flag_do: false,
  options: [],
};
const QUESTIONS: Array<[string, RecordType]> = [
  ['ready.spartan', 'A'],
  ['zk-1.zk', 'A'],
  ['nginx.marathon.mesos', 'A'],
  ['_nginx._tcp.marathon.mesos', 'SRV'],
  ['app-0007.marathon.mesos', 'A'],
  ['www.example.org', 'A'],
  ['localhost', 'AAAA'],
];

/** The valid queries every mutation starts from: local, Mesos and upstream names, with and without EDNS. */
export const BASE_QUERIES: Buffer[] = QUESTIONS.flatMap(([name, type], i) =>
  [false, true].map((edns) =>
    dnsPacket.encode({
      type: 'query',
      id: 0x1000 + i,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name, type }],
      additionals: edns ? [OPT] : [],
    } satisfies Packet),
  ),
);

/** Offset of each label length octet of the question name (the name starts at 12). */
function labelOffsets(q: Buffer): number[] {
  const out: number[] = [];
  for (let at = 12; at < q.length && q[at] !== 0; at += q[at] + 1) out.push(at);
  return out;
}

/** The end of the question section of a base query (no compression in them). */
const questionEnd = (q: Buffer) => {
  let at = 12;
  while (q[at] !== 0) at += q[at] + 1;
  return at + 5;
};

export type Mutation =
  | 'bit-flips'
  | 'truncated'
  | 'bad-label-length'
  | 'pointer-loop'
  | 'forward-pointer'
  | 'huge-counts'
  | 'short-header'
  | 'random-bytes'
  | 'overlong-name'
  | 'odd-opcode-edns'
  | 'response-bit';

/** Mutations whose packets must never be answered: there is no ID to answer (short), or answering could loop (a response). */
export const NEVER_ANSWERED: ReadonlySet<Mutation> = new Set(['short-header', 'response-bit']);

/** Mutations that keep a query's header intact (QR clear, 12 bytes or more): each must get a reply, an answer or an error code. */
export const ALWAYS_ANSWERED: ReadonlySet<Mutation> = new Set([
  'bad-label-length',
  'pointer-loop',
  'forward-pointer',
  'huge-counts',
  'overlong-name',
  'odd-opcode-edns',
]);

/** Relative weights: the ways most likely to reach deep parsing get the most packets. */
export const MUTATION_WEIGHTS: Record<Mutation, number> = {
  'bit-flips': 20,
  truncated: 12,
  'bad-label-length': 8,
  'pointer-loop': 8,
  'forward-pointer': 6,
  'huge-counts': 8,
  'short-header': 4,
  'random-bytes': 12,
  'overlong-name': 6,
  'odd-opcode-edns': 8,
  'response-bit': 8,
};

/** Makes packets of each kind from `rnd`. Truncation cycles through every length of every base query, in order. */
export function mutator(rnd: Random): (kind: Mutation) => Buffer {
  let truncated = 0;
  return (kind) => mutate(kind, rnd, kind === 'truncated' ? truncated++ : 0);
}

function mutate(kind: Mutation, rnd: Random, truncateAt: number): Buffer {
  const base = Buffer.from(pick(rnd, BASE_QUERIES));
  base.writeUInt16BE(int(rnd, 65536), 0);
  switch (kind) {
    case 'bit-flips': {
      for (let n = 1 + int(rnd, 8); n > 0; n--) base[int(rnd, base.length)] ^= 1 << int(rnd, 8);
      return base;
    }
    case 'truncated': {
      const all = BASE_QUERIES.reduce((n, q) => n + q.length, 0);
      let at = truncateAt % all;
      for (const q of BASE_QUERIES) {
        if (at < q.length) return Buffer.from(q.subarray(0, at));
        at -= q.length;
      }
      return Buffer.alloc(0);
    }
    case 'bad-label-length': {
      const at = pick(rnd, labelOffsets(base));
      // Longer than what is left, or the reserved 0x40/0x80 label types.
      base[at] = pick(rnd, [base.length - at + int(rnd, 20), 0x40 | int(rnd, 64), 0x80 | int(rnd, 64), 0xff]);
      return base;
    }
    case 'pointer-loop': {
      const end = questionEnd(base);
      // The question name a pointer to itself, or an answer record whose name is two pointers
      // pointing at each other.
      if (rnd() < 0.5) return Buffer.concat([base.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
      const out = Buffer.concat([base.subarray(0, end), Buffer.from([0xc0, 0, 0xc0, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1])]);
      out.writeUInt16BE(0xc000 | (end + 2), end);
      out.writeUInt16BE(0xc000 | end, end + 2);
      out.writeUInt16BE(1, 6); // ancount
      out.writeUInt16BE(0, 10);
      return out;
    }
    case 'forward-pointer': {
      // The question name points past itself, at a copy of a name placed after it.
      const name = base.subarray(12, questionEnd(base) - 4);
      const out = Buffer.concat([base.subarray(0, 12), Buffer.from([0xc0, 18, 0, 1, 0, 1]), name]);
      out.writeUInt16BE(0, 10);
      return out;
    }
    case 'huge-counts': {
      for (const at of [4, 6, 8, 10])
        if (rnd() < 0.6) base.writeUInt16BE(pick(rnd, [0xffff, 0x8000, 2 + int(rnd, 100), int(rnd, 65536)]), at);
      return base;
    }
    case 'short-header':
      return bytes(rnd, int(rnd, 12));
    case 'random-bytes':
      return bytes(rnd, 12 + int(rnd, 500));
    case 'overlong-name': {
      // Names at and just over the RFC 1035 limit of 255 octets on the wire.
      const total = 250 + int(rnd, 10);
      const labels: Buffer[] = [];
      let used = 1;
      while (used < total) {
        const len = Math.min(63, total - used - 1);
        if (len < 1) break;
        labels.push(Buffer.from([len]), Buffer.alloc(len, 0x61 + int(rnd, 26)));
        used += len + 1;
      }
      return Buffer.concat([base.subarray(0, 12), ...labels, Buffer.from([0, 0, 1, 0, 1])]).fill(0, 10, 12);
    }
    case 'odd-opcode-edns': {
      const r = rnd();
      if (r < 0.4) {
        base.writeUInt16BE((base.readUInt16BE(2) & ~0x7800) | ((1 + int(rnd, 15)) << 11), 2); // opcode 1–15
        return base;
      }
      const edns = BASE_QUERIES.filter((q) => q.readUInt16BE(10) === 1);
      const q = Buffer.from(pick(rnd, edns));
      q.writeUInt16BE(int(rnd, 65536), 0);
      const opt = q.subarray(q.length - 11);
      if (r < 0.6) {
        opt[6] = 1 + int(rnd, 255); // EDNS version we do not speak: BADVERS
        return q;
      }
      if (r < 0.8) {
        const two = Buffer.concat([q, opt]); // two OPT records
        two.writeUInt16BE(2, 10);
        return two;
      }
      q.writeUInt16BE(1, 6); // the OPT in the answer section
      q.writeUInt16BE(0, 10);
      return q;
    }
    case 'response-bit': {
      const q = rnd() < 0.5 ? base : bytes(rnd, 12 + int(rnd, 200));
      q[2] |= 0x80;
      return q;
    }
  }
}

/** Picks mutations by weight. */
export function mutationPicker(rnd: Random): () => Mutation {
  const entries = Object.entries(MUTATION_WEIGHTS) as Array<[Mutation, number]>;
  const sum = entries.reduce((n, [, w]) => n + w, 0);
  return () => {
    let x = rnd() * sum;
    for (const [m, w] of entries) if ((x -= w) < 0) return m;
    return entries[0][0];
  };
}
