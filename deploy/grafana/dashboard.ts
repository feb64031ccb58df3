// The Grafana dashboard, as code with Grafana's typed builders (the Foundation SDK, for Grafana
// 10.4): `npm run dashboard` writes deploy/grafana/phalanx-dns.json from it, and a test fails when
// the checked-in file differs. Every panel reads the chosen data source for the chosen nodes.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  LegendDisplayMode,
  LegendPlacement,
  SortOrder,
  StackingConfigBuilder,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  StackingMode,
  TimelineValueAlignment,
  TooltipDisplayMode,
  VisibilityMode,
  GraphDrawStyle,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  FieldColorBuilder,
  FieldColorModeId,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StateTimelineBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** Where the dashboard lives, from the repository root. */
export const DASHBOARD_PATH = 'deploy/grafana/phalanx-dns.json';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** The nodes chosen in the instance variable: every query's selector carries it. */
const NODES = 'instance=~"$instance"';

interface Target {
  expr: string;
  legend: string;
}

interface Panel {
  id: number;
  title: string;
  description: string;
  /** Grid columns of 24; every panel is 8 high. */
  width: number;
  targets: Target[];
}

interface TimeseriesPanel extends Panel {
  unit: string;
  max?: number;
  stacked?: boolean;
  /** Where the alerts draw their lines: dashed lines at these values, green below. */
  thresholds?: Threshold[];
}

interface StatePanel extends Panel {
  /** The text of 0 and of 1. */
  states: [string, string];
}

function queries(targets: Target[]): cog.Builder<cog.Dataquery>[] {
  return targets.map((t, i) =>
    new DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE)
      .expr(t.expr)
      .legendFormat(t.legend)
      .range(),
  );
}

function timeseries(p: TimeseriesPanel): TimeseriesBuilder {
  const steps: Threshold[] = [{ color: 'green', value: null }, ...(p.thresholds ?? [])];
  const panel = new TimeseriesBuilder()
    .id(p.id)
    .title(p.title)
    .description(p.description)
    .datasource(DATASOURCE)
    .height(8)
    .span(p.width)
    .unit(p.unit)
    .min(0)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic))
    .drawStyle(GraphDrawStyle.Line)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(VisibilityMode.Never)
    .spanNulls(false)
    .stacking(new StackingConfigBuilder().mode(p.stacked ? StackingMode.Normal : StackingMode.None).group('A'))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps))
    .legend(
      new VizLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .targets(queries(p.targets));
  if (p.max !== undefined) panel.max(p.max);
  if (p.thresholds) panel.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  return panel;
}

/** A 0/1 gauge over time: red while 0, green while 1. */
function stateTimeline(p: StatePanel): StateTimelineBuilder {
  return new StateTimelineBuilder()
    .id(p.id)
    .title(p.title)
    .description(p.description)
    .datasource(DATASOURCE)
    .height(8)
    .span(p.width)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds))
    .thresholds(
      new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
        { color: 'red', value: null },
        { color: 'green', value: 1 },
      ]),
    )
    .mappings([
      {
        type: MappingType.ValueToText,
        options: { 0: { text: p.states[0], color: 'red', index: 0 }, 1: { text: p.states[1], color: 'green', index: 1 } },
      },
    ])
    .fillOpacity(80)
    .lineWidth(0)
    .mergeValues(true)
    .showValue(VisibilityMode.Never)
    .alignValue(TimelineValueAlignment.Left)
    .rowHeight(0.9)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(true))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Single).sort(SortOrder.None))
    .targets(queries(p.targets));
}

const rate = (selector: string, extra = '') => `rate(${selector}{${NODES}${extra}}[$__rate_interval])`;
const latency = (q: number, by: string) =>
  `histogram_quantile(${q}, sum by (${by}) (${rate('phalanx_dns_forwarded_query_duration_seconds_bucket')}))`;
const share = (part: string) => `sum(${part}) / sum(${rate('phalanx_dns_queries_total')})`;
const ratio = (a: string, b: string) => `${a}{${NODES}} / ${b}{${NODES}}`;

