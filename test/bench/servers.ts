// The benchmark's fake cluster in a process of its own, so the fake masters (JavaScript, and
// possibly slower than the agent) do not share an event loop with the agent or the driver.
//
// Prints one JSON line with the endpoints on stdout, then takes commands on stdin, one per line,
// and answers each with one JSON line:
//   silent N | answer N   switch fake master N (0-based) to silent / answering
//   stats                 queries each fake received since the last `stats` (then resets them)
// Exits on SIGTERM/SIGINT or when stdin closes (the driver went away).
import { createInterface } from 'node:readline';
import { startCluster } from '../helpers/cluster.js';

// No big app (bigTasks 0): the bench never asks for it, and a long record list only makes every
// fake answer slower.
const cluster = await startCluster({ masters: 3, upstreams: 2, bigTasks: 0 });
const all = [...cluster.masters, ...cluster.upstreams];

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

function reply(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const lines = createInterface({ input: process.stdin });
lines.on('close', () => void stop(0));
lines.on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  const master = cluster.masters[Number(arg)];
  if ((cmd === 'silent' || cmd === 'answer') && master) {
    master.setBehaviour({ kind: cmd });
    reply({ ok: true, master: master.endpoint, behaviour: cmd });
  } else if (cmd === 'stats') {
    const count = (s: (typeof all)[number]) => s.queryCount();
    reply({ ok: true, masters: cluster.masters.map(count), upstreams: cluster.upstreams.map(count) });
    for (const s of all) s.resetQueries();
  } else {
    reply({ ok: false, error: `unknown command: ${line}` });
  }
});

reply({
  masters: cluster.masters.map((m) => m.endpoint),
  upstreams: cluster.upstreams.map((u) => u.endpoint),
});
