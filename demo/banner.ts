// What the demo prints once everything answers: where things are, what to dig, how to break it.
import type { Answer } from 'dns-packet';
import { type Endpoint, formatEndpoint } from '../common/config/endpoint.js';
import { DEFAULT_CONTROL } from './control.js';

export interface BannerInfo {
  listen: Endpoint;
  http: Endpoint | undefined;
  control: Endpoint;
  masters: string[];
  upstreams: string[];
  upstreamZone: string;
  domain: string;
  stateFile: string;
  /** One master's records, to pick names that exist in this state. */
  records: Answer[];
  /** The command that runs a control subcommand, e.g. "npm run demo --". */
  command: string;
  notes: string[];
}

/**
 * A task name and its service to show, taken from the records: the first `_task._tcp.framework`
 * SRV name directly under the domain (not .slave, not a named port, not a built-in service).
 */
export function exampleNames(records: Answer[], domain: string): { task?: string; service?: string } {
  const suffix = `.${domain}`;
  for (const r of records) {
    if (r.type !== 'SRV' || !r.name.endsWith(suffix)) continue;
    const m = /^_([^._]+)\._tcp\.(.+)$/.exec(r.name.slice(0, -suffix.length));
    if (!m || m[2].endsWith('.slave') || m[2] === 'slave' || ['framework', 'leader', 'slave'].includes(m[1])) continue;
    const task = `${m[1]}.${m[2]}${suffix}`;
    if (records.some((a) => a.name === task && (a.type === 'A' || a.type === 'AAAA'))) return { task, service: r.name };
  }
  const a = records.find(
    (r) =>
      r.type === 'A' &&
      /^[^._]+\.[^_]+$/.test(r.name) &&
      !r.name.includes('.slave.') &&
      r.name.split('.').length > 1 + domain.split('.').length,
  );
  return a ? { task: a.name } : {};
}

/** Commands with their comments aligned; a command without a comment does not widen the column. */
function table(rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.filter(([, what]) => what).map(([cmd]) => cmd.length)) + 3;
  return rows.map(([cmd, what]) => (what ? `  ${cmd.padEnd(width)}# ${what}` : `  ${cmd}`));
}

export function banner(b: BannerInfo): string {
  const dig = `dig @${b.listen.host}${b.listen.port === 53 ? '' : ` -p ${b.listen.port}`}`;
  const { task, service } = exampleNames(b.records, b.domain);
  const control = formatEndpoint(b.control);
  const cli = `${b.command}${control === DEFAULT_CONTROL ? '' : ` --control ${control}`}`;
  const numbered = (list: string[]) => list.map((a, i) => `${i + 1} ${a}`).join('   ');

  const tryRows: Array<[string, string]> = [];
  if (task) tryRows.push([`${dig} ${task}`, "the tasks' IPs, from the Mesos-DNS masters"]);
  if (service) tryRows.push([`${dig} ${service} SRV`, 'their ports; A records in ADDITIONAL']);
  tryRows.push(
    [`${dig} leader.${b.domain}`, 'the leading Mesos master'],
    [`${dig} ready.spartan`, 'answered by the agent itself'],
    [`${dig} zk-1.zk`, 'the ZooKeeper ensemble (here: the masters)'],
    [`${dig} www.${b.upstreamZone}`, 'everything else goes to the upstreams'],
  );
  if (b.http && service) tryRows.push([`curl -s ${formatEndpoint(b.http)}/v1/services/${service}`, '']);
  else if (b.http && task) tryRows.push([`curl -s ${formatEndpoint(b.http)}/v1/hosts/${task}`, '']);

  const watched = task ?? `leader.${b.domain}`;
  const failRows: Array<[string, string]> = [
    [`${cli} hang master 1`, `or: curl -X POST ${control}/masters/1/hang`],
    [`for i in 1 2 3 4 5 6; do ${dig} ${watched} | grep -E 'status|Query time'; done`, ''],
    [`${dig} ns1.${b.domain} +short`, 'the address of the master that answered'],
    [`${cli} revive master 1`, ''],
    [`${cli} stop master all`, `every master gone: ${b.domain} names asked before get their last answer (TTL 30), others SERVFAIL`],
    [`${cli} status`, 'also: stop|hang|revive upstream N|all'],
  ];

  return [
    '',
    'phalanx-dns demo: the agent and a simulated Mesos cluster, all on loopback; nothing leaves this machine.',
    '',
    `  agent      DNS ${formatEndpoint(b.listen)} (UDP and TCP)${b.http ? `   HTTP API http://${formatEndpoint(b.http)}` : ''}`,
    `  masters    ${numbered(b.masters)}`,
    `             Mesos-DNS, records from ${b.stateFile} (domain ${b.domain})`,
    `  upstreams  ${numbered(b.upstreams)}`,
    `             zone ${b.upstreamZone}; REFUSED for anything else`,
    `  controls   http://${control}`,
    ...b.notes.map((n) => `  note: ${n}`),
    '',
    'Try, in another terminal:',
    ...table(tryRows),
    '',
    'See failover live: hang a master (socket open, never answers) and keep asking; answers keep coming fast:',
    ...table(failRows),
    '',
    'Ctrl-C stops the agent and every simulated server.',
    '',
  ].join('\n');
}
