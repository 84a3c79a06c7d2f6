import { join } from "node:path";
import test from "ava";
import * as yaml from "js-yaml";
import type { ServiceEndpoint } from "../components/k8s/endpoints";
import {
  DATASOURCE_UIDS,
  grafanaDashboards,
  renderGrafanaDashboardProvider,
  renderGrafanaDashboards,
  renderGrafanaDatasources,
} from "../components/monitoring/config";
import { runTool, tempDir, writeFiles } from "./promtool/check";

const ep = (
  namespace: string,
  service: string,
  port: number,
  scheme: ServiceEndpoint["scheme"] = "http",
): ServiceEndpoint => ({
  namespace,
  service,
  port,
  scheme,
  podSelector: {},
});

const DATASOURCE_ARGS = {
  prometheus: ep("monitoring", "prometheus", 9090),
  elasticsearch: ep("logging", "elasticsearch", 9200, "https"),
  jaeger: ep("monitoring", "jaeger-query", 16686),
  elasticsearchUser: "grafana-reader",
};

/** Grafana's environment reference in provisioning files: ${NAME}. */
const grafanaEnv = (name: string) => `\${${name}}`;

const SEED_METRICS = [
  "zarish_patient_registrations_total",
  "zarish_clinical_encounters_total",
  "zarish_medication_administered_total",
  "zarish_lab_tests_completed_total",
  "zarish_data_quality_score",
  "zarish_active_users_total",
];

interface PanelJson {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource: { uid: string } }[];
}

function dashboards(): Record<
  string,
  { uid: string; panels: PanelJson[]; templating: { list: { definition: string }[] } }
> {
  return Object.fromEntries(Object.entries(renderGrafanaDashboards()).map(([file, json]) => [file, JSON.parse(json)]));
}

/**
 * Grafana expands its variables before sending a query; these stand-ins make each query plain PromQL:
 * $__rate_interval -> 5m, a multi-value variable -> ".*" (it is only used inside =~ matchers).
 */
function asPromql(expr: string): string {
  return expr.replaceAll("$__rate_interval", "5m").replace(/\$[a-z_]+/g, ".*");
}

