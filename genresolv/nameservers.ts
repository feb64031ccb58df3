// Which nameservers resolv.conf should list. Pure: the ready checks come in, the choice and the
// reasons for everything left out come back.
//
// The agent's addresses when it answers; otherwise the upstream resolvers, so a node whose agent
// is dead or hung still resolves names (slower, and without the Mesos domain) until it recovers.
import { isIPv6 } from 'node:net';
import { type Endpoint, formatEndpoint } from '../common/config/endpoint.js';
import { type ReadyCheckResult, reachableEndpoint } from '../common/ready-check.js';

/**
 * glibc reads at most three nameserver lines (MAXNS). The agent has four addresses, three IPv4 and
 * one IPv6, so one is left out: see limitToMaxns for which.
 */
export const MAXNS = 3;
/** resolv.conf has no syntax for a port: every nameserver is asked on 53. */
export const RESOLV_CONF_PORT = 53;

export interface Candidates {
  usable: Endpoint[];
  /** One sentence per address left out. */
  skipped: string[];
}

/** The addresses resolv.conf can name: those on port 53. */
export function resolvConfCandidates(endpoints: Endpoint[], key: string): Candidates {
  const usable: Endpoint[] = [];
  const skipped: string[] = [];
  for (const e of endpoints) {
    if (e.port === RESOLV_CONF_PORT) usable.push(e);
    else skipped.push(`${formatEndpoint(e)} ("${key}") skipped: resolv.conf cannot give a port, so only port-53 addresses can be listed`);
  }
  return { usable, skipped };
}

export type NameserverChoice =
  | {
      source: 'agent' | 'upstreams';
      nameservers: string[];
      /** What was left out, and why. */
      notes: string[];
      /**
       * Agent addresses that answered but did not fit in MAXNS, and why: the default four always
       * leave one out, so this is information, not a warning.
       */
      leftOut?: string;
    }
  | {
      source: 'none';
      nameservers: [];
      notes: string[];
      /** Why there is nothing to list; each agent address's own reason is in its ready check. */
      why: string;
    };

/**
 * At most MAXNS of `addresses` (IP literals, each once), in their order, keeping the first of each
 * address family: of the agent's default four, 198.51.100.1, 198.51.100.2 and fd01:d::c633:6401.
 * All four reach the same agent, so a third IPv4 line adds little, while the IPv6 one is the only
 * nameserver a client with only IPv6 can reach (a container on an IPv6-only network that is given
 * the node's resolv.conf). IPv4 stays first, as in `listen`: glibc asks in order.
 */
export function limitToMaxns(addresses: string[]): { listed: string[]; leftOut: string[] } {
  const distinct = [...new Set(addresses)];
  if (distinct.length <= MAXNS) return { listed: distinct, leftOut: [] };
  const family = (a: string) => (isIPv6(a) ? 6 : 4);
  const kept = new Set<string>();
  for (const f of [4, 6]) {
    const first = distinct.find((a) => family(a) === f);
    if (first !== undefined) kept.add(first);
  }
  for (const a of distinct) if (kept.size < MAXNS) kept.add(a);
  return { listed: distinct.filter((a) => kept.has(a)), leftOut: distinct.filter((a) => !kept.has(a)) };
}

/** limitToMaxns, and what it left out in a sentence (none when nothing was). */
function leftOutNote(addresses: string[], what: string): { listed: string[]; note?: string } {
  const { listed, leftOut } = limitToMaxns(addresses);
  if (leftOut.length === 0) return { listed };
  const bothFamilies = new Set(listed.map((a) => isIPv6(a))).size === 2;
  const which = bothFamilies ? `${MAXNS} ${what}` : `the first ${MAXNS} ${what}`;
  const ipv6 = bothFamilies ? ', one of each address family' : '';
  return { listed, note: `only ${which} are listed (glibc reads at most ${MAXNS})${ipv6}: ${leftOut.join(', ')} left out` };
}

/**
 * `agent`: the ready checks of the agent's port-53 addresses, in listen order. `upstreams`: the
 * configured upstream resolvers (any port; non-53 ones are skipped with a note).
 */
export function chooseNameservers(agent: ReadyCheckResult[], upstreams: Endpoint[]): NameserverChoice {
  const notes: string[] = [];
  const answering = agent.filter((r) => r.ok).map((r) => reachableEndpoint(r.endpoint).host);
  if (answering.length > 0) {
    const { listed, note } = leftOutNote(answering, 'answering agent addresses');
    return { source: 'agent', nameservers: listed, notes, ...(note ? { leftOut: note } : {}) };
  }

  const { usable, skipped } = resolvConfCandidates(upstreams, 'upstreams');
  notes.push(...skipped);
  if (usable.length > 0) {
    // More than MAXNS upstreams is the operator's list to shorten: a warning.
    const { listed, note } = leftOutNote(
      usable.map((u) => u.host),
      'upstreams',
    );
    if (note) notes.push(note);
    return { source: 'upstreams', nameservers: listed, notes };
  }

  const agentPart = agent.length === 0 ? 'the agent has no port-53 address in "listen"' : 'the agent does not answer ready.spartan';
  const upstreamPart = upstreams.length === 0 ? 'no "upstreams" are configured' : 'no upstream is on port 53';
  return { source: 'none', nameservers: [], notes, why: `nothing to list: ${agentPart}, and ${upstreamPart}` };
}
