// Profiles of the agents under one case, taken through the V8 inspector while the case's
// unthrottled runs go (BENCH_PROFILE_DIR, docs/benchmark.md "Profiles"): a CPU profile
// (.cpuprofile) and an allocation sample that keeps the objects the collector has freed since
// (.heapprofile), hence bytes allocated per query, which is what feeds the collector's pauses.
// node's own --heap-prof keeps only what is still alive when the process exits.
//
// The agents are started with --inspect=127.0.0.1:0 for it (settings.ts); the inspector listens on
// loopback, on a port the kernel picks, and is used by nothing else.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One inspector session over the DevTools protocol's WebSocket. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p) return; // an event
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => reject(new Error(`inspector ${url}: no connection in 5 s`)), 5000);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new Inspector(ws));
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`inspector ${url}: cannot connect`));
      });
    });
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector: ${method} got no answer in 30 s`)), 30_000);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

interface HeapNode {
  selfSize: number;
  children: HeapNode[];
}

export interface ProfileFiles {
  cpuFile: string;
  heapFile: string;
  /** Bytes allocated while the profiles ran, from the allocation sample (an estimate). */
  allocatedBytes: number;
}

export interface ProfileSession {
  stop(): Promise<ProfileFiles>;
}

/** Sampling intervals: a CPU sample every 100 µs, an allocation sample every 16 KiB on average. */
const CPU_SAMPLE_US = 100;
const HEAP_SAMPLE_BYTES = 16 * 1024;

/** Starts both profiles in the process behind `inspectorUrl`; stop() writes them as `dir/name.*`. */
export async function startProfiles(inspectorUrl: string, dir: string, name: string): Promise<ProfileSession> {
  const inspector = await Inspector.connect(inspectorUrl);
  await inspector.call('Profiler.enable');
  await inspector.call('Profiler.setSamplingInterval', { interval: CPU_SAMPLE_US });
  await inspector.call('HeapProfiler.enable');
  await inspector.call('HeapProfiler.startSampling', {
    samplingInterval: HEAP_SAMPLE_BYTES,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await inspector.call('Profiler.start');
  return {
    async stop() {
      try {
        const { profile: cpu } = await inspector.call<{ profile: unknown }>('Profiler.stop');
        const { profile: heap } = await inspector.call<{ profile: { head: HeapNode } }>('HeapProfiler.stopSampling');
        const cpuFile = join(dir, `${name}.cpuprofile`);
        const heapFile = join(dir, `${name}.heapprofile`);
        writeFileSync(cpuFile, JSON.stringify(cpu));
        writeFileSync(heapFile, JSON.stringify(heap));
        let allocatedBytes = 0;
        const stack = [heap.head];
        while (stack.length) {
          const node = stack.pop()!;
          allocatedBytes += node.selfSize;
          stack.push(...node.children);
        }
        return { cpuFile, heapFile, allocatedBytes };
      } finally {
        inspector.close();
      }
    },
  };
}