export function phalanxDashboard(): Dashboard {
  return new DashboardBuilder('phalanx-dns')
    .uid('phalanx-dns')
    .description(
      'phalanx-dns, the per-node DNS agent: queries, latency, servers, cache and stale store, discovery, TCP connections. ' +
        `Metrics from /v1/metrics; see the README's "Alerts and dashboard".`,
    )
    .tags(['dns', 'mesos', 'phalanx-dns'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .annotation(
      new AnnotationQueryBuilder()
        .builtIn(1)
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .name('Annotations & Alerts')
        .type('dashboard'),
    )
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('instance')
        .label('Node')
        .datasource(DATASOURCE)
        .query({
          qryType: 1,
          query: 'label_values(phalanx_dns_queries_total, instance)',
          refId: 'PrometheusVariableQueryEditor-VariableQuery',
        })
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.+'),
    )

    .withRow(new RowBuilder('Queries').id(1))
    .withPanel(
      timeseries({
        id: 2,
        title: 'Queries by route and rcode',
        description:
          'Client queries answered, per second, by route (local, mesos, forward, upstream) and response code. ' +
          'Stale answers count here as the rcode they carry.',
        width: 12,
        unit: 'reqps',
        stacked: true,
        targets: [{ expr: `sum by (route, rcode) (${rate('phalanx_dns_queries_total')})`, legend: '{{route}} {{rcode}}' }],
      }),
    )
    .withPanel(
      timeseries({
        id: 3,
        title: 'SERVFAIL and stale shares',
        description:
          'Share of client queries answered SERVFAIL, and answered from the stale store. ' +
          'The alerts fire above 5% SERVFAIL (5 min) and 20% stale (10 min).',
        width: 12,
        unit: 'percentunit',
        thresholds: [
          { color: 'orange', value: 0.05 },
          { color: 'red', value: 0.2 },
        ],
        targets: [
          { expr: share(rate('phalanx_dns_queries_total', ', rcode="SERVFAIL"')), legend: 'SERVFAIL' },
          { expr: share(rate('phalanx_dns_stale_answers_total')), legend: 'stale' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 4,
        title: 'Forwarded query latency',
        description:
          'Time to answer a client query that went to servers (cache misses), from the phalanx_dns_forwarded_query_duration_seconds ' +
          'histogram: percentiles over the selected nodes, and the 99th per server group.',
        width: 12,
        unit: 's',
        targets: [
          ...[0.5, 0.9, 0.99].map((q) => ({ expr: latency(q, 'le'), legend: `p${q * 100}` })),
          { expr: latency(0.99, 'zone, le'), legend: 'p99 {{zone}}' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 5,
        title: 'Turned away, invalid, in flight',
        description:
          "Queries refused (outside the ACL, over a client's rate), messages that were not a serviceable query, queries answered " +
          'at once at maxInflight, and forwarded queries waiting for a server.',
        width: 12,
        unit: 'short',
        targets: [
          { expr: `sum by (reason) (${rate('phalanx_dns_refused_total')})`, legend: 'refused {{reason}} /s' },
          { expr: `sum by (reason) (${rate('phalanx_dns_invalid_queries_total')})`, legend: 'invalid {{reason}} /s' },
          { expr: `sum(${rate('phalanx_dns_overload_total')})`, legend: 'at maxInflight /s' },
          { expr: `sum(phalanx_dns_inflight_queries{${NODES}})`, legend: 'in flight' },
        ],
      }),
    )

    .withRow(new RowBuilder('Servers (masters, upstreams, forward zones)').id(6))
    .withPanel(
      stateTimeline({
        id: 7,
        title: 'Server health',
        description:
          'Each server as the agents see it: down while any selected node has it marked down (3 consecutive failures, until a ' +
          'probe succeeds).',
        width: 12,
        states: ['down', 'up'],
        targets: [{ expr: `min by (group, upstream_address) (phalanx_dns_server_up{${NODES}})`, legend: '{{group}} {{upstream_address}}' }],
      }),
    )
    .withPanel(
      timeseries({
        id: 8,
        title: 'Server reply time (p90)',
        description: '90th percentile of the time each server took to give a usable answer.',
        width: 12,
        unit: 's',
        targets: [
          {
            expr: `histogram_quantile(0.9, sum by (upstream_address, le) (${rate('phalanx_dns_server_request_duration_seconds_bucket')}))`,
            legend: '{{upstream_address}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 9,
        title: 'Server failures by reason',
        description:
          'Requests to a server that gave no usable answer, per second, by server and reason (timeout, network, malformed, ' +
          'rcode_SERVFAIL, …).',
        width: 12,
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (upstream_address, reason) (${rate('phalanx_dns_server_request_failures_total')})`,
            legend: '{{upstream_address}} {{reason}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 10,
        title: 'Requests to servers',
        description:
          'Requests sent to each server for client queries (the load the agents put on the masters), and queries that went on ' +
          'to another server after a hedge delay.',
        width: 12,
        unit: 'reqps',
        targets: [
          { expr: `sum by (upstream_address) (${rate('phalanx_dns_server_requests_total')})`, legend: '{{upstream_address}}' },
          { expr: `sum by (zone) (${rate('phalanx_dns_hedges_total')})`, legend: 'hedged {{zone}}' },
        ],
      }),
    )

    .withRow(new RowBuilder('Cache and stale store').id(11))
    .withPanel(
      timeseries({
        id: 12,
        title: 'Cache hit ratio',
        description: 'Share of answer-cache lookups for forwarded names that hit.',
        width: 8,
        unit: 'percentunit',
        max: 1,
        targets: [
          {
            expr: `sum(${rate('phalanx_dns_cache_lookups_total', ', result="hit"')}) / sum(${rate('phalanx_dns_cache_lookups_total')})`,
            legend: 'hit ratio',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 13,
        title: 'Store fill',
        description:
          'The answer cache and the stale store against their caps (cache.maxEntries, serveStale.maxEntries, ' +
          'serveStale.maxBytes), per node. A store that is off shows nothing.',
        width: 8,
        unit: 'percentunit',
        max: 1,
        thresholds: [{ color: 'orange', value: 0.95 }],
        targets: [
          { expr: ratio('phalanx_dns_cache_entries', 'phalanx_dns_cache_max_entries'), legend: '{{instance}} cache' },
          { expr: ratio('phalanx_dns_stale_store_entries', 'phalanx_dns_stale_store_max_entries'), legend: '{{instance}} stale entries' },
          { expr: ratio('phalanx_dns_stale_store_bytes', 'phalanx_dns_stale_store_max_bytes'), legend: '{{instance}} stale bytes' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        id: 14,
        title: 'Stale answers',
        description:
          'Queries answered with the last good answer, per second, by zone and why: failed (no server answered usably), slow ' +
          '(none within serveStale.clientTimeoutMs), overloaded (maxInflight).',
        width: 8,
        unit: 'reqps',
        targets: [{ expr: `sum by (zone, reason) (${rate('phalanx_dns_stale_answers_total')})`, legend: '{{zone}} {{reason}}' }],
      }),
    )

    .withRow(new RowBuilder('Discovery and connections').id(15))
    .withPanel(
      stateTimeline({
        id: 16,
        title: 'Master discovery',
        description:
          "Whether each node's master source (static, file, exhibitor, zookeeper) answered its last attempt. While it fails " +
          'the agent keeps the last good master list.',
        width: 12,
        states: ['failing', 'ok'],
        targets: [{ expr: `phalanx_dns_discovery_up{${NODES}}`, legend: '{{instance}} {{source}}' }],
      }),
    )
    .withPanel(
      timeseries({
        id: 17,
        title: 'Age of the master list',
        description:
          "Time since each node's master source last gave a good report (none for a static list). A working source reports " +
          'every mesos.refreshMs (2 min by default).',
        width: 6,
        unit: 's',
        targets: [{ expr: `time() - phalanx_dns_discovery_last_success_timestamp_seconds{${NODES}}`, legend: '{{instance}} {{source}}' }],
      }),
    )
    .withPanel(
      timeseries({
        id: 18,
        title: 'Client TCP connections',
        description:
          'Open client TCP connections against tcp.maxConnections, per node, and connections refused or closed by the agent per second.',
        width: 6,
        unit: 'short',
        targets: [
          { expr: `phalanx_dns_tcp_connections{${NODES}}`, legend: '{{instance}} open' },
          { expr: `phalanx_dns_tcp_max_connections{${NODES}}`, legend: '{{instance}} cap' },
          { expr: `sum by (reason) (${rate('phalanx_dns_tcp_connections_rejected_total')})`, legend: 'refused {{reason}} /s' },
          { expr: `sum by (reason) (${rate('phalanx_dns_tcp_connections_closed_total')})`, legend: 'closed {{reason}} /s' },
        ],
      }),
    )
    .build();
}

/** The file's text: the dashboard as JSON, two spaces, a final newline. */
export function renderDashboard(): string {
  return JSON.stringify(phalanxDashboard(), null, 2) + '\n';
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(process.argv[2] ?? DASHBOARD_PATH, renderDashboard());
}
