// The zk zone always names five hosts, zk-1 … zk-5, so clients can list a fixed connection
// string. Fewer ZooKeepers are repeated in order; more than five keep the first five (dcos-dns).
export const ZK_NAMES = 5;

export function zkHostsByName(ensemble: readonly string[]): string[] {
  if (ensemble.length === 0) return [];
  return Array.from({ length: ZK_NAMES }, (_, i) => ensemble[i % ensemble.length]);
}
