#!/usr/bin/env node
// The demo behind `npm start`: the real agent plus a simulated Mesos cluster on loopback, so a
// newcomer can dig at once, then break masters and upstreams and watch the agent route around
// them. `main.js stop|hang|revive master|upstream N|all` and `main.js status` control a running demo.
import { mkdtempSync, readFileSync, rmSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Endpoint, formatEndpoint, isLoopback, parseEndpoint } from '../common/config/endpoint.js';
import { ConfigLoadError, loadConfig } from '../common/config/load.js';
import type { Config } from '../common/config/schema.js';
import { AgentChild, clock } from './agent.js';
import { banner } from './banner.js';
import { type Role, type ServerAction, ServerStartError, SimulatedCluster, UPSTREAM_ZONE, loadMesosZone } from './cluster.js';
import { ACTIONS, type ActionResult, DEFAULT_CONTROL, closeControlServer, controlRequest, startControlServer } from './control.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_CONFIG = join(REPO_ROOT, 'deploy/demo/phalanx.json');
const DEFAULT_STATE = join(REPO_ROOT, 'deploy/demo/mesos-state.json');

const USAGE = `Usage: node dist/demo/main.js [options]                       run the demo (what npm start does)
       node dist/demo/main.js stop|hang|revive master|upstream N|all   control a running demo
       node dist/demo/main.js status|reload
       (through npm: npm run demo -- hang master 1)

Starts the agent on the addresses of its config, Mesos-DNS-like masters at its mesos.masters and
upstream resolvers at its upstreams, all on 127.0.0.0/8, and prints what to try.

Options:
  -c, --config FILE      agent config (default deploy/demo/phalanx.json)
  -s, --state FILE       Mesos master state the masters serve (default deploy/demo/mesos-state.json);
                         edits are picked up while the demo runs
      --enforce-rfc952   mangle names by RFC 952 (24 characters) instead of RFC 1123, like Mesos-DNS's
                         enforceRFC952
      --control ADDR     the demo's own control endpoint (default ${DEFAULT_CONTROL})
  -h, --help             show this help

Actions: stop (close its sockets), hang (sockets open, never answers), revive.`;

function say(text: string): void {
  process.stdout.write(`${clock()} ${text}\n`);
}

function fail(message: string, code = 2): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(code);
}

function endpointArg(text: string, what: string): Endpoint {
  const e = parseEndpoint(text);
  if (!e) fail(`${what} "${text}" is not an address like 127.0.0.1:62081`);
  if (!isLoopback(e)) fail(`${what} ${text}: the demo only uses 127.0.0.0/8`);
  return e;
}

// ---- control subcommands ------------------------------------------------------------------------

async function runCommand(words: string[], control: Endpoint): Promise<number> {
  const [verb, roleWord, which] = words;
  if (verb === 'status' && words.length === 1) {
    const r = await controlRequest(control, 'GET', '/');
    printStatus(r.body as StatusBody);
    return 0;
  }
  if (verb === 'reload' && words.length === 1) {
    const r = await controlRequest(control, 'POST', '/reload');
    const body = r.body as { records?: number; error?: string };
    console.log(r.status === 200 ? `reloaded: ${body.records} records` : `not reloaded: ${body.error}`);
    return r.status === 200 ? 0 : 1;
  }
  const role = roleWord?.replace(/s$/, '');
  if (!(ACTIONS as readonly string[]).includes(verb) || (role !== 'master' && role !== 'upstream') || !which || words.length !== 3) {
    fail(`unknown command "${words.join(' ')}"\n${USAGE}`);
  }
  const r = await controlRequest(control, 'POST', `/${role}s/${which}/${verb}`);
  if (r.status !== 200) {
    console.error(`demo: ${(r.body as { error?: string }).error ?? `status ${r.status}`}`);
    return 1;
  }
  const { changed, unchanged } = r.body as ActionResult;
  for (const s of changed) console.log(`${s.role} ${s.index} (${s.address}): now ${describeState(s.state)}`);
  for (const s of unchanged) console.log(`${s.role} ${s.index} (${s.address}): already ${describeState(s.state)}`);
  return 0;
}

function describeState(state: string): string {
  return state === 'hung' ? 'hung (socket open, never answers)' : state === 'stopped' ? 'stopped (sockets closed)' : 'up';
}

