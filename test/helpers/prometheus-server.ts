// A real Prometheus server (the binary test/install-prometheus.sh extracts) on 127.0.0.1, with its
// own storage in a temp dir, scraping agents' /v1/metrics as job="phalanx-dns" and evaluating the
// shipped alert rules, so a test can see which alerts an operator would be paged with.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { freePort } from '../../sim/ports.js';
import { LoggedProcess } from './logged-process.js';
import { RULES_FILE, type Rule, requirePrometheusBinary } from './monitoring-queries.js';

export interface ActiveAlert {
  labels: Record<string, string> & { alertname: string };
  state: 'pending' | 'firing';
  activeAt: string;
}

export interface PrometheusOptions {
  /** "ip:port" of each agent's HTTP API. */
  targets: string[];
  /** Every alert's `for:` becomes this, so that a test waits seconds where an operator waits minutes. */
  alertFor: string;
  /** How often it scrapes and evaluates the rules, e.g. "1s". */
  interval: string;
}

/** The rules file as shipped, but for each alert's `for:`. */
export function rulesWithFor(alertFor: string, file = RULES_FILE): string {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
  for (const rule of doc.groups.flatMap((g) => g.rules)) if (rule.alert) rule.for = alertFor;
  return stringifyYaml(doc);
}

export class PrometheusServer {
  private constructor(
    readonly url: string,
    readonly process: LoggedProcess,
    private readonly dir: string,
  ) {}

  static async start(opts: PrometheusOptions): Promise<PrometheusServer> {
    const binary = requirePrometheusBinary('prometheus');
    const dir = mkdtempSync(join(tmpdir(), 'phalanx-prometheus-'));
    writeFileSync(join(dir, 'phalanx-dns.rules.yml'), rulesWithFor(opts.alertFor));
    const config = {
      global: { scrape_interval: opts.interval, scrape_timeout: opts.interval, evaluation_interval: opts.interval },
      rule_files: [join(dir, 'phalanx-dns.rules.yml')],
      scrape_configs: [{ job_name: 'phalanx-dns', metrics_path: '/v1/metrics', static_configs: [{ targets: opts.targets }] }],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringifyYaml(config));
    const port = await freePort('127.0.0.1');
    const proc = new LoggedProcess([
      binary,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--log.level=warn',
    ]);
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, proc, dir);
    try {
      await server.waitFor('it is ready', 20_000, async () => (await fetch(`${server.url}/-/ready`)).ok);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** Alerts pending or firing now. */
  async alerts(): Promise<ActiveAlert[]> {
    return (await this.api<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts;
  }

  /** Polls the active alerts until `pred` holds for them; past `timeoutMs` rejects with them. */
  waitForAlerts(what: string, timeoutMs: number, pred: (alerts: ActiveAlert[]) => boolean): Promise<ActiveAlert[]> {
    return this.waitFor(what, timeoutMs, async () => {
      const alerts = await this.alerts();
      if (pred(alerts)) return alerts;
      throw new Error(`alerts ${JSON.stringify(alerts.map((a) => ({ ...a.labels, state: a.state })))}`);
    });
  }

  /** Each scrape target's instance label and health ("up", "down", "unknown" before its first scrape). */
  async targets(): Promise<Array<{ instance: string; health: string; lastScrape: string }>> {
    const data = await this.api<{ activeTargets: Array<{ labels: { instance: string }; health: string; lastScrape: string }> }>(
      '/api/v1/targets',
    );
    return data.activeTargets.map((t) => ({ instance: t.labels.instance, health: t.health, lastScrape: t.lastScrape }));
  }

  /** When the rule group was last evaluated (ms since the epoch; 0 before the first time). */
  async lastEvaluation(): Promise<number> {
    const data = await this.api<{ groups: Array<{ lastEvaluation: string }> }>('/api/v1/rules');
    const t = Math.min(...data.groups.map((g) => Date.parse(g.lastEvaluation)));
    return Number.isFinite(t) && t > 0 ? t : 0;
  }

  /**
   * Polls `check` until it returns something truthy; past `timeoutMs` rejects, naming `what` and
   * the last value seen (the alerts, say), or when Prometheus has exited.
   */
  async waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T>, pollMs = 200): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      if (this.process.exit) throw new Error(`prometheus exited before ${what}:\n${this.process.dump()}`);
      try {
        const value = await check();
        if (value) return value as NonNullable<T>;
        last = value;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) {
        throw new Error(`not within ${timeoutMs} ms: ${what}; last seen: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Stops it (SIGTERM to its pid, SIGKILL past the grace time) and removes its storage. */
  async stop(): Promise<void> {
    try {
      await this.process.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
