// Reading the agent's own /v1/metrics for `phalanx-dns status`: samples from the Prometheus text
// format, sums over label sets, and a quantile from histogram buckets the way Prometheus's
// histogram_quantile() computes it, so the figures agree with the dashboard's.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One histogram bucket: observations up to `le`, cumulative. */
export interface Bucket {
  le: number;
  count: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function number(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Every sample line of `text`; comments and anything unreadable are skipped. */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? '').matchAll(LABEL)) {
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: number(m[3]) });
  }
  return samples;
}

const matches = (s: Sample, name: string, match: Record<string, string>) =>
  s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v);

/** The sum of `name` over every series whose labels include `match`. */
export function total(samples: readonly Sample[], name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) if (matches(s, name, match)) sum += s.value;
  return sum;
}

/** `name` summed per value of `label`, over the series whose labels include `match`. */
export function totalsBy(samples: readonly Sample[], name: string, label: string, match: Record<string, string> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (!matches(s, name, match) || s.labels[label] === undefined) continue;
    out.set(s.labels[label], (out.get(s.labels[label]) ?? 0) + s.value);
  }
  return out;
}

/** A histogram's cumulative buckets, summed over the series that include `match` (every transport, say). */
export function buckets(samples: readonly Sample[], histogram: string, match: Record<string, string> = {}): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${histogram}_bucket`, match) || s.labels.le === undefined) continue;
    const le = number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** What was observed between two scrapes: `after`'s counts less `before`'s (absent before: 0). */
export function bucketsSince(after: readonly Bucket[], before: readonly Bucket[]): Bucket[] {
  const was = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: Math.max(0, b.count - (was.get(b.le) ?? 0)) }));
}

/**
 * The q-quantile (0 < q ≤ 1) of cumulative buckets, interpolated linearly within the bucket it
 * falls in (from 0 for the first), as histogram_quantile() does; in the +Inf bucket, the highest
 * finite bound. Undefined when nothing was observed.
 */
export function quantile(q: number, cumulative: readonly Bucket[]): number | undefined {
  const observed = cumulative.at(-1)?.count ?? 0;
  if (observed <= 0) return undefined;
  const rank = q * observed;
  const i = cumulative.findIndex((b) => b.count >= rank);
  const b = cumulative[i];
  if (b.le === Infinity) return i > 0 ? cumulative[i - 1].le : undefined;
  const lower = i > 0 ? cumulative[i - 1].le : 0;
  const below = i > 0 ? cumulative[i - 1].count : 0;
  if (b.count === below) return b.le;
  return lower + ((b.le - lower) * (rank - below)) / (b.count - below);
}
