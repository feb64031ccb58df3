// The agent's /v1/metrics as a test reads it: one scrape, and the value of one metric in it.

/** One scrape of the agent's Prometheus text from its HTTP API. */
export async function scrapeMetrics(httpPort: number, host = '127.0.0.1'): Promise<string> {
  return (await fetch(`http://${host}:${httpPort}/v1/metrics`)).text();
}

/**
 * The sum of `name`'s samples whose labels include every one of `labels` (all of them when
 * `labels` is empty), 0 when there is none: a count that is split by a label the test does not
 * care about (a stale answer's reason, the transport) is then read whole.
 */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => wanted.every((w) => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** sampleSum on a fresh scrape of the agent on `httpPort`. */
export async function metricValue(httpPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sampleSum(await scrapeMetrics(httpPort), name, labels);
}
