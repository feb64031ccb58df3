// Which nameservers resolv.conf should list. Pure: the probe results come in, the choice and the
// reasons for everything left out come back.
//
// The agent's addresses when it answers; otherwise the upstream resolvers, so a node whose agent
// is dead or hung still resolves names (slower, and without the Mesos domain) until it recovers.
import { type Endpoint, formatEndpoint } from '../common/config/endpoint.js';
import { type ProbeResult, reachableEndpoint } from '../common/ready-probe.js';

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

export interface NameserverChoice {
  source: 'agent' | 'upstreams' | 'none';
  nameservers: string[];
  /** What was left out and why; for 'none', why there is nothing to write. */
  notes: string[];
}

function firstDistinct(addresses: string[], what: string, notes: string[]): string[] {
  const distinct = [...new Set(addresses)];
  if (distinct.length > MAXNS) {
    notes.push(`only the first ${MAXNS} ${what} are listed (glibc reads at most ${MAXNS}): ${distinct.slice(MAXNS).join(', ')} left out`);
  }
  return distinct.slice(0, MAXNS);
}

/**
 * `agent`: probe results for the agent's port-53 addresses, in listen order. `upstreams`: the
 * configured upstream resolvers (any port; non-53 ones are skipped with a note).
 */
export function chooseNameservers(agent: ProbeResult[], upstreams: Endpoint[]): NameserverChoice {
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

  const agentPart =
    agent.length === 0
      ? 'the agent has no port-53 address in "listen"'
      : `the agent does not answer ready.spartan on ${agent.map((r) => `${formatEndpoint(r.endpoint)} (${r.reason ?? 'no answer'})`).join(', ')}`;
  const upstreamPart = upstreams.length === 0 ? 'no "upstreams" are configured' : 'no upstream is on port 53';
  notes.push(`nothing to list: ${agentPart}, and ${upstreamPart}`);
  return { source: 'none', nameservers: [], notes };
}
