// How the agent is started in production: its #! line, `#!/usr/bin/env -S NAME=value… node
// --flag…`, sets the environment (MALLOC_ARENA_MAX) and V8 flags that shape its memory. That line
// is what the systemd unit's ExecStart runs, and the one place they are set (a deploy test checks
// the built command carries them). The bench and the chaos suite start node themselves, so they
// read them from here rather than repeating them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './agent-process.js';

export interface Launch {
  /** Variables set before node starts (env's NAME=value words). */
  env: Record<string, string>;
  /** "node", or the absolute path of the runtime. */
  node: string;
  /** Node and V8 flags, before the script. */
  nodeFlags: string[];
}

/** `node` is found on PATH in the checkout; the package names its bundled runtime's path instead. */
const SHEBANG = /^#!\/usr\/bin\/env -S((?: [A-Z_]+=\S+)*) ((?:\/\S+\/)?node)((?: --[\w-]+(?:=\S+)?)*)\s*$/;

/**
 * The environment, runtime and flags on a script's `#!/usr/bin/env -S [NAME=value…] node [--flag…]`
 * line; throws when the line is not that.
 */
export function shebangLaunch(source: string): Launch {
  const first = source.slice(0, source.indexOf('\n'));
  const m = SHEBANG.exec(first);
  if (!m) throw new Error(`expected a "#!/usr/bin/env -S [NAME=value…] node --flag…" line, found: ${first}`);
  const env = Object.fromEntries(
    m[1]
      .split(' ')
      .filter(Boolean)
      .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  );
  return { env, node: m[2], nodeFlags: m[3].split(' ').filter(Boolean) };
}

/** The agent's production launch, from agent/main.ts. */
export function agentLaunch(): Launch {
  return shebangLaunch(readFileSync(join(REPO_ROOT, 'agent/main.ts'), 'utf8'));
}
