// Connects the configured master source to the agent. A good report replaces the master list
// and ZooKeeper ensemble atomically (one line logged per change); a failure never empties them:
// the last good list stays, and the error is logged once when the source starts failing (and
// once when it recovers), not per retry.
import type { Logger } from 'pino';
import type { Endpoint } from '../../common/config/endpoint.js';
import type { Config } from '../../common/config/schema.js';
import { exhibitorSource } from './exhibitor.js';
import { masterListFileSource } from './master-list-file.js';
import type { DiscoveredCluster } from './parse.js';
import type { MasterSourceRunner } from './source.js';
import { ZooKeeperSource } from './zookeeper.js';

/** Where the masters come from and how that source is doing, for the HTTP API. */
export interface DiscoveryStatus {
  source: Config['mesos']['source']['kind'];
  state: 'ok' | 'connecting' | 'error';
  /** The source's address, secrets left out. */
  location?: string;
  leader?: string;
  masters?: string[];
  zookeepers?: string[];
  updatedAt?: string;
  /** The last failure, while failing. */
  detail?: string;
  failedAt?: string;
}

/** What discovery reports to: the agent, which applies each report to the servers and zones. */
export interface DiscoveryReports {
  /** A good report: the masters to ask (with the Mesos-DNS port), and what that changed. */
  masters(masters: Endpoint[]): { added: string[]; removed: string[] };
  /** The ZooKeeper ensemble, when the source knows it. */
  ensemble(hosts: string[]): void;
  /** The masters in use now ("ip:port"), named when discovery fails and they are kept. */
  currentMasters(): string[];
}

export function createSource(config: Config): MasterSourceRunner | undefined {
  const m = config.mesos;
  const s = m.source;
  switch (s.kind) {
    case 'static':
      return undefined;
    case 'file':
      return masterListFileSource(s.path, m.refreshMs, m.retryMs);
    case 'exhibitor':
      return exhibitorSource(s.url, m.refreshMs, m.retryMs, m.requestTimeoutMs);
    case 'zookeeper':
      return new ZooKeeperSource({
        hosts: s.hosts,
        path: s.path,
        auth: s.auth,
        display: s.display,
        sessionTimeoutMs: m.zkSessionTimeoutMs,
        requestTimeoutMs: m.requestTimeoutMs,
        refreshMs: m.refreshMs,
        retryMs: m.retryMs,
      });
  }
}

export class Discovery {
  private runner: MasterSourceRunner | undefined;
  private lastError: string | undefined;
  private latest: DiscoveryStatus;

  constructor(
    private readonly config: Config,
    private readonly reports: DiscoveryReports,
    private readonly log: Logger,
  ) {
    this.latest = { source: config.mesos.source.kind, state: 'ok' };
  }

  get status(): DiscoveryStatus {
    return this.latest;
  }

  start(): void {
    const s = this.config.mesos.source;
    this.runner = createSource(this.config);
    if (!this.runner) return;
    const display = 'display' in s ? s.display : s.kind;
    this.latest = { source: s.kind, location: display, state: 'connecting' };
    this.log.info({ source: s.kind, location: display }, 'master discovery started');
    this.runner.start({
      update: (cluster) => this.apply(cluster),
      failure: (err) => this.failed(err),
      notice: (message, details) => this.log.warn({ source: s.kind, location: display, ...details }, message),
    });
  }

  private apply(cluster: DiscoveredCluster): void {
    const port = this.config.mesos.port;
    const change = this.reports.masters(cluster.masters.map((host) => ({ host, port, family: host.includes(':') ? 6 : 4 })));
    if (cluster.zookeepers) this.reports.ensemble(cluster.zookeepers);
    const s = this.config.mesos.source;
    const recovered = this.lastError !== undefined;
    this.lastError = undefined;
    this.latest = {
      source: s.kind,
      location: 'display' in s ? s.display : s.kind,
      state: 'ok',
      leader: cluster.leader,
      masters: cluster.masters,
      zookeepers: cluster.zookeepers,
      updatedAt: new Date().toISOString(),
    };
    if (change.added.length || change.removed.length) {
      this.log.info(
        { added: change.added, removed: change.removed, masters: cluster.masters, leader: cluster.leader, zookeepers: cluster.zookeepers },
        'masters changed',
      );
    } else if (recovered) {
      this.log.info({ source: s.kind, masters: cluster.masters }, 'master discovery recovered; the master list is unchanged');
    }
  }

  private failed(err: Error): void {
    this.latest = { ...this.latest, state: 'error', detail: err.message, failedAt: new Date().toISOString() };
    // Once per change of state (working → failing), not per retry or per wording of the error:
    // the current reason is always in /v1/enumerate.
    if (this.lastError !== undefined) {
      this.lastError = err.message;
      this.log.debug({ err: err.message }, 'master discovery still failing');
      return;
    }
    this.lastError = err.message;
    const kept = this.reports.currentMasters();
    // Retried with backoff either way; "recovered" or "masters changed" is logged when it answers.
    this.log.warn(
      { source: this.config.mesos.source.kind, err: err.message, keptMasters: kept },
      kept.length
        ? 'master discovery failed; keeping the last good masters'
        : 'master discovery failed; no masters known yet, so Mesos names get SERVFAIL',
    );
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
  }
}
