// Where the time or the memory goes, from a profile the agent wrote under the bench
// (docs/benchmark.md, "Profiles"): the functions with the most self time in a V8 CPU profile
// (--cpu-prof, *.cpuprofile), or the most bytes allocated in a sampling heap profile
// (--heap-prof, *.heapprofile), with their share of the whole.
//
//   node dist-test/test/bench/profile-top.js FILE.cpuprofile|FILE.heapprofile [--top 25]
//
// Chrome's DevTools (Performance or Memory tab, "Load profile") show the same files as trees.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

export interface TopEntry {
  where: string;
  /** Microseconds of self time, or bytes allocated. */
  amount: number;
  share: number;
}

const where = (f: CallFrame) => {
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
};

function top(amounts: Map<string, number>, n: number): TopEntry[] {
  const total = [...amounts.values()].reduce((a, b) => a + b, 0) || 1;
  return [...amounts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([w, amount]) => ({ where: w, amount, share: amount / total }));
}

/**
 * Self time per function: each sample's time goes to the node it was taken in. Shares are of the
 * busy time: "(idle)", the process waiting for work (the other peers' turns, too), is left out.
 */
export function cpuTop(profile: CpuProfile, n: number): { idleUs: number; entries: TopEntry[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const amounts = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = where(byId.get(id)!.callFrame);
    amounts.set(key, (amounts.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const idleUs = amounts.get('(idle)') ?? 0;
  amounts.delete('(idle)');
  return { idleUs, entries: top(amounts, n) };
}

/** Bytes allocated per function (self), over the whole sampled tree. */
export function heapTop(head: HeapNode, n: number): TopEntry[] {
  const amounts = new Map<string, number>();
  const stack = [head];
  while (stack.length) {
    const node = stack.pop()!;
    const key = where(node.callFrame);
    amounts.set(key, (amounts.get(key) ?? 0) + node.selfSize);
    stack.push(...node.children);
  }
  return top(amounts, n);
}

function main(argv: string[]): void {
  const file = argv[0];
  if (!file) throw new Error('usage: profile-top FILE.cpuprofile|FILE.heapprofile [--top N]');
  const n = Number(argv[argv.indexOf('--top') + 1]) || 25;
  const data = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode };
  let rows: TopEntry[];
  let unit: (v: number) => string;
  if ('head' in data) {
    rows = heapTop(data.head, n);
    unit = (v) => `${(v / 1024).toFixed(0)} KiB`;
    console.log(`bytes allocated (sampled) by function, top ${n}, ${file}:`);
  } else {
    const cpu = cpuTop(data, n);
    rows = cpu.entries;
    unit = (v) => `${(v / 1000).toFixed(0)} ms`;
    const busy = rows.length ? rows[0].amount / rows[0].share : 0;
    console.log(`self time by function, top ${n}, ${file}: ${unit(busy)} busy, ${unit(cpu.idleUs)} idle; shares of the busy time:`);
  }
  for (const r of rows) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${unit(r.amount).padStart(10)}  ${r.where}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
}
