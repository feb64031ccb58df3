// The queries in deploy/prometheus/ and deploy/grafana/, and the metric names they read, parsed
// with Prometheus' own PromQL grammar (lezer-promql, its web UI's parser), so that tests can hold
// them against what the agent exports: a misspelt name is an alert that never fires.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './agent-process.js';

export const RULES_FILE = join(REPO_ROOT, 'deploy/prometheus/phalanx-dns.rules.yml');
export const RULE_TESTS_FILE = join(REPO_ROOT, 'deploy/prometheus/phalanx-dns.rules.test.yml');
export const DASHBOARD_FILE = join(REPO_ROOT, 'deploy/grafana/phalanx-dns.json');

/**
 * A Prometheus binary, `promtool` or `prometheus`: $PROMTOOL / $PROMETHEUS, else where
 * test/install-prometheus.sh puts it, else one on PATH; undefined when none.
 */
export function findPrometheusBinary(name: 'promtool' | 'prometheus'): string | undefined {
  const candidates = [
    process.env[name.toUpperCase()],
    join(REPO_ROOT, 'node_modules/.cache/prometheus', name),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name)),
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** findPrometheusBinary, or an error that says how to get it: the tests that need it never skip. */
export function requirePrometheusBinary(name: 'promtool' | 'prometheus'): string {
  const path = findPrometheusBinary(name);
  if (!path) {
    throw new Error(`${name} not found: run \`bash test/install-prometheus.sh\` (test/run.sh does), or set ${name.toUpperCase()}`);
  }
  return path;
}

export interface Query {
  /** Where it is: an alert's name, or a dashboard panel's title and refId. */
  where: string;
  expr: string;
}

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readRules(file = RULES_FILE): Rule[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

export function ruleQueries(rules = readRules()): Query[] {
  return rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr }));
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: Array<{ refId?: string; expr?: string }>;
}

interface Variable {
  name: string;
  query?: string | { query?: string };
}

export interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every panel, those inside rows too. */
export function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/**
 * Every PromQL query of the dashboard: each target's expr, and the metric of each variable's
 * label_values(metric, label), with Grafana's interval variables given a duration so that the
 * grammar accepts them. Any other `$` left outside a string then fails to parse, on purpose.
 */
export function dashboardQueries(d = readDashboard()): Query[] {
  const withDurations = (expr: string) => expr.replace(/\$\{?__(?:rate_interval|interval|range)\}?/g, '5m');
  const targets = allPanels(d.panels).flatMap((p) =>
    (p.targets ?? []).filter((t) => t.expr).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: withDurations(t.expr!) })),
  );
  const variables = d.templating.list.flatMap((v) => {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = q && /^label_values\((.+),\s*\w+\)$/.exec(q.trim());
    return m ? [{ where: `variable ${v.name}`, expr: m[1] }] : [];
  });
  return [...targets, ...variables];
}

function unquote(literal: string): string {
  return literal.startsWith('"') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
}

/**
 * The metric names `expr` reads: each vector selector's name, written before the braces or as
 * `{"name"}` / `{__name__="name"}` inside them (not function names, keywords, label names).
 * Throws on what is not PromQL and on a selector without one fixed name, which no test could check.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const problems: string[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.type.isError) problems.push(`not PromQL at offset ${ref.from}`);
      if (ref.name !== 'VectorSelector') return;
      const selector = ref.node;
      const text = (from: number, to: number) => expr.slice(from, to);
      const id = selector.getChild('Identifier');
      let name = id ? text(id.from, id.to) : undefined;
      for (const m of selector.getChild('LabelMatchers')?.getChildren('QuotedLabelName') ?? []) name ??= unquote(text(m.from, m.to));
      for (const m of selector.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (label && op && value && text(label.from, label.to) === '__name__' && text(op.from, op.to) === '=') {
          name ??= unquote(text(value.from, value.to));
        }
      }
      if (name) names.add(name);
      else problems.push(`no fixed metric name in ${text(ref.from, ref.to)}`);
    },
  });
  if (problems.length > 0) throw new Error(`${problems.join('; ')}: ${expr}`);
  return [...names];
}

/**
 * The names a scrape of `text` (Prometheus text format) gives series under: each family's samples,
 * and a histogram's _bucket, _sum and _count even before it has any (its bare name is no series).
 */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type) {
      const [, name, kind] = type;
      const suffixes = kind === 'histogram' ? ['_bucket', '_sum', '_count'] : kind === 'summary' ? ['', '_sum', '_count'] : [''];
      for (const s of suffixes) names.add(name + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]);
  }
  return names;
}

/** Each query's names that are not in `available`, as "where: name" lines (empty when all are). */
export function unavailableNames(queries: Query[], available: ReadonlySet<string>): string[] {
  return queries.flatMap((q) =>
    metricNames(q.expr)
      .filter((n) => !available.has(n))
      .map((n) => `${q.where}: ${n}`),
  );
}
