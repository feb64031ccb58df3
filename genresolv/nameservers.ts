// Which nameservers resolv.conf should list. Pure: the ready checks come in, the choice and the
// reasons for everything left out come back.
//
// The agent's addresses when it answers; otherwise the upstream resolvers, so a node whose agent
// is dead or hung still resolves names (slower, and without the Mesos domain) until it recovers.
import { type Endpoint, formatEndpoint } from '../common/config/endpoint.js';
import { type ReadyCheckResult, reachableEndpoint } from '../common/ready-check.js';

/** glibc reads at most three nameserver lines (MAXNS); that is why the agent has three addresses. */
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
    }
  | {
      source: 'none';
      nameservers: [];
      notes: string[];
      /** Why there is nothing to list; each agent address's own reason is in its ready check. */
      why: string;
    };

function firstDistinct(addresses: string[], what: string, notes: string[]): string[] {
  const distinct = [...new Set(addresses)];
  if (distinct.length > MAXNS) {
    notes.push(`only the first ${MAXNS} ${what} are listed (glibc reads at most ${MAXNS}): ${distinct.slice(MAXNS).join(', ')} left out`);
  }
  return distinct.slice(0, MAXNS);
}

/**
 * `agent`: the ready checks of the agent's port-53 addresses, in listen order. `upstreams`: the
 * configured upstream resolvers (any port; non-53 ones are skipped with a note).
 */
export function chooseNameservers(agent: ReadyCheckResult[], upstreams: Endpoint[]): NameserverChoice {
  const notes: string[] = [];
  const answering = agent.filter((r) => r.ok).map((r) => reachableEndpoint(r.endpoint).host);
  if (answering.length > 0) {
    return { source: 'agent', nameservers: firstDistinct(answering, 'answering agent addresses', notes), notes };
  }

  const { usable, skipped } = resolvConfCandidates(upstreams, 'upstreams');
  notes.push(...skipped);
  if (usable.length > 0) {
    return {
      source: 'upstreams',
      nameservers: firstDistinct(
        usable.map((u) => u.host),
        'upstreams',
        notes,
      ),
      notes,
    };
  }

  const agentPart = agent.length === 0 ? 'the agent has no port-53 address in "listen"' : 'the agent does not answer ready.spartan';
  const upstreamPart = upstreams.length === 0 ? 'no "upstreams" are configured' : 'no upstream is on port 53';
  return { source: 'none', nameservers: [], notes, why: `nothing to list: ${agentPart}, and ${upstreamPart}` };
}
