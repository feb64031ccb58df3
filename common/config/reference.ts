// docs/configuration.md, written from the declarations in schema.ts so that the reference says
// what the programs accept: `npm run docs:config` writes it, and a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_MISCONFIGURED } from './command-line.js';
import { ConfigLoadError, DEFAULT_CONFIG_PATH } from './load.js';
import { CONFIG_TABLE, ConfigError, parseConfig } from './schema.js';
import type { Doc, Entries, Section } from './table.js';
import { markdownCell as cell } from '../markdown.js';

/** Where the reference lives, from the repository root. */
export const REFERENCE_PATH = 'docs/configuration.md';

export function renderConfigReference(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Written by `npm run docs:config` from common/config/schema.ts: change the declarations there, not this file. -->',
    '',
    'One JSON file configures the whole product: the agent (`phalanx-dns`), the watchdog (`phalanx-watchdog`) and',
    `resolv.conf's writer (\`phalanx-genresolv\`) all read it, from \`${DEFAULT_CONFIG_PATH}\` unless \`--config FILE\``,
    'names another. Every key may be left out; it then has the default below.',
    '',
    'The file is read and checked once, when a program starts (the agent again on `systemctl reload`, keeping the',
    `running config if the new one is bad). A missing file, bad JSON, a bad value or an unknown key stops the`,
    `program with exit status ${EXIT_MISCONFIGURED} and one line that names the file, the key, the bad value and what is valid:`,
    '',
    '```',
    exampleError(),
    '```',
    '',
    '`phalanx-dns --check-config` checks a file without starting anything. Unknown keys are refused by name, so a typo',
    'never falls back to a default. Addresses are IP literals: a resolver cannot depend on DNS to find its own servers.',
    'Numbers are integers, ranges include both ends, `…Ms` keys are milliseconds and `…Sec` keys seconds.',
    '',
    ...sectionDoc(CONFIG_TABLE, '', 'Top level'),
  ];
  return lines.join('\n') + '\n';
}

/** The line an operator sees for a bad upstream, made by the code that makes it. */
function exampleError(): string {
  try {
    parseConfig({ upstreams: ['127.0.0.1:99999'] });
  } catch (err) {
    if (err instanceof ConfigError) return `phalanx-dns: ${new ConfigLoadError(DEFAULT_CONFIG_PATH, err.message).message}`;
  }
  throw new Error('the example config error is accepted');
}

/** A heading, the section's meaning, a row per key, then its subsections the same way. */
function sectionDoc(s: Section<Entries>, prefix: string, title: string): string[] {
  const lines = [`## ${title}`, '', s.meaning, '', '| key | default | valid | meaning |', '|---|---|---|---|'];
  const row = (name: string, d: Doc) => lines.push(`| \`${prefix}${name}\` | ${[d.default, d.valid, d.meaning].map(cell).join(' | ')} |`);
  for (const [name, entry] of Object.entries(s.entries)) {
    if (entry.kind === 'key') row(name, entry.doc);
    else if (entry.kind === 'group') for (const [k, d] of Object.entries(entry.docs)) row(k, d);
  }
  for (const [name, entry] of Object.entries(s.entries)) {
    if (entry.kind === 'section') lines.push('', ...sectionDoc(entry, `${prefix}${name}.`, `\`${prefix}${name}\``));
  }
  return lines;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(process.argv[2] ?? REFERENCE_PATH, renderConfigReference());
}
