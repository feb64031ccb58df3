// Prints the package's copyright file (Debian's machine-readable format 1.0) for a staged tree:
// phalanx-dns itself, every production npm package it carries (license text from the package's
// own LICENSE file, which the build then removes from the tree), and the bundled Node.js runtime,
// whose LICENSE lists the licenses of everything built into it.
//
// Usage: node copyright.mjs STAGED_PREFIX NODE_RUNTIME_PACKAGE_DIR
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [prefix, runtimePackage] = process.argv.slice(2);
// Paths in the copyright file are relative to the root of the installed system.
const installed = (dir) => `usr/lib/phalanx-dns/${relative(prefix, dir)}`;

/** A license text as a copyright-file field continuation: one leading space, " ." for blank lines. */
const body = (text) =>
  text
    .replace(/\r/g, '')
    .trim()
    .split('\n')
    .map((line) => (line.trim() === '' ? ' .' : ` ${line.replace(/\t/g, '  ')}`))
    .join('\n');

function licenseFile(dir) {
  const name = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt|markdown))?$/i.test(f));
  return name ? readFileSync(join(dir, name), 'utf8') : undefined;
}

/** The copyright notices in a license text ("Copyright (c) 2021 …", "(c) 2014 …", "Copyright Jane Doe"), or the fallback. */
function copyrightLines(text, fallback) {
  const notice = /^(\([cC]\)\s*\d{4}|[Cc]opyright\s*(\([cC]\)|©|\d{4})|Copyright [A-Z])/;
  const lines = (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => notice.test(l));
  return lines.length > 0 ? [...new Set(lines)].join('\n ') : fallback;
}

const APACHE =
  ' On Debian systems, the full text of the Apache License, Version 2.0 can be\n found in the file /usr/share/common-licenses/Apache-2.0.';

/** Every package directory under node_modules, nested ones included. */
function packages(dir) {
  const found = [];
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) return found;
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((s) => join(modules, entry, s)) : [join(modules, entry)];
    for (const d of dirs) {
      if (!existsSync(join(d, 'package.json'))) continue;
      found.push(d, ...packages(d));
    }
  }
  return found;
}

const paragraphs = [
  [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: phalanx-dns',
    'Comment: phalanx-dns carries its own Node.js runtime and the npm packages it uses; their licenses follow.',
  ].join('\n'),
  ['Files: *', 'Copyright: 2026 The phalanx-dns authors', 'License: Apache-2.0', APACHE].join('\n'),
];

for (const dir of packages(prefix).sort()) {
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const license = typeof meta.license === 'string' ? meta.license : (meta.license?.type ?? 'UNKNOWN');
  const text = licenseFile(dir);
  const apache = license === 'Apache-2.0';
  if (!text && !apache) {
    throw new Error(`${meta.name}@${meta.version} (${dir}) has no license file; its license text must go into the copyright file`);
  }
  paragraphs.push(
    [
      `Files: ${installed(dir)}/*`,
      `Copyright: ${copyrightLines(text, `The ${meta.name} authors`)}`,
      `License: ${license.replace(/[()]/g, '').replace(/ OR /g, ' or ').replace(/ AND /g, ' and ')}`,
      // Debian ships the Apache text once; the others' texts carry their own notices.
      apache ? APACHE : body(text),
    ].join('\n'),
  );
}

const nodeLicense = readFileSync(join(runtimePackage, 'LICENSE'), 'utf8');
const nodeVersion = JSON.parse(readFileSync(join(runtimePackage, 'package.json'), 'utf8')).version;
paragraphs.push(
  [
    'Files: usr/lib/phalanx-dns/runtime/*',
    `Copyright: Node.js contributors and the authors of the libraries built into Node.js ${nodeVersion}`,
    'License: Node.js',
    body(nodeLicense),
  ].join('\n'),
);

process.stdout.write(paragraphs.join('\n\n') + '\n');
