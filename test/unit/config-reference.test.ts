// docs/configuration.md is written from the config declarations; this fails when the two differ,
// so the reference can never drift from what the programs accept.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { REFERENCE_PATH, renderConfigReference } from '../../common/config/reference.js';
import { CONFIG_TABLE, parseConfig } from '../../common/config/schema.js';
import type { Entries, Key, Section } from '../../common/config/table.js';

const written = readFileSync(new URL(`../../${REFERENCE_PATH}`, import.meta.url), 'utf8');
const rendered = renderConfigReference();

/** Every single-value key of the table with its path ("mesos.port" → ["mesos", "port"]). */
function keys(s: Section<Entries>, path: string[] = []): { path: string[]; key: Key<unknown> }[] {
  return Object.entries(s.entries).flatMap(([name, e]) =>
    e.kind === 'section' ? keys(e, [...path, name]) : e.kind === 'key' ? [{ path: [...path, name], key: e }] : [],
  );
}

describe('docs/configuration.md', () => {
  test('is what the generator writes now', () => {
    if (written === rendered) return;
    const [a, b] = [written.split('\n'), rendered.split('\n')];
    const line = a.findIndex((text, i) => text !== b[i]);
    throw new Error(
      `${REFERENCE_PATH} is out of date with common/config/schema.ts: run \`npm run docs:config\` and commit the result.\n` +
        `First difference, line ${line + 1}:\n  file:      ${a[line]}\n  generated: ${b[line]}`,
    );
  });

  test('has a row for every key the config accepts', () => {
    for (const { path } of keys(CONFIG_TABLE)) expect(rendered).toContain(`| \`${path.join('.')}\` |`);
    for (const k of ['zookeeper', 'exhibitorUrl', 'masterListFile']) expect(rendered).toContain(`| \`mesos.${k}\` |`);
  });

  test('its example error is the one the code gives', () => {
    expect(rendered).toContain(
      'phalanx-dns: config /etc/phalanx-dns/config.json: key "upstreams[0]": "127.0.0.1:99999" is not valid; expected an IP address',
    );
  });

  test('every default written as JSON is the value an empty config gets', () => {
    const config = parseConfig({}) as unknown as Record<string, Record<string, unknown>>;
    let checked = 0;
    for (const { path, key } of keys(CONFIG_TABLE)) {
      const json = /^`(.*)`$/.exec(key.doc.default);
      if (!json) continue; // prose: worked out at run time ("loopback and the node's own networks")
      const section = path.length === 1 ? config : config[path[0]];
      const value = section[path[path.length - 1]];
      // mesos.masters is written back inside mesos.source; its JSON shape is the list itself.
      const shown = key.show(value, section) ?? JSON.parse(JSON.stringify(value));
      expect({ key: path.join('.'), default: JSON.parse(json[1]) }).toEqual({ key: path.join('.'), default: shown });
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
  });
});
