import { join } from "node:path";
import test from "ava";
import * as yaml from "js-yaml";
import type { ServiceEndpoint } from "../components/k8s/endpoints";
import { type PrometheusConfigArgs, renderPrometheusConfig, renderRuleFiles } from "../components/monitoring/config";
import { kubernetesSdProblems, promtoolCheckableConfig, runTool, tempDir, writeFiles } from "./promtool/check";

const ep = (namespace: string, service: string, port: number): ServiceEndpoint => ({
  namespace,
  service,
  port,
  scheme: "http",
  podSelector: { "app.kubernetes.io/name": service },
});

const ARGS: PrometheusConfigArgs = {
  environment: "prod",
  cluster: "zarish-sphere-prod",
  applicationNamespace: "zarish",
  nodeAgentsNamespace: "node-agents",
  certManagerNamespace: "cert-manager",
  endpoints: {
    alertmanager: ep("monitoring", "alertmanager", 9093),
    postgresExporter: ep("monitoring", "postgres-exporter", 9187),
    redisExporter: ep("monitoring", "redis-exporter", 9121),
    elasticsearchExporter: ep("logging", "elasticsearch-exporter", 9114),
    kubeStateMetrics: ep("monitoring", "kube-state-metrics", 8080),
  },
};

interface Job {
  job_name: string;
  scrape_interval?: string;
  metrics_path?: string;
  honor_labels?: boolean;
  static_configs?: { targets: string[] }[];
  kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[];
  relabel_configs?: Record<string, unknown>[];
  authorization?: { credentials_file: string };
}

interface Config {
  global: Record<string, unknown>;
  rule_files: string[];
  alerting: { alertmanagers: Job[] };
  scrape_configs: Job[];
}

const parse = (text: string) => yaml.load(text) as Config;
const job = (c: Config, name: string) => {
  const j = c.scrape_configs.find((s) => s.job_name === name);
  if (j === undefined) throw new Error(`no job ${name}`);
  return j;
};

test("promtool check config accepts the rendered prometheus.yml with the rendered rule files", (t) => {
  const dir = tempDir("prometheus");
  writeFiles(join(dir, "rules"), renderRuleFiles());
  const sa = writeFiles(join(dir, "serviceaccount"), { token: "dummy-token\n", "ca.crt": "dummy-ca\n" });
  const checkable = promtoolCheckableConfig(renderPrometheusConfig(ARGS), {
    serviceAccountDir: sa,
    ruleFilesGlob: join(dir, "rules", "*.yml"),
  });
  writeFiles(dir, { "prometheus.yml": checkable });
  const r = runTool("promtool", ["check", "config", join(dir, "prometheus.yml")]);
  t.is(r.status, 0, r.output);
  t.regex(r.output, /SUCCESS: 7 rule files found/);
});

test("promtool check config rejects an invalid relabel regex (the check can fail)", (t) => {
  const dir = tempDir("prometheus-broken");
  writeFiles(join(dir, "rules"), renderRuleFiles());
  const sa = writeFiles(join(dir, "serviceaccount"), { token: "t\n", "ca.crt": "c\n" });
  const rendered = renderPrometheusConfig(ARGS);
  const broken = rendered.replace("regex: 'true'", "regex: '(true'");
  t.not(broken, rendered);
  const checkable = promtoolCheckableConfig(broken, {
    serviceAccountDir: sa,
    ruleFilesGlob: join(dir, "rules", "*.yml"),
  });
  writeFiles(dir, { "prometheus.yml": checkable });
  t.not(runTool("promtool", ["check", "config", join(dir, "prometheus.yml")]).status, 0);
});

test("every kubernetes_sd_configs entry matches the upstream schema", (t) => {
  const c = parse(renderPrometheusConfig(ARGS));
  const sections = [...c.scrape_configs, ...c.alerting.alertmanagers];
  let count = 0;
  for (const s of sections) {
    for (const [i, sd] of (s.kubernetes_sd_configs ?? []).entries()) {
      t.deepEqual(kubernetesSdProblems(`${s.job_name ?? "alertmanagers"}[${i}]`, sd), []);
      count++;
    }
  }
  t.true(count >= 10);
  t.deepEqual(kubernetesSdProblems("x", { role: "pods", namespace: ["a"] }), [
    'x: unknown field "namespace"',
    'x: role must be one of node, service, pod, endpoints, endpointslice, ingress (got "pods")',
  ]);
});

