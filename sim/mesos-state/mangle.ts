// Mesos-DNS's label rules, byte for byte (mesos-dns records/labels/labels.go), so that the names
// generated here from a Mesos state are exactly the names Mesos-DNS serves for it.
//
// Both rules lower-case, turn '.', '_' and '-' into '-', drop every other character outside
// [a-z0-9], trim a cut set from each end and cut the label to a maximum length:
// - RFC 1123 (Mesos-DNS's default): up to 63 characters, no leading or trailing '-';
// - RFC 952 (`enforceRFC952`): up to 24 characters, no leading digit or '-', no trailing '-'.
// Task names become one label (their dots turn into '-'); framework names keep their dots and each
// part is mangled on its own (`domainFrag`), empty parts dropped.

export type LabelRule = (name: string) => string;

/** RFC 1123 host label: [a-z0-9-], at most 63 characters, no '-' at either end. */
export const rfc1123Label: LabelRule = (name) => label(name, 63, '-', '-');

/** RFC 952 host label: [a-z0-9-], at most 24 characters, starting with a letter, no trailing '-'. */
export const rfc952Label: LabelRule = (name) => label(name, 24, '-0123456789', '-');

/**
 * A dotted name mangled label by label: "marathon.prod" stays two labels, "pod_123$abc.x" gives
 * "pod-123abc.x". Parts that mangle to nothing are dropped ("a..b" → "a.b").
 */
export function domainFrag(name: string, rule: LabelRule): string {
  return name
    .split('.')
    .map(rule)
    .filter((l) => l !== '')
    .join('.');
}

function label(name: string, maxLength: number, left: string, right: string): string {
  let mapped = '';
  for (const ch of name) {
    if (ch >= 'A' && ch <= 'Z') mapped += ch.toLowerCase();
    else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) mapped += ch;
    else if (ch === '-' || ch === '.' || ch === '_') mapped += '-';
    // anything else is dropped
  }
  return trimCut(mapped, maxLength, left, right);
}

/**
 * Mesos-DNS's trimCut: trim `left` from the start, cut at maxLength, trim `right` from the end of
 * the cut; when that trimming freed room, refill it from what followed the cut (itself trimmed of
 * `right` at its start). So "hello" + 60 dashes + "f" becomes "hellof" under RFC 952, not "hello".
 * The refill is taken as is, exactly as Mesos-DNS does, even when it happens to end in '-'.
 */
function trimCut(text: string, maxLength: number, left: string, right: string): string {
  const trimmed = trimStart(text, left);
  const size = Math.min(trimmed.length, maxLength);
  const head = trimEnd(trimmed.slice(0, size), right);
  if (head.length === size) return head;
  const tail = trimStart(trimmed.slice(size), right);
  return head + tail.slice(0, size - head.length);
}

function trimStart(s: string, cut: string): string {
  let i = 0;
  while (i < s.length && cut.includes(s[i])) i++;
  return s.slice(i);
}

function trimEnd(s: string, cut: string): string {
  let i = s.length;
  while (i > 0 && cut.includes(s[i - 1])) i--;
  return s.slice(0, i);
}
