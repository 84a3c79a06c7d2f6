import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import test from "ava";
import * as yaml from "js-yaml";
import type { ServiceEndpoint } from "../components/k8s";
import type { ElasticsearchClientCredentials as LoggingClientCredentials } from "../components/logging";
import {
  type ElasticsearchCredentials,
  Monitoring,
  type MonitoringArgs,
  type MonitoringElasticsearch,
  resolveMonitoringArgs,
} from "../components/monitoring";
import type { PlatformConfig } from "../config/types";
import { testConfig } from "./helpers/config";
import { type RecordedResource, runComponent, SECRET } from "./helpers/harness";
import {
  containerNamed,
  kubernetesObjects,
  metadataOf,
  objectNamed,
  objectsOfKind,
  podSpecOf,
} from "./helpers/objects";
import { assertMonitoringInvariants, fixtureSecrets } from "./monitoring-workloads.helpers";
import { promtoolCheckableConfig, runTool, tempDir, writeFiles } from "./promtool/check";

const credentials = (username: string): ElasticsearchCredentials => ({
  namespace: "monitoring",
  username,
  secretName: `elasticsearch-client-${username}`,
  passwordKey: "password",
  caConfigMap: "logging-ca",
  caKey: "ca.crt",
});
const ES: MonitoringElasticsearch = {
  endpoint: {
    namespace: "logging",
    service: "elasticsearch",
    port: 9200,
    scheme: "https",
    podSelector: { "app.kubernetes.io/name": "elasticsearch" },
  },
  grafana: credentials("grafana"),
  jaeger: credentials("jaeger"),
};
// The logging component's credentials fit this argument as they are (also a compile-time check: tsc fails otherwise).
const fromLogging: (c: LoggingClientCredentials) => ElasticsearchCredentials = (c) => c;

test("the logging component's client credentials are accepted as they are", (t) => {
  const c = fromLogging({
    namespace: "monitoring",
    username: "grafana",
    secretName: "elasticsearch-client-grafana",
    usernameKey: "username",
    passwordKey: "password",
    caConfigMap: "logging-ca",
    caKey: "ca.crt",
  });
  t.notThrows(() => resolveMonitoringArgs(monitoringArgs("prod", { elasticsearch: { ...ES, grafana: c } })));
});
const ES_METRICS: ServiceEndpoint = {
  namespace: "logging",
  service: "elasticsearch-exporter",
  port: 9114,
  scheme: "http",
  podSelector: { "app.kubernetes.io/name": "elasticsearch-exporter" },
};

function monitoringArgs(stack: "staging" | "prod", overrides: Partial<MonitoringArgs> = {}): MonitoringArgs {
  const config: PlatformConfig = testConfig(stack);
  return {
    namespace: "monitoring",
    nodeAgentsNamespace: "node-agents",
    environment: config.environment,
    monitoring: { ...config.monitoring, secrets: fixtureSecrets() },
    kubernetes: config.kubernetes,
    elasticsearch: ES,
    elasticsearchMetrics: ES_METRICS,
    certManagerNamespace: config.security.certManager.namespace,
    backupNamespace: "backup",
    ...overrides,
  };
}

async function build(
  name: string,
  args: MonitoringArgs,
): Promise<{ monitoring: Monitoring; recorded: RecordedResource[] }> {
  let monitoring: Monitoring | undefined;
  const recorded = await runComponent(() => {
    monitoring = new Monitoring(name, args);
  });
  if (monitoring === undefined) throw new Error("Monitoring was not built");
  return { monitoring, recorded };
}

function configMapFile(recorded: RecordedResource[], configMap: string, key: string): string {
  return (objectNamed(recorded, "ConfigMap", configMap).inputs.data as Record<string, string>)[key];
}

/**
 * promtool check config on the recorded prometheus.yml, with the recorded rule files where rule_files points.
 * The Debian promtool is built without Kubernetes service discovery: promtoolCheckableConfig (the config
 * builder's test helper) checks those sections against the upstream schema and swaps them for static ones.
 * Returns "" on success, promtool's output otherwise.
 */
