import { DATASOURCE_UIDS } from "./datasources";

/** Dashboards as typed data: what each panel shows and asks Prometheus; the Grafana JSON is derived. */

export interface Query {
  /** PromQL. Grafana variables ($facility, $__rate_interval) are expanded by Grafana before it is sent. */
  readonly expr: string;
  /** Legend, e.g. "{{job}}". Default: Grafana's (the series labels). */
  readonly legend?: string;
  /** Evaluate once at the end of the range (tables, stats of "now"). Default: false. */
  readonly instant?: boolean;
}

export interface Threshold {
  /** Lower bound of this colour; the first step has none. */
  readonly from?: number;
  readonly color: "green" | "yellow" | "orange" | "red" | "blue";
}

export interface Panel {
  readonly title: string;
  readonly description?: string;
  readonly type: "timeseries" | "stat" | "gauge" | "table";
  readonly queries: readonly Query[];
  /** Grafana unit id, e.g. "reqps", "s", "percentunit", "short". Default: "short". */
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly thresholds?: readonly Threshold[];
  /** Text for exact values (e.g. 0 = green, 2 = red). */
  readonly valueText?: Readonly<Record<number, { readonly text: string; readonly color: Threshold["color"] }>>;
  /** Width in grid units of 24. Default: 12. */
  readonly width?: number;
  /** Height in grid units. Default: 8. */
  readonly height?: number;
}

export interface Row {
  readonly title: string;
  readonly panels: readonly Panel[];
}

export interface Variable {
  /** Referenced as $name in queries. */
  readonly name: string;
  readonly label: string;
  /** Metric whose label values are offered (label_values(metric, name)). */
  readonly metric: string;
}

export interface Dashboard {
  /** Stable uid: links and bookmarks survive re-provisioning. */
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly variables?: readonly Variable[];
  readonly rows: readonly Row[];
  /** Default: "now-6h". */
  readonly timeFrom?: string;
}

const PROMETHEUS = { type: "prometheus", uid: DATASOURCE_UIDS.prometheus } as const;
const GRID_WIDTH = 24;

function fieldConfig(p: Panel): Record<string, unknown> {
  const steps = (p.thresholds ?? [{ color: "green" }]).map((t) => ({ color: t.color, value: t.from ?? null }));
  const mappings =
    p.valueText === undefined
      ? []
      : [
          {
            type: "value",
            options: Object.fromEntries(
              Object.entries(p.valueText).map(([value, m], index) => [value, { text: m.text, color: m.color, index }]),
            ),
          },
        ];
  return {
    defaults: {
      unit: p.unit ?? "short",
      ...(p.min === undefined ? {} : { min: p.min }),
      ...(p.max === undefined ? {} : { max: p.max }),
      thresholds: { mode: "absolute", steps },
      mappings,
    },
    overrides: [],
  };
}

function options(p: Panel): Record<string, unknown> {
  switch (p.type) {
    case "timeseries":
      return {
        legend: { displayMode: "list", placement: "bottom", showLegend: true },
        tooltip: { mode: "multi", sort: "desc" },
      };
    case "stat":
    case "gauge":
      return { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "background" };
    case "table":
      return { showHeader: true, sortBy: [{ displayName: "Value", desc: false }] };
  }
}

/** The Grafana dashboard JSON model (schemaVersion 39, Grafana 10/11). Panels flow left to right, 24 wide. */
export function renderDashboard(d: Dashboard): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({
      id: id++,
      type: "row",
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: GRID_WIDTH, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 12;
      const h = p.height ?? 8;
      if (x + w > GRID_WIDTH) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push({
        id: id++,
        type: p.type,
        title: p.title,
        ...(p.description === undefined ? {} : { description: p.description }),
        datasource: PROMETHEUS,
        gridPos: { h, w, x, y },
        fieldConfig: fieldConfig(p),
        options: options(p),
        targets: p.queries.map((q, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource: PROMETHEUS,
          expr: q.expr,
          ...(q.legend === undefined ? {} : { legendFormat: q.legend }),
          ...(q.instant === true
            ? { instant: true, range: false, format: p.type === "table" ? "table" : "time_series" }
            : {}),
        })),
      });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: [...d.tags],
    editable: false,
    schemaVersion: 39,
    version: 1,
    timezone: "browser",
    refresh: "1m",
    time: { from: d.timeFrom ?? "now-6h", to: "now" },
    annotations: { list: [] },
    links: [],
    templating: {
      list: (d.variables ?? []).map((v) => ({
        name: v.name,
        label: v.label,
        type: "query",
        datasource: PROMETHEUS,
        definition: `label_values(${v.metric}, ${v.name})`,
        query: { query: `label_values(${v.metric}, ${v.name})`, refId: `${v.name}-values` },
        refresh: 2,
        includeAll: true,
        multi: true,
        allValue: ".*",
        current: { selected: true, text: ["All"], value: ["$__all"] },
        sort: 1,
      })),
    },
    panels,
  };
}
