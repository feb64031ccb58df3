// Domain names are compared in one canonical form: lower case, no trailing dot ("" is the root).
// DNS names are case-insensitive (RFC 4343); the client's own spelling is kept only for echoing.

export function canonicalName(name: string): string {
  let n = name.toLowerCase();
  while (n.endsWith('.')) n = n.slice(0, -1);
  return n;
}

/** True when `name` equals `zone` or lies below it. Both in canonical form. */
export function inZone(name: string, zone: string): boolean {
  if (zone === '') return true;
  return name === zone || name.endsWith('.' + zone);
}

/** The RFC 1035 limits: 63 octets a label, 253 characters a name in text form. */
export function isValidZoneName(name: string): boolean {
  const n = canonicalName(name);
  if (n.length > 253) return false;
  if (n === '') return true;
  return n.split('.').every((label) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label));
}