function checkPrometheus(recorded: RecordedResource[]): string {
  const dir = tempDir("monitoring-workloads-promtool");
  const rules = objectNamed(recorded, "ConfigMap", "prometheus-rules").inputs.data as Record<string, string>;
  writeFiles(path.join(dir, "rules"), rules);
  const sa = writeFiles(path.join(dir, "serviceaccount"), { token: "dummy-token\n", "ca.crt": "dummy-ca\n" });
  const checkable = promtoolCheckableConfig(configMapFile(recorded, "prometheus-config", "prometheus.yml"), {
    serviceAccountDir: sa,
    ruleFilesGlob: path.join(dir, "rules", "*.yml"),
  });
  writeFiles(dir, { "prometheus.yml": checkable });
  const r = runTool("promtool", ["check", "config", path.join(dir, "prometheus.yml")]);
  if (r.status !== 0) return r.output;
  return r.output.includes(`SUCCESS: ${Object.keys(rules).length} rule files found`) ? "" : r.output;
}

for (const stack of ["staging", "prod"] as const) {
  test(`${stack}: every object is named, labelled, schema-valid, secret-free in ConfigMaps and sized`, async (t) => {
    const { recorded } = await build(`mon-invariants-${stack}`, monitoringArgs(stack));
    await assertMonitoringInvariants(t, recorded);
    // Everything but node-exporter lives in the restricted namespace.
    for (const r of kubernetesObjects(recorded)) {
      const { namespace, name } = metadataOf(r);
      if (namespace === undefined) continue;
      t.is(namespace, name?.startsWith("node-exporter") ? "node-agents" : "monitoring", `${r.inputs.kind} ${name}`);
    }
  });

  test(`${stack}: every container but node-exporter's host mounts runs with the restricted profile`, async (t) => {
    const { recorded } = await build(`mon-restricted-${stack}`, monitoringArgs(stack));
    for (const w of kubernetesObjects(recorded).filter((r) =>
      ["Deployment", "StatefulSet", "DaemonSet", "CronJob"].includes(r.inputs.kind as string),
    )) {
      const pod = podSpecOf(w);
      t.is(pod.securityContext.runAsNonRoot, true, `${metadataOf(w).name}: pod runAsNonRoot`);
      t.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
      t.falsy(pod.hostNetwork, `${metadataOf(w).name}: hostNetwork`);
      t.falsy(pod.hostPID, `${metadataOf(w).name}: hostPID`);
      t.falsy(pod.hostIPC, `${metadataOf(w).name}: hostIPC`);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        t.like(c.securityContext, {
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        t.not(c.securityContext.runAsUser, 0);
      }
      const hostPaths = (pod.volumes ?? []).filter((v: { hostPath?: unknown }) => v.hostPath !== undefined);
      t.is(hostPaths.length > 0, metadataOf(w).name === "node-exporter", `${metadataOf(w).name}: hostPath volumes`);
    }
  });

  test(`${stack}: the recorded prometheus.yml and rule files pass promtool, alertmanager.yml passes amtool`, async (t) => {
    const { recorded } = await build(`mon-validators-${stack}`, monitoringArgs(stack));
    t.is(checkPrometheus(recorded), "");
    const dir = tempDir("monitoring-workloads-amtool");
    writeFiles(dir, { "alertmanager.yml": configMapFile(recorded, "alertmanager-config", "alertmanager.yml") });
    const r = runTool("amtool", ["check-config", path.join(dir, "alertmanager.yml")]);
    t.is(r.status, 0, r.output);
  });
}

for (const stack of ["staging", "prod"] as const) {
  test(`${stack}: the policy pack accepts every monitoring object, advisories included`, async (t) => {
    const { recorded } = await build(`mon-policy-${stack}`, monitoringArgs(stack));
    const dir = mkdtempSync(path.join(tmpdir(), "monitoring-workloads-policy-"));
    const file = path.join(dir, "monitoring.yaml");
    writeFileSync(
      file,
      kubernetesObjects(recorded)
        .map((r) => yaml.dump(r.inputs))
        .join("---\n"),
    );
    const root = path.resolve(__dirname, "..");
    // One line per violation on stdout, the summary on stderr, exit 1 on a mandatory violation.
    const run = spawnSync(process.execPath, [path.join(root, "tools", "run.js"), "policy", file], {
      cwd: root,
      encoding: "utf8",
    });
    const output = `${run.stdout}${run.stderr}`;
    t.is(run.status, 0, output);
    t.is(run.stdout.trim(), "", output);
    t.regex(output, /: 0 mandatory, 0 advisory violation/, output);
  });
}

test("prod outputs: endpoints, Grafana URL and the peers network policies need", async (t) => {
  const { monitoring, recorded } = await build("mon-outputs", monitoringArgs("prod"));
  const selector = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/instance": name });
  t.deepEqual(monitoring.prometheus, {
    namespace: "monitoring",
    service: "prometheus",
    port: 9090,
    scheme: "http",
    podSelector: selector("prometheus"),
  });
  t.deepEqual(monitoring.alertmanager, {
    namespace: "monitoring",
    service: "alertmanager",
    port: 9093,
    scheme: "http",
    podSelector: selector("alertmanager"),
  });
  t.deepEqual(monitoring.grafana, {
    namespace: "monitoring",
    service: "grafana",
    port: 3000,
    scheme: "http",
    podSelector: selector("grafana"),
  });
  t.is(monitoring.grafanaUrl, "https://grafana.zarishsphere.com");
  t.deepEqual(monitoring.jaegerCollector, {
    namespace: "monitoring",
    service: "jaeger-collector",
    port: 4317,
    scheme: "tcp",
    podSelector: selector("jaeger-collector"),
  });
  t.deepEqual(monitoring.jaegerQuery, {
    namespace: "monitoring",
    service: "jaeger-query",
    port: 16686,
    scheme: "http",
    podSelector: selector("jaeger-query"),
  });
  t.deepEqual(monitoring.scraper, { namespace: "monitoring", podSelector: selector("prometheus") });
  t.deepEqual(monitoring.grafanaPeer, { namespace: "monitoring", podSelector: selector("grafana") });
  t.deepEqual(
    monitoring.elasticsearchClients.map((p) => p.podSelector["app.kubernetes.io/name"]),
    ["grafana", "jaeger-collector", "jaeger-query", "jaeger-index-cleaner"],
  );
  t.deepEqual(monitoring.postgresExporterPeer.podSelector, selector("postgres-exporter"));
  t.deepEqual(monitoring.redisExporterPeer.podSelector, selector("redis-exporter"));
  // Every selector of an output selects pods that exist.
  const podLabels = kubernetesObjects(recorded)
    .filter((r) => ["Deployment", "StatefulSet", "DaemonSet", "CronJob"].includes(r.inputs.kind as string))
    .map((w) =>
      w.inputs.kind === "CronJob"
        ? (w.inputs.spec as any).jobTemplate.spec.template.metadata.labels
        : (w.inputs.spec as any).template.metadata.labels,
    );
  for (const peer of [
    monitoring.scraper,
    monitoring.grafanaPeer,
    monitoring.jaegerCollectorPeer,
    ...monitoring.elasticsearchClients,
  ]) {
    t.true(
      podLabels.some((labels) => Object.entries(peer.podSelector).every(([k, v]) => labels[k] === v)),
      JSON.stringify(peer.podSelector),
    );
  }
});

test("the configuration reaches the workloads: ConfigMaps are rendered with the workloads' own names and paths", async (t) => {
  const { recorded } = await build("mon-wiring", monitoringArgs("prod"));
  const prometheusYml = yaml.load(configMapFile(recorded, "prometheus-config", "prometheus.yml")) as Record<
    string,
    any
  >;
  t.deepEqual(prometheusYml.rule_files, ["/etc/prometheus/rules/*.yml"]);
  t.deepEqual(prometheusYml.global.external_labels, { environment: "prod", cluster: "zarish-sphere-prod" });
  const jobs = prometheusYml.scrape_configs.map((j: { job_name: string }) => j.job_name);
  for (const job of [
    "zarish-sphere-api",
    "zarish-sphere-fhir",
    "postgres-exporter",
    "redis-exporter",
    "kube-state-metrics",
    "node-exporter",
    "elasticsearch-exporter",
  ]) {
    t.true(jobs.includes(job), job);
  }
  const keepService = (job: string) =>
    prometheusYml.scrape_configs
      .find((j: { job_name: string }) => j.job_name === job)
      .relabel_configs.find(
        (c: { source_labels?: string[] }) => c.source_labels?.[0] === "__meta_kubernetes_service_name",
      ).regex;
  t.is(keepService("postgres-exporter"), "postgres-exporter");
  t.is(keepService("redis-exporter"), "redis-exporter");
  t.is(keepService("kube-state-metrics"), "kube-state-metrics");
  // The rule files ConfigMap holds exactly what rule_files loads.
  const rules = objectNamed(recorded, "ConfigMap", "prometheus-rules").inputs.data as Record<string, string>;
  t.true(Object.keys(rules).length >= 5);
  for (const file of Object.keys(rules)) t.regex(file, /\.yml$/);
  t.true(rules[Object.keys(rules).find((f) => f.includes("backup")) ?? ""]?.includes('namespace="backup"'));
  // Kubelets are scraped through the API server proxy: the ClusterRole grants nodes/proxy and not nodes/metrics.
  const core = (
    objectNamed(recorded, "ClusterRole", "prometheus-discovery").inputs.rules as { resources: string[] }[]
  )[0].resources;
  t.true(core.includes("nodes/proxy"));
  t.false(core.includes("nodes/metrics"));

  const alertmanagerYml = configMapFile(recorded, "alertmanager-config", "alertmanager.yml");
  for (const file of ["slack-webhook-url", "pagerduty-routing-key", "smtp-password"]) {
    t.true(alertmanagerYml.includes(`/etc/alertmanager/secrets/${file}`), file);
  }
  const datasources = yaml.load(configMapFile(recorded, "grafana-datasources", "datasources.yaml")) as {
    datasources: Record<string, any>[];
  };
  const byType = Object.fromEntries(datasources.datasources.map((d) => [d.type, d]));
  t.is(byType.prometheus.url, "http://prometheus.monitoring.svc:9090");
  t.is(byType.jaeger.url, "http://jaeger-query.monitoring.svc:16686");
  t.is(byType.elasticsearch.url, "https://elasticsearch.logging.svc:9200");
  t.is(byType.elasticsearch.basicAuthUser, "grafana");
  // Grafana expands ${VAR} in provisioning files: the ConfigMap names the variables, the Secrets hold the values.
  const variable = (name: string) => `\${${name}}`;
  t.deepEqual(byType.elasticsearch.secureJsonData, {
    basicAuthPassword: variable("ES_PASSWORD"),
    tlsCACert: variable("ES_CA_CERT"),
  });
  const grafanaEnv = containerNamed(objectNamed(recorded, "Deployment", "grafana"), "grafana").env as Record<
    string,
    any
  >[];
  t.deepEqual(grafanaEnv.find((e) => e.name === "ES_PASSWORD")?.valueFrom, {
    secretKeyRef: { name: "elasticsearch-client-grafana", key: "password" },
  });
  t.deepEqual(grafanaEnv.find((e) => e.name === "ES_CA_CERT")?.valueFrom, {
    configMapKeyRef: { name: "logging-ca", key: "ca.crt" },
  });
  const provider = configMapFile(recorded, "grafana-dashboard-providers", "dashboards.yaml");
  t.true(provider.includes("path: /var/lib/grafana-dashboards"));
  t.true(Object.keys(objectNamed(recorded, "ConfigMap", "grafana-dashboards").inputs.data as object).length >= 3);
});

test("Elasticsearch clients wait for the logging component's ready resource", async (t) => {
  const recorded = await runComponent(() => {
    const ready = new k8s.core.v1.ConfigMap("mon-ready-marker", { metadata: { name: "ready", namespace: "logging" } });
    new Monitoring("mon-ready", monitoringArgs("prod", { elasticsearch: { ...ES, ready } }));
  });
  const marker = recorded.find((r) => r.name === "mon-ready-marker");
  for (const [kind, name] of [
    ["Deployment", "grafana"],
    ["Deployment", "jaeger-collector"],
    ["Deployment", "jaeger-query"],
    ["CronJob", "jaeger-index-cleaner"],
  ]) {
    t.true(objectNamed(recorded, kind, name).dependencies.includes(marker?.urn ?? "none"), `${kind} ${name}`);
  }
  t.false(objectNamed(recorded, "StatefulSet", "prometheus").dependencies.includes(marker?.urn ?? "none"));
});

test("staging: Jaeger all-in-one, no Elasticsearch client besides Grafana", async (t) => {
  const { monitoring, recorded } = await build("mon-staging", monitoringArgs("staging"));
  objectNamed(recorded, "Deployment", "jaeger-all-in-one");
  t.deepEqual(objectsOfKind(recorded, "CronJob"), []);
  t.deepEqual(
    monitoring.elasticsearchClients.map((p) => p.podSelector["app.kubernetes.io/name"]),
    ["grafana"],
  );
  t.is(monitoring.jaegerCollector.podSelector["app.kubernetes.io/name"], "jaeger-all-in-one");
});

test("without Elasticsearch: no log data source and no exporter job, nothing else changed", async (t) => {
  const { monitoring, recorded } = await build(
    "mon-no-es",
    monitoringArgs("staging", { elasticsearch: undefined, elasticsearchMetrics: undefined }),
  );
  await assertMonitoringInvariants(t, recorded);
  const datasources = yaml.load(configMapFile(recorded, "grafana-datasources", "datasources.yaml")) as {
    datasources: { type: string }[];
  };
  t.deepEqual(
    datasources.datasources.map((d) => d.type),
    ["prometheus", "jaeger"],
  );
  const prometheusYml = configMapFile(recorded, "prometheus-config", "prometheus.yml");
  t.false(prometheusYml.includes("elasticsearch-exporter"));
  const grafanaEnv = containerNamed(objectNamed(recorded, "Deployment", "grafana"), "grafana").env as {
    name: string;
  }[];
  t.false(grafanaEnv.some((e) => e.name.startsWith("ES_")));
  t.deepEqual(monitoring.elasticsearchClients, []);
  // Removing the job changes nothing else: the same document as with Elasticsearch, minus that one job.
  const { recorded: withEs } = await build("mon-with-es", monitoringArgs("staging"));
  const full = yaml.load(configMapFile(withEs, "prometheus-config", "prometheus.yml")) as Record<string, any>;
  t.is(checkPrometheus(recorded), "");
  const reduced = yaml.load(prometheusYml) as Record<string, any>;
  t.deepEqual(reduced, {
    ...full,
    scrape_configs: full.scrape_configs.filter((j: { job_name: string }) => j.job_name !== "elasticsearch-exporter"),
  });
});

test("secrets reach the cluster only as Secrets: receiver credentials, exporter connections, Grafana admin", async (t) => {
  const { monitoring, recorded } = await build("mon-secrets", monitoringArgs("prod"));
  const secrets = objectsOfKind(recorded, "Secret");
  t.deepEqual(secrets.map((s) => metadataOf(s).name).sort(), [
    "alertmanager-receivers",
    "grafana-admin",
    "postgres-exporter-connection",
    "redis-exporter-connection",
  ]);
  for (const s of secrets) {
    for (const [key, value] of Object.entries(s.inputs.stringData as Record<string, unknown>)) {
      t.is(value, SECRET, `${metadataOf(s).name}/${key}`);
    }
  }
  // Output.isSecret is the SDK's own (untyped) flag: the password stays a secret for stack exports too.
  t.true(await (monitoring.grafanaAdminPassword as unknown as { isSecret: Promise<boolean> }).isSecret);
  const password = recorded.find((r) => r.type === "random:index/randomPassword:RandomPassword");
  t.like(password?.inputs, { length: 32, special: false });
});

const INVALID: [string, Partial<MonitoringArgs>, string][] = [
  ["namespace", { namespace: "Monitoring" }, 'namespace must be a DNS-1123 label (got "Monitoring")'],
  [
    "node agents namespace",
    { nodeAgentsNamespace: "node agents" },
    'nodeAgentsNamespace must be a DNS-1123 label (got "node agents")',
  ],
  ["cert-manager namespace", { certManagerNamespace: "" }, 'certManagerNamespace must be a DNS-1123 label (got "")'],
  ["backup namespace", { backupNamespace: "Backup" }, 'backupNamespace must be a DNS-1123 label (got "Backup")'],
  [
    "shared namespace",
    { nodeAgentsNamespace: "monitoring" },
    'nodeAgentsNamespace must differ from namespace (both "monitoring")',
  ],
  [
    "production Jaeger without Elasticsearch",
    { elasticsearch: undefined, elasticsearchMetrics: undefined },
    'monitoring.jaeger.mode "production" stores spans in Elasticsearch, but no elasticsearch was given',
  ],
  [
    "plain-text Elasticsearch",
    { elasticsearch: { ...ES, endpoint: { ...ES.endpoint, scheme: "http" } } },
    "elasticsearch.endpoint must be https (got http)",
  ],
  [
    "Elasticsearch without its exporter",
    { elasticsearchMetrics: undefined },
    "elasticsearchMetrics is required with elasticsearch: the Elasticsearch health alerts read its exporter",
  ],
  ["cluster name", { clusterName: " " }, "clusterName must not be empty"],
  [
    "credentials in another namespace",
    { elasticsearch: { ...ES, jaeger: { ...ES.jaeger, namespace: "logging" } } },
    'elasticsearch.jaeger credentials must be in namespace "monitoring" (got "logging")',
  ],
];
for (const [rule, overrides, message] of INVALID) {
  test(`Monitoring rejects: ${rule}`, (t) => {
    const error = t.throws(() => resolveMonitoringArgs(monitoringArgs("prod", overrides)));
    t.true(error?.message.startsWith("Monitoring: "), error?.message);
    t.true(error?.message.includes(message), error?.message);
  });
}

test("Monitoring defaults: cluster name from the environment", (t) => {
  t.is(resolveMonitoringArgs(monitoringArgs("staging")).clusterName, "zarish-sphere-staging");
  t.is(resolveMonitoringArgs(monitoringArgs("prod", { clusterName: "eks-prod-1" })).clusterName, "eks-prod-1");
});