test("global settings, external labels, rule files and alerting", (t) => {
  const c = parse(renderPrometheusConfig(ARGS));
  t.deepEqual(c.global, {
    scrape_interval: "15s",
    evaluation_interval: "15s",
    external_labels: { environment: "prod", cluster: "zarish-sphere-prod" },
  });
  t.deepEqual(c.rule_files, ["/etc/prometheus/rules/*.yml"]);
  const am = c.alerting.alertmanagers[0];
  t.deepEqual(am.kubernetes_sd_configs, [{ role: "endpoints", namespaces: { names: ["monitoring"] } }]);
  t.deepEqual(am.relabel_configs, [
    { source_labels: ["__meta_kubernetes_service_name"], action: "keep", regex: "alertmanager" },
    { source_labels: ["__address__"], action: "keep", regex: ".+:9093" },
  ]);
});

test("the seed's application jobs scrape the application namespace every 5s on their paths", (t) => {
  const c = parse(renderPrometheusConfig(ARGS));
  for (const [name, service, port, path] of [
    ["zarish-sphere-api", "api", 3000, "/metrics"],
    ["zarish-sphere-fhir", "fhir", 8080, "/fhir/metrics"],
  ] as const) {
    const j = job(c, name);
    t.is(j.scrape_interval, "5s");
    t.is(j.metrics_path, path);
    t.deepEqual(j.kubernetes_sd_configs, [{ role: "endpoints", namespaces: { names: ["zarish"] } }]);
    t.deepEqual(j.relabel_configs?.slice(0, 2), [
      { source_labels: ["__meta_kubernetes_service_name"], action: "keep", regex: service },
      { source_labels: ["__address__"], action: "keep", regex: `.+:${port}` },
    ]);
  }
});

test("every expected job is present once", (t) => {
  const c = parse(renderPrometheusConfig(ARGS));
  t.deepEqual(
    c.scrape_configs.map((j) => j.job_name),
    [
      "zarish-sphere-api",
      "zarish-sphere-fhir",
      "postgres-exporter",
      "redis-exporter",
      "elasticsearch-exporter",
      "kube-state-metrics",
      "alertmanager",
      "prometheus",
      "kubernetes-pods",
      "kubernetes-apiservers",
      "kubernetes-nodes",
      "kubernetes-cadvisor",
      "node-exporter",
      "cert-manager",
    ],
  );
  t.deepEqual(job(c, "prometheus").static_configs, [{ targets: ["localhost:9090"] }]);
  t.deepEqual(job(c, "elasticsearch-exporter").kubernetes_sd_configs, [
    { role: "endpoints", namespaces: { names: ["logging"] } },
  ]);
});

test("kubernetes-pods honours the scrape, path and port annotations (the seed's job only kept pods)", (t) => {
  const relabel = job(parse(renderPrometheusConfig(ARGS)), "kubernetes-pods").relabel_configs ?? [];
  t.deepEqual(relabel[0], {
    source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
    action: "keep",
    regex: "true",
  });
  t.true(
    relabel.some(
      (r) =>
        (r.source_labels as string[])?.[0] === "__meta_kubernetes_pod_annotation_prometheus_io_path" &&
        r.target_label === "__metrics_path__",
    ),
  );
  t.true(
    relabel.some(
      (r) =>
        (r.source_labels as string[])?.[0] === "__meta_kubernetes_pod_annotation_prometheus_io_port" &&
        r.target_label === "__address__" &&
        r.replacement === "$2:$1",
    ),
  );
  // "true" must stay a string in YAML: the seed's bare `regex: true` is a boolean.
  t.regex(renderPrometheusConfig(ARGS), /regex: 'true'/);
});

