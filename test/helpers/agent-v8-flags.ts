// The V8 flags the agent runs with in production. They are set in two places that V8 reads at
// start-up: the #! line of agent/main.ts (a direct start) and NODE_OPTIONS in the systemd unit
// (a deploy test checks that the two agree). The bench and the chaos suite start node
// themselves, so they read the flags from the #! line here rather than repeating them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './agent-process.js';

const SHEBANG = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)\s*$/;

/** The node flags on a script's `#!/usr/bin/env -S node …` line; throws when the line is not that. */
export function shebangFlags(source: string): string[] {
  const first = source.slice(0, source.indexOf('\n'));
  const m = SHEBANG.exec(first);
  if (!m) throw new Error(`expected a "#!/usr/bin/env -S node --flag…" line, found: ${first}`);
  return m[1].split(' ').filter(Boolean);
}

/** The agent's production V8 flags, from agent/main.ts. */
export function agentV8Flags(): string[] {
  return shebangFlags(readFileSync(join(REPO_ROOT, 'agent/main.ts'), 'utf8'));
}
