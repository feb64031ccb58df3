// What a declared config key is, and how a table of them is read from the file, written back in
// its JSON shape and listed. The product's table is schema.ts; the kinds of value are kinds.ts.
import { ConfigError } from './error.js';

export type Raw = Record<string, unknown>;

/** Where a value is read: its full key (for errors) and the values of the keys declared before it. */
export interface At {
  key: string;
  done: Raw;
}

/** What the reference says about a key. */
export interface Doc {
  /** The default, as the reference shows it. */
  default: string;
  /** What is valid, briefly. */
  valid: string;
  /** What the key does. */
  meaning: string;
}

/** One key: read with its default and checked, written back, documented. */
export interface Key<T> {
  kind: 'key';
  doc: Doc;
  /** The value, or the default when the key is left out (undefined). Throws ConfigError. */
  read(value: unknown, at: At): T;
  /** The value as written in JSON; undefined leaves the key out (shown inside another key). */
  show(value: T, section: Raw): unknown;
}

/** Keys of a section that give one value together (the master source: at most one of them is set). */
export interface Group<T> {
  kind: 'group';
  docs: Record<string, Doc>;
  /** Reads the group's keys from the whole section; at.key is the section's key. */
  read(section: Raw, at: At): T;
  show(value: T, section: Raw): unknown;
}

export interface Section<E extends Entries> {
  kind: 'section';
  meaning: string;
  entries: E;
}

export type Entry = Key<unknown> | Group<unknown> | Section<Entries>;
export type Entries = { [name: string]: Entry };

/** The typed value a declaration reads into: the Config types come from here. */
export type ValueOf<E> =
  E extends Section<infer S> ? { [K in keyof S]: ValueOf<S[K]> } : E extends Key<infer T> ? T : E extends Group<infer T> ? T : never;

export function section<E extends Entries>(meaning: string, entries: E): Section<E> {
  return { kind: 'section', meaning, entries };
}

/** The key names a section accepts, in declaration order (a group contributes its keys). */
export function keyNames(s: Section<Entries>): string[] {
  return Object.entries(s.entries).flatMap(([name, e]) => (e.kind === 'group' ? Object.keys(e.docs) : [name]));
}

/** The value of a key declared earlier, by its full name ("mesos.refreshMs"). */
export function earlier<T>(at: At, path: string): T {
  let v: unknown = at.done;
  for (const part of path.split('.')) v = isObject(v) ? v[part] : undefined;
  // Only a table that reads a key before the key it depends on gets here.
  if (v === undefined) throw new Error(`config table: "${at.key}" needs "${path}", which is declared after it`);
  return v as T;
}

export function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a whole file's JSON value in declaration order; the first problem throws ConfigError. */
export function readTable<E extends Entries>(table: Section<E>, raw: unknown): ValueOf<Section<E>> {
  if (!isObject(raw)) throw new ConfigError('(top level)', raw, 'a JSON object');
  refuseUnknown(table, raw, '');
  const done: Raw = {};
  readEntries(table.entries, raw, '', done, done);
  return done as ValueOf<Section<E>>;
}

function readEntries(entries: Entries, raw: Raw, prefix: string, done: Raw, into: Raw): void {
  for (const [name, entry] of Object.entries(entries)) {
    const key = prefix + name;
    if (entry.kind === 'key') into[name] = entry.read(raw[name], { key, done });
    else if (entry.kind === 'group') into[name] = entry.read(raw, { key: prefix.slice(0, -1), done });
    else {
      const value = raw[name];
      if (value !== undefined && !isObject(value)) throw new ConfigError(key, value, `an object with keys ${keyNames(entry).join(', ')}`);
      const given = isObject(value) ? value : {};
      refuseUnknown(entry, given, `${key}.`);
      const inner: Raw = {};
      into[name] = inner;
      readEntries(entry.entries, given, `${key}.`, done, inner);
    }
  }
}

// A typo never falls back to a default silently.
function refuseUnknown(s: Section<Entries>, raw: Raw, prefix: string): void {
  const names = keyNames(s);
  for (const k of Object.keys(raw)) {
    if (!names.includes(k)) throw new ConfigError(prefix + k, raw[k], `one of the keys ${names.join(', ')} (unknown key)`);
  }
}

/** Writes a read config back in the JSON shape it is written in, for logs and the HTTP API. */
export function showTable<E extends Entries>(table: Section<E>, value: ValueOf<Section<E>>): Raw {
  return showEntries(table.entries, value as Raw);
}

function showEntries(entries: Entries, value: Raw): Raw {
  const out: Raw = {};
  for (const [name, entry] of Object.entries(entries)) {
    const shown = entry.kind === 'section' ? showEntries(entry.entries, value[name] as Raw) : entry.show(value[name], value);
    if (shown !== undefined) out[name] = shown;
  }
  return out;
}