test("every panel query and variable query is valid PromQL (promtool check rules)", (t) => {
  const exprs: string[] = [];
  for (const d of Object.values(dashboards())) {
    for (const p of d.panels) for (const target of p.targets ?? []) exprs.push(asPromql(target.expr));
    for (const v of d.templating.list) {
      const selector = /^label_values\((.+), [a-z_]+\)$/.exec(v.definition)?.[1];
      t.truthy(selector, v.definition);
      exprs.push(selector ?? "");
    }
  }
  t.true(exprs.length > 25);
  const rules = {
    groups: [{ name: "dashboard-queries", rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }],
  };
  const dir = writeFiles(tempDir("dashboards"), { "queries.yml": yaml.dump(rules, { lineWidth: -1 }) });
  const r = runTool("promtool", ["check", "rules", join(dir, "queries.yml")]);
  t.is(r.status, 0, r.output);
  t.regex(r.output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
});

test("the query check catches an invalid query (it can fail)", (t) => {
  const rules = {
    groups: [{ name: "x", rules: [{ record: "x:y", expr: asPromql("sum(rate(x[$__rate_interval])") }] }],
  };
  const dir = writeFiles(tempDir("dashboards-broken"), { "queries.yml": yaml.dump(rules) });
  t.not(runTool("promtool", ["check", "rules", join(dir, "queries.yml")]).status, 0);
});

test("every healthcare metric of the seed is on the clinical dashboard", (t) => {
  const clinical = renderGrafanaDashboards()["zarish-clinical-activity.json"];
  for (const metric of SEED_METRICS) t.true(clinical.includes(metric), metric);
});

test("the API dashboard shows request rate, errors and latency; the platform dashboard nodes, backups and certificates", (t) => {
  const d = renderGrafanaDashboards();
  t.regex(d["zarish-api.json"], /rate\(http_requests_total/);
  t.regex(d["zarish-api.json"], /status=~\\"5\.\.\\"/);
  t.regex(d["zarish-api.json"], /histogram_quantile\(0\.95, sum by \(le, job\)/);
  t.regex(d["zarish-platform.json"], /node_memory_MemAvailable_bytes/);
  t.regex(
    d["zarish-platform.json"],
    /kube_cronjob_status_last_successful_time\{namespace=\\"backup\\", cronjob=\\"database-backup\\"\}/,
  );
  t.regex(d["zarish-platform.json"], /certmanager_certificate_expiration_timestamp_seconds/);
});

test("dashboards have stable uids, file names and only reference provisioned data sources", (t) => {
  const all = dashboards();
  t.deepEqual(Object.keys(all), ["zarish-clinical-activity.json", "zarish-api.json", "zarish-platform.json"]);
  const uids = new Set<string>(Object.values(DATASOURCE_UIDS));
  for (const [file, d] of Object.entries(all)) {
    t.is(file, `${d.uid}.json`);
    for (const p of d.panels) {
      if (p.type === "row") continue;
      t.true(uids.has(p.datasource?.uid ?? ""), `${file} ${p.title}`);
      for (const target of p.targets ?? []) t.true(uids.has(target.datasource.uid));
    }
  }
});

test("panels do not overlap and fit the 24-column grid", (t) => {
  for (const [file, json] of Object.entries(renderGrafanaDashboards())) {
    const panels = JSON.parse(json).panels as {
      title: string;
      gridPos: { x: number; y: number; w: number; h: number };
    }[];
    for (const [i, a] of panels.entries()) {
      t.true(a.gridPos.x + a.gridPos.w <= 24, `${file} ${a.title} is wider than the grid`);
      for (const b of panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        t.false(overlap, `${file}: "${a.title}" overlaps "${b.title}"`);
      }
    }
  }
});

test("the platform dashboard follows a custom backup CronJob", (t) => {
  const platform = grafanaDashboards({ databaseBackup: { namespace: "dr", cronJob: "pg-backup", maxAgeHours: 30 } })[2];
  const text = JSON.stringify(platform);
  t.regex(text, /cronjob=\\"pg-backup\\"/);
  t.regex(text, /above 30 hours/);
});

test("data sources: Prometheus default, Elasticsearch with the password from an environment variable, Jaeger", (t) => {
  const text = renderGrafanaDatasources(DATASOURCE_ARGS);
  const ds = (yaml.load(text) as { apiVersion: number; datasources: Record<string, unknown>[] }).datasources;
  t.deepEqual(
    ds.map((d) => [d.uid, d.type, d.url]),
    [
      ["prometheus", "prometheus", "http://prometheus.monitoring.svc:9090"],
      ["elasticsearch", "elasticsearch", "https://elasticsearch.logging.svc:9200"],
      ["jaeger", "jaeger", "http://jaeger-query.monitoring.svc:16686"],
    ],
  );
  t.true(ds[0].isDefault);
  t.is(ds[1].basicAuthUser, "grafana-reader");
  t.deepEqual(ds[1].secureJsonData, { basicAuthPassword: grafanaEnv("ES_PASSWORD") });
  t.deepEqual(ds[1].jsonData, {
    index: "zarish-sphere-*",
    timeField: "@timestamp",
    logMessageField: "message",
    logLevelField: "level",
  });
});

test("data sources: custom password variable, CA certificate variable and index", (t) => {
  const text = renderGrafanaDatasources({
    ...DATASOURCE_ARGS,
    elasticsearchPasswordEnv: "GF_ES_PASSWORD",
    elasticsearchCaCertEnv: "GF_ES_CA",
    elasticsearchIndex: "logs-*",
  });
  const es = (yaml.load(text) as { datasources: Record<string, Record<string, unknown>>[] }).datasources[1];
  t.deepEqual(es.secureJsonData, {
    basicAuthPassword: grafanaEnv("GF_ES_PASSWORD"),
    tlsCACert: grafanaEnv("GF_ES_CA"),
  });
  t.is(es.jsonData.tlsAuthWithCACert, true);
  t.is(es.jsonData.index, "logs-*");
});

test("a password variable that is not an environment variable name is refused", (t) => {
  t.throws(() => renderGrafanaDatasources({ ...DATASOURCE_ARGS, elasticsearchPasswordEnv: "s3cr3t pass" }), {
    message: /elasticsearchPasswordEnv must be an environment variable name \(got "s3cr3t pass"\)/,
  });
});

test("a CA certificate variable that is not an environment variable name is refused", (t) => {
  t.throws(() => renderGrafanaDatasources({ ...DATASOURCE_ARGS, elasticsearchCaCertEnv: "-----BEGIN" }), {
    message: /elasticsearchCaCertEnv must be an environment variable name \(got "-----BEGIN"\)/,
  });
});

test("an empty Elasticsearch user is refused", (t) => {
  t.throws(() => renderGrafanaDatasources({ ...DATASOURCE_ARGS, elasticsearchUser: "" }), {
    message: /elasticsearchUser must not be empty when elasticsearch is set/,
  });
});

test("without Elasticsearch there is no logs data source and no user is needed", (t) => {
  const text = renderGrafanaDatasources({ prometheus: DATASOURCE_ARGS.prometheus, jaeger: DATASOURCE_ARGS.jaeger });
  const ds = (yaml.load(text) as { datasources: Record<string, unknown>[] }).datasources;
  t.deepEqual(
    ds.map((d) => d.uid),
    ["prometheus", "jaeger"],
  );
  t.false(text.includes("ES_PASSWORD"));
});

test("a tcp endpoint for a data source is refused", (t) => {
  t.throws(() => renderGrafanaDatasources({ ...DATASOURCE_ARGS, jaeger: ep("monitoring", "jaeger", 14250, "tcp") }), {
    message: /jaeger endpoint must be http or https \(got tcp\)/,
  });
});

test("the dashboard provider reads the dashboards directory, read-only in the UI", (t) => {
  const provider = (yaml.load(renderGrafanaDashboardProvider()) as { providers: Record<string, unknown>[] })
    .providers[0];
  t.like(provider, {
    type: "file",
    folder: "ZARISH SPHERE",
    allowUiUpdates: false,
    options: { path: "/var/lib/grafana/dashboards", foldersFromFilesStructure: false },
  });
  const custom = (
    yaml.load(renderGrafanaDashboardProvider({ path: "/dash", folder: "Ops" })) as {
      providers: Record<string, unknown>[];
    }
  ).providers[0];
  t.like(custom, { folder: "Ops", options: { path: "/dash" } });
});