interface StatusBody {
  agent: { pid?: number; dns: string; http: string; running: boolean };
  state: string;
  servers: Array<{ role: string; index: number; address: string; state: string; queries: number }>;
}

function printStatus(s: StatusBody): void {
  console.log(
    `agent       ${s.agent.running ? 'running' : 'not running'}, pid ${s.agent.pid ?? '-'}, DNS ${s.agent.dns}, HTTP ${s.agent.http}`,
  );
  for (const v of s.servers) {
    console.log(`${`${v.role} ${v.index}`.padEnd(12)}${v.address.padEnd(20)}${v.state.padEnd(9)}${v.queries} queries`);
  }
  console.log(`Mesos state ${s.state}`);
}

// ---- the demo itself ----------------------------------------------------------------------------

interface DemoOptions {
  configPath: string;
  stateFile: string;
  enforceRFC952: boolean;
  control: Endpoint;
}

function checkLoopback(config: Config, configPath: string): void {
  const outside = [
    ...config.listen,
    ...config.mesos.masters,
    ...config.upstreams,
    ...(config.http.enabled ? [config.http.listen] : []),
  ].filter((e) => !isLoopback(e));
  if (outside.length)
    fail(`config ${configPath}: the demo only runs on 127.0.0.0/8, but it names ${outside.map(formatEndpoint).join(', ')}`);
  if (config.mesos.masters.length === 0) fail(`config ${configPath}: the demo needs a static "mesos.masters" list to simulate`);
  if (config.forwardZones.size > 0) say(`demo   note: forward zones are not simulated; their names will get SERVFAIL`);
}

/** The agent's config with the servers that had to move (EACCES on port 53) at their new ports. */
function movedConfig(configPath: string, cluster: SimulatedCluster): string {
  const raw = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown> & { mesos?: Record<string, unknown> };
  raw.upstreams = cluster.upstreams.map((s) => s.address);
  raw.mesos = { ...(raw.mesos ?? {}), masters: cluster.masters.map((s) => s.address) };
  const dir = mkdtempSync(join(tmpdir(), 'phalanx-demo-'));
  const path = join(dir, 'phalanx.json');
  writeFileSync(path, JSON.stringify(raw, null, 2));
  return path;
}