test("API server and kubelets use the in-cluster service account; kubelets through the API server proxy", (t) => {
  const c = parse(renderPrometheusConfig(ARGS));
  const token = { credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token" };
  t.deepEqual(job(c, "kubernetes-apiservers").authorization, token);
  t.deepEqual(job(c, "kubernetes-apiservers").relabel_configs?.[0].regex, "default;kubernetes;https");
  const nodes = job(c, "kubernetes-nodes");
  t.deepEqual(nodes.authorization, token);
  t.deepEqual(nodes.relabel_configs?.[0], { action: "labelmap", regex: "__meta_kubernetes_node_label_(.+)" });
  t.true(nodes.relabel_configs?.some((r) => r.replacement === "/api/v1/nodes/$1/proxy/metrics"));
  t.true(
    job(c, "kubernetes-cadvisor").relabel_configs?.some(
      (r) => r.replacement === "/api/v1/nodes/$1/proxy/metrics/cadvisor",
    ),
  );
});

test("node-exporter is found by pod label in the node-agents namespace; cert-manager by port 9402", (t) => {
  const c = parse(renderPrometheusConfig(ARGS));
  const ne = job(c, "node-exporter");
  t.deepEqual(ne.kubernetes_sd_configs, [{ role: "pod", namespaces: { names: ["node-agents"] } }]);
  t.deepEqual(ne.relabel_configs?.slice(0, 2), [
    { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], action: "keep", regex: "node-exporter" },
    { source_labels: ["__meta_kubernetes_pod_container_port_number"], action: "keep", regex: "9100" },
  ]);
  const cm = job(c, "cert-manager");
  t.deepEqual(cm.kubernetes_sd_configs, [{ role: "pod", namespaces: { names: ["cert-manager"] } }]);
  t.is(cm.relabel_configs?.[0].regex, "9402");
  // cert-manager's and kube-state-metrics' own namespace labels must not be renamed by a target label.
  t.false(cm.relabel_configs?.some((r) => r.target_label === "namespace"));
  const ksm = job(c, "kube-state-metrics");
  t.true(ksm.honor_labels);
  t.false(ksm.relabel_configs?.some((r) => r.target_label === "namespace"));
});

test("custom node-exporter selector, rule glob and self port", (t) => {
  const c = parse(
    renderPrometheusConfig({
      ...ARGS,
      nodeExporter: { podSelector: { app: "ne" }, port: 9200 },
      ruleFilesGlob: "/rules/*.yaml",
      selfPort: 9091,
    }),
  );
  t.deepEqual(c.rule_files, ["/rules/*.yaml"]);
  t.deepEqual(job(c, "prometheus").static_configs, [{ targets: ["localhost:9091"] }]);
  t.deepEqual(job(c, "node-exporter").relabel_configs?.slice(0, 2), [
    { source_labels: ["__meta_kubernetes_pod_label_app"], action: "keep", regex: "ne" },
    { source_labels: ["__meta_kubernetes_pod_container_port_number"], action: "keep", regex: "9200" },
  ]);
});

test("without an Elasticsearch exporter there is no elasticsearch-exporter job", (t) => {
  const { elasticsearchExporter: _, ...endpoints } = ARGS.endpoints;
  const c = parse(renderPrometheusConfig({ ...ARGS, endpoints }));
  t.false(c.scrape_configs.some((j) => j.job_name === "elasticsearch-exporter"));
  t.true(c.scrape_configs.some((j) => j.job_name === "kube-state-metrics"));
});

test("a namespace that is not a DNS label is refused", (t) => {
  t.throws(() => renderPrometheusConfig({ ...ARGS, applicationNamespace: "Zarish" }), {
    message: /applicationNamespace must be a DNS-1123 label \(got "Zarish"\)/,
  });
});

test("an empty cluster name is refused", (t) => {
  t.throws(() => renderPrometheusConfig({ ...ARGS, cluster: " " }), { message: /cluster must not be empty/ });
});

test("an empty node-exporter selector is refused", (t) => {
  t.throws(() => renderPrometheusConfig({ ...ARGS, nodeExporter: { podSelector: {} } }), {
    message: /nodeExporter.podSelector must not be empty/,
  });
});
