// The latency chart, test-results/bench-latency.svg, drawn by hand (pure; no dependency): one
// group per case, one bar per peer from 0 to p50, a whisker from p50 to p99, on a log scale.

export interface ChartBar {
  label: string;
  color: string;
  p50Ms: number | null;
  p99Ms?: number | null;
  /** Printed after the bar instead of the values (e.g. "no answer in 6 s"). */
  note?: string;
}

export interface ChartGroup {
  title: string;
  bars: ChartBar[];
}

export interface Chart {
  title: string;
  subtitle: string;
  groups: ChartGroup[];
  /** Values above this (lost queries, no answer) are drawn at it, marked with an arrow. */
  capMs: number;
}

export const COLORS = { agent: '#1f6fb4', dnsmasq: '#e8772e', unbound: '#3a9a4a', direct: '#8a8a8a' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));

export function renderLatencySvg(chart: Chart): string {
  const W = 1040;
  const LEFT = 350;
  const RIGHT = 200;
  const TOP = 64;
  const BAR = 11;
  const BAR_GAP = 3;
  const GROUP_GAP = 14;
  const plotW = W - LEFT - RIGHT;

  const values = chart.groups.flatMap((g) => g.bars.flatMap((b) => [b.p50Ms, b.p99Ms])).filter((v): v is number => v != null && v > 0);
  const finite = values.map((v) => Math.min(v, chart.capMs));
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...finite, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...finite, chart.capMs))));
  const x = (ms: number) =>
    LEFT + ((Math.log10(Math.min(Math.max(ms, lo), hi)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;

  const out: string[] = [];
  let y = TOP;
  for (const g of chart.groups) {
    const h = g.bars.length * (BAR + BAR_GAP) - BAR_GAP;
    out.push(`<text x="${LEFT - 10}" y="${y + h / 2 + 4}" text-anchor="end" class="case">${esc(g.title)}</text>`);
    for (const b of g.bars) {
      const cy = y + BAR / 2;
      if (b.p50Ms != null) {
        const p50 = Math.min(b.p50Ms, chart.capMs);
        out.push(
          `<rect x="${LEFT}" y="${y}" width="${(x(p50) - LEFT).toFixed(1)}" height="${BAR}" fill="${b.color}"><title>${esc(`${b.label}: p50 ${fmt(b.p50Ms)} ms`)}</title></rect>`,
        );
        let end = x(p50);
        if (b.p99Ms != null) {
          const capped = b.p99Ms > chart.capMs;
          end = x(Math.min(b.p99Ms, chart.capMs));
          out.push(`<line x1="${x(p50).toFixed(1)}" y1="${cy}" x2="${end.toFixed(1)}" y2="${cy}" stroke="${b.color}" stroke-width="1.5"/>`);
          out.push(
            capped
              ? `<path d="M${end - 6},${cy - 4} L${end},${cy} L${end - 6},${cy + 4}" fill="none" stroke="${b.color}" stroke-width="1.5"/>`
              : `<line x1="${end.toFixed(1)}" y1="${y}" x2="${end.toFixed(1)}" y2="${y + BAR}" stroke="${b.color}" stroke-width="1.5"/>`,
          );
        }
        const text =
          b.note ??
          (b.p99Ms != null
            ? `${fmt(b.p50Ms)} / ${Number.isFinite(b.p99Ms) ? `${fmt(b.p99Ms)} ms` : 'over 1% lost'}`
            : `${fmt(b.p50Ms)} ms`);
        out.push(`<text x="${(end + 6).toFixed(1)}" y="${cy + 4}" class="val">${esc(`${b.label}  ${text}`)}</text>`);
      } else {
        out.push(`<text x="${LEFT + 4}" y="${cy + 4}" class="val">${esc(`${b.label}  ${b.note ?? 'not measured'}`)}</text>`);
      }
      y += BAR + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  const bottom = y - GROUP_GAP + 8;

  const axis: string[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const gx = x(v).toFixed(1);
    axis.push(`<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${bottom}" class="grid"/>`);
    axis.push(
      `<text x="${gx}" y="${bottom + 16}" text-anchor="middle" class="tick">${v >= 1 ? v.toFixed(0) : Number(v.toPrecision(1))}</text>`,
    );
  }
  axis.push(
    `<text x="${LEFT + plotW / 2}" y="${bottom + 34}" text-anchor="middle" class="tick">milliseconds (log scale): bar to p50, whisker to p99; → beyond ${fmt(chart.capMs)} ms or lost</text>`,
  );

  const legend = [
    ['agent', COLORS.agent],
    ['dnsmasq', COLORS.dnsmasq],
    ['Unbound', COLORS.unbound],
    ['master asked directly', COLORS.direct],
  ]
    .map(
      ([name, color], i) =>
        `<rect x="${LEFT + i * 130}" y="${TOP - 26}" width="12" height="12" fill="${color}"/><text x="${LEFT + i * 130 + 18}" y="${TOP - 16}" class="val">${name}</text>`,
    )
    .join('');

  const H = bottom + 48;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<style>.case{font-size:12px;fill:#222}.val{font-size:11px;fill:#333}.tick{font-size:11px;fill:#555}.grid{stroke:#ddd;stroke-width:1}.title{font-size:15px;font-weight:bold}.sub{font-size:11px;fill:#555}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="20" class="title">${esc(chart.title)}</text>
<text x="12" y="36" class="sub">${esc(chart.subtitle)}</text>
${legend}
${axis.join('\n')}
${out.join('\n')}
</svg>
`;
}