async function runDemo(opts: DemoOptions): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(opts.configPath);
  } catch (err) {
    if (err instanceof ConfigLoadError) fail(err.message);
    throw err;
  }
  checkLoopback(config, opts.configPath);
  const domain = config.mesos.domain;
  const zoneOpts = { stateFile: opts.stateFile, domain, enforceRFC952: opts.enforceRFC952 };
  let mesosZone;
  try {
    mesosZone = loadMesosZone(zoneOpts);
  } catch (err) {
    fail((err as Error).message);
  }
  const cluster = SimulatedCluster.create(config.mesos.masters, config.upstreams, domain, mesosZone);

  let control: http.Server | undefined;
  let agent: AgentChild | undefined;
  let tempConfig: string | undefined;
  let stopping: Promise<void> | undefined;
  const graceMs = config.timeoutMs + 5000;

  const shutdown = (code: number, why?: string): Promise<void> => {
    stopping ??= (async () => {
      if (why) say(`demo   ${why}`);
      unwatchFile(opts.stateFile);
      await agent?.stop(graceMs);
      await Promise.all([cluster.stop(), control ? closeControlServer(control) : undefined]);
      if (tempConfig) rmSync(join(tempConfig, '..'), { recursive: true, force: true });
      say(`demo   stopped${code === 0 ? '' : ` (status ${code})`}`);
      process.exit(code);
    })();
    return stopping;
  };
  let firstSignalAt: number | undefined;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      // Ctrl-C reaches us twice at once under npm (from the terminal, and forwarded by npm), so
      // only a signal a second or more after the first means "stop now, don't wait".
      if (firstSignalAt !== undefined) {
        if (Date.now() - firstSignalAt < 1000) return;
        agent?.child.kill('SIGKILL');
        process.exit(1);
      }
      firstSignalAt = Date.now();
      void shutdown(0, `${sig}: stopping the agent and the simulated cluster`);
    });
  }

  try {
    control = await startControlServer(opts.control, {
      status: () => ({
        agent: {
          pid: agent?.pid,
          running: agent?.running ?? false,
          dns: formatEndpoint(config.listen[0]),
          http: config.http.enabled ? formatEndpoint(config.http.listen) : 'disabled',
        },
        state: opts.stateFile,
        servers: cluster.all.map((s) => s.status()),
      }),
      act: async (role: Role, which: string, action: ServerAction) => {
        const servers = cluster.select(role, which);
        if (!servers) return undefined;
        const result: ActionResult = { changed: [], unchanged: [] };
        for (const s of servers) {
          const changed = await s.apply(action);
          (changed ? result.changed : result.unchanged).push(s.status());
          if (changed) say(`demo   ${s.label} is now ${describeState(s.state)}`);
        }
        return result;
      },
      reload: () => reloadState(),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    fail(
      e.code === 'EADDRINUSE'
        ? `the control address ${formatEndpoint(opts.control)} is in use: is a demo already running? (npm run demo -- status)`
        : `cannot listen on ${formatEndpoint(opts.control)}: ${e.message}`,
      1,
    );
  }

  const reloadState = (): { records: number } | { error: string } => {
    try {
      const next = loadMesosZone(zoneOpts);
      cluster.setMesosZone(next);
      const records = next(cluster.masters[0].endpoint.host).length;
      say(`demo   Mesos state reloaded from ${opts.stateFile}: ${records} records`);
      return { records };
    } catch (err) {
      // As Mesos-DNS does after a bad poll: keep serving the previous records.
      say(`demo   Mesos state not reloaded, keeping the previous records: ${(err as Error).message}`);
      return { error: (err as Error).message };
    }
  };

  const notes: string[] = [];
  try {
    const moved = await cluster.start();
    for (const m of moved) {
      notes.push(`${m.server.role} ${m.server.index} runs on ${m.server.address}: binding ${m.from} needs root`);
    }
    if (moved.length) tempConfig = movedConfig(opts.configPath, cluster);
  } catch (err) {
    await closeControlServer(control);
    fail(err instanceof ServerStartError ? err.message : String(err), 1);
  }
  if (stopping) return;
  say(`demo   ${cluster.masters.length} masters and ${cluster.upstreams.length} upstreams up; starting the agent`);

  const agentConfig = tempConfig ?? opts.configPath;
  agent = AgentChild.spawn(agentConfig, (line) => say(line));
  void agent.exited.then(({ code, signal }) => {
    if (!stopping) void shutdown(code === 0 ? 0 : 1, `the agent exited (${signal ?? `status ${code}`}); stopping the simulated cluster`);
  });
  try {
    await agent.waitUntilAnswering(config.listen[0], 15_000);
  } catch (err) {
    await shutdown(1, (err as Error).message);
    return;
  }
  if (stopping) return;

  // Mesos-DNS re-reads the master state every refreshSeconds; the demo follows the file instead.
  watchFile(opts.stateFile, { interval: 1000 }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs) reloadState();
  });

  const fromNpm = process.env.npm_lifecycle_event !== undefined;
  const here = relative(process.cwd(), fileURLToPath(import.meta.url)) || 'dist/demo/main.js';
  process.stdout.write(
    banner({
      listen: config.listen[0],
      http: config.http.enabled ? config.http.listen : undefined,
      control: opts.control,
      masters: cluster.masters.map((s) => s.address),
      upstreams: cluster.upstreams.map((s) => s.address),
      upstreamZone: UPSTREAM_ZONE,
      domain,
      stateFile: relative(process.cwd(), opts.stateFile) || opts.stateFile,
      records: mesosZone(cluster.masters[0].endpoint.host),
      command: fromNpm ? 'npm run demo --' : `node ${here}`,
      notes,
    }),
  );
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        state: { type: 'string', short: 's' },
        'enforce-rfc952': { type: 'boolean' },
        control: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  const { values: args, positionals } = parsed;
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const control = endpointArg(args.control ?? DEFAULT_CONTROL, '--control');
  if (positionals.length > 0) {
    try {
      process.exitCode = await runCommand(positionals, control);
    } catch (err) {
      fail((err as Error).message, 1);
    }
    return;
  }
  await runDemo({
    configPath: resolve(args.config ?? DEFAULT_CONFIG),
    stateFile: resolve(args.state ?? DEFAULT_STATE),
    enforceRFC952: args['enforce-rfc952'] ?? false,
    control,
  });
}

main().catch((err) => {
  process.stderr.write(`demo: unexpected error: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
