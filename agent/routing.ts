// Where a name goes, first match wins: the Mesos domain, the local zones, a forward zone
// (longest match), else the upstreams. Pure, so the precedence is unit-tested.
import { inZone } from '../common/dns/names.js';

export type Route = { kind: 'mesos' } | { kind: 'local'; zone: string } | { kind: 'forward'; zone: string } | { kind: 'upstream' };

export interface RoutingTable {
  mesosDomain: string;
  localZones: readonly string[];
  forwardZones: readonly string[];
}

export function route(name: string, table: RoutingTable): Route {
  if (inZone(name, table.mesosDomain)) return { kind: 'mesos' };
  const local = table.localZones.find((z) => inZone(name, z));
  if (local !== undefined) return { kind: 'local', zone: local };
  let best: string | undefined;
  for (const z of table.forwardZones) {
    if (inZone(name, z) && (best === undefined || z.length > best.length)) best = z;
  }
  if (best !== undefined) return { kind: 'forward', zone: best };
  return { kind: 'upstream' };
}
