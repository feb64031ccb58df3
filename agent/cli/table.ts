// Text for a person at a terminal: aligned columns, colour only where it can be seen (a terminal,
// and NO_COLOR unset, https://no-color.org), and short forms of durations and sizes.

export type Style = 'bold' | 'dim' | 'green' | 'yellow' | 'red';
export type Paint = (style: Style, text: string) => string;
/** A table cell: plain text, or text with a style. */
export type Cell = string | { text: string; style: Style };

const SGR: Record<Style, number> = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33 };

export function painter(colour: boolean): Paint {
  return colour ? (style, text) => `\x1b[${SGR[style]}m${text}\x1b[0m` : (_, text) => text;
}

/** Colour for standard output: a terminal, and NO_COLOR not set to anything. */
export function wantColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

/**
 * Rows under a bold header, each column as wide as its widest cell, two spaces apart. Widths count
 * the text only, so colour codes never shift a column; the last column is not padded.
 */
export function table(headers: string[], rows: Cell[][], paint: Paint): string[] {
  const text = (c: Cell) => (typeof c === 'string' ? c : c.text);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i] ?? '').length)));
  const line = (cells: Cell[], style?: Style) =>
    cells
      .map((c, i) => {
        const t = text(c);
        const padded = i === cells.length - 1 ? t : t.padEnd(widths[i]);
        const s = style ?? (typeof c === 'string' ? undefined : c.style);
        return s && t ? paint(s, t) + padded.slice(t.length) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(headers, 'bold'), ...rows.map((r) => line(r))];
}

/** "850 ms", "12 s", "4 min", "3 h", "2 d": how long ago, or how long left. */
export function duration(sec: number): string {
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 100) return `${Math.round(sec * 10) / 10} s`;
  if (sec < 3600) return `${Math.round(sec / 60)} min`;
  if (sec < 86400) return `${Math.round(sec / 360) / 10} h`;
  return `${Math.round(sec / 8640) / 10} d`;
}

/** A reply time: "0.42 ms", "3.1 ms", "250 ms". */
export function millis(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "37%", or "-" for no ratio at all. */
export function percent(share: number | null): string {
  if (share === null) return '-';
  const p = share * 100;
  return `${p > 0 && p < 1 ? p.toFixed(1) : Math.round(p)}%`;
}
