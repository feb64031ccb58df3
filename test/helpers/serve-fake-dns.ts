// A fake upstream resolver or Mesos-DNS master as a standalone process, for tests that need one
// where an in-process server cannot be: inside a network namespace or a booted test node
// (`ip netns exec NS node serve-fake-dns.js ...`). Serves example.org (www.example.org A
// 192.0.2.80), or with --zone mesos the marathon app of cluster.ts, on every --listen ip:port or
// [::1]:port, prints one JSON line {"listening": [...]} once all are bound, and exits on SIGTERM
// or SIGINT.
import { parseArgs } from 'node:util';
import { parseEndpoint } from '../../common/config/endpoint.js';
import { UPSTREAM_RECORDS, fakeMasterRecords } from './cluster.js';
import { FakeDnsServer } from '../../sim/fake-dns.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { listen: { type: 'string', multiple: true }, zone: { type: 'string', default: 'example.org' } },
    strict: true,
  });
  const listen = values.listen ?? [];
  const zone = values.zone;
  if (listen.length === 0 || (zone !== 'example.org' && zone !== 'mesos')) {
    throw new Error('usage: serve-fake-dns [--zone example.org|mesos] --listen IP:PORT [--listen IP:PORT ...]');
  }
  const servers: FakeDnsServer[] = [];
  for (const text of listen) {
    const endpoint = parseEndpoint(text);
    if (!endpoint) throw new Error(`--listen ${text}: not ip:port or [ipv6]:port`);
    servers.push(
      await FakeDnsServer.start({
        address: endpoint.host,
        port: endpoint.port,
        zone,
        records: zone === 'mesos' ? fakeMasterRecords() : UPSTREAM_RECORDS,
        udpLimit: zone === 'mesos' ? undefined : 'edns',
      }),
    );
  }
  const stop = () => void Promise.all(servers.map((s) => s.stop())).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(JSON.stringify({ listening: servers.map((s) => s.endpoint) }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`serve-fake-dns: ${(err as Error).message}\n`);
  process.exit(1);
});
