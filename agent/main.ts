#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=2 --heap-growing-percent=80
// (Memory settings on the #! line, where the systemd unit's ExecStart finds them, because
// NODE_OPTIONS cannot carry --heap-growing-percent; docs/design.md "Memory settings" says why each.)
// phalanx-dns: the per-node resolver daemon. Parses the command line, loads the config (exiting
// with one clear line when it is wrong), starts the agent and wires SIGTERM/SIGINT and SIGHUP.
// `phalanx-dns status|explain …` are operator commands that ask a running agent instead.
import { Agent } from './agent.js';
import { OPERATOR_COMMANDS, runOperatorCommand } from './cli/operator-commands.js';
import { failAndExit, readCommandLine } from '../common/config/command-line.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../common/config/load.js';
import { createLogger } from '../common/log.js';
import { SystemdNotifier } from './systemd/notify.js';
import { inheritedSockets } from './systemd/socket-activation.js';

const USAGE = `Usage: phalanx-dns [--config FILE] [--allow-root] [--check-config]
       phalanx-dns status|explain ...   ask the running agent (phalanx-dns status --help)

Per-node DNS resolver for Mesos clusters: answers ready.spartan and zk-1..zk-5.zk itself, forwards
names under the Mesos domain to the Mesos-DNS masters and everything else to the upstreams (the best
server first, the next when it is late or fails; "dispatch": "race" asks several at once).

Options:
  -c, --config FILE   JSON config file (default ${DEFAULT_CONFIG_PATH})
      --check-config  validate the config file and exit: 0 valid, 2 not (with the reason)
      --allow-root    run even as root (refused otherwise: run it as an unprivileged user
                      with CAP_NET_BIND_SERVICE, as the systemd unit does)
  -h, --help          show this help
  -v, --version       print the version

Signals: SIGTERM/SIGINT finish in-flight queries and exit 0; SIGHUP reloads the config file
(an invalid file is logged and the running config kept).`;

const fail = (message: string, code?: number): never => failAndExit('phalanx-dns', message, code);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if ((OPERATOR_COMMANDS as readonly string[]).includes(argv[0])) {
    // exit() at once: fetch keeps idle connections that would hold the process for seconds.
    process.exit(await runOperatorCommand(argv));
  }
  const {
    config,
    configPath: path,
    values,
  } = readCommandLine('phalanx-dns', USAGE, argv, {
    'allow-root': { type: 'boolean' },
    'check-config': { type: 'boolean' },
  });
  if (values['check-config']) {
    process.stdout.write(`phalanx-dns: config ${path} is valid\n`);
    process.exit(0);
  }
  // A daemon that parses packets from the network should hold no more privilege than port 53 needs.
  const asRoot = process.getuid?.() === 0;
  if (asRoot && !values['allow-root']) {
    fail(
      'refusing to run as root: run it as an unprivileged user with CAP_NET_BIND_SERVICE for port 53, as deploy/systemd/phalanx-dns.service does (User=phalanx-dns, AmbientCapabilities=CAP_NET_BIND_SERVICE), or pass --allow-root to run as root anyway',
    );
  }

  const log = createLogger('phalanx-dns', config.log.level);
  if (asRoot) {
    log.warn(
      { hint: 'a flaw in the agent would give the whole node away; run it as an unprivileged user with CAP_NET_BIND_SERVICE' },
      'running as root (--allow-root)',
    );
  }
  let inherited;
  try {
    inherited = inheritedSockets();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot use the sockets systemd passed');
    fail((err as Error).message, 1);
  }
  const systemd = new SystemdNotifier(log);
  const agent = new Agent(config, log);
  try {
    await agent.start(inherited);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    const hint =
      e.code === 'EADDRNOTAVAIL'
        ? 'the address is not configured on this host (create the spartan interface first: deploy/spartan-interface.sh up)'
        : e.code === 'EACCES'
          ? 'binding a port below 1024 needs root or CAP_NET_BIND_SERVICE'
          : e.code === 'EADDRINUSE'
            ? 'another process already listens there'
            : e.message;
    log.fatal({ err, address: e.address, port: e.port, reason: hint }, 'cannot listen on a configured address');
    fail(`cannot listen on ${e.address ?? '?'}:${e.port ?? '?'}: ${hint}`, 1);
  }
  const status = () => `serving ${agent.listenAddresses.join(', ')}`;

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, inflight: agent.inflight }, 'shutting down: finishing in-flight queries');
    void systemd.notify({ STOPPING: '1', STATUS: 'shutting down: finishing in-flight queries' });
    agent.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    void systemd.notify({ RELOADING: '1', STATUS: 'reloading the config' });
    try {
      const next = loadConfig(path);
      log.level = next.log.level;
      agent.reload(next);
    } catch (err) {
      log.error(
        { err: (err as Error).message, config: path, hint: 'fix the file and reload again' },
        'config reload failed; keeping the running config',
      );
    }
    void systemd.notify({ READY: '1', STATUS: status() });
  });
  // Only now: a unit ordered after the agent may rely on it answering.
  void systemd.notify({ READY: '1', STATUS: status() });
}

main().catch((err) => {
  process.stderr.write(`phalanx-dns: unexpected error: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
