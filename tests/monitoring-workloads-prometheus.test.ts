import test from "ava";
import { checksum, images, resources } from "../components/k8s";
import { RELOADER_COMPUTE } from "../components/monitoring/config-reloader";
import {
  KUBE_STATE_METRICS_RESOURCES,
  KubeStateMetrics,
  resolveKubeStateMetricsArgs,
} from "../components/monitoring/kube-state-metrics";
import {
  type KubeletAccess,
  kubeletAccess,
  PROMETHEUS_DEFAULT_COMPUTE,
  Prometheus,
  type PrometheusArgs,
  prometheusClusterRoleRules,
  resolvePrometheusArgs,
} from "../components/monitoring/prometheus";
import { runComponent } from "./helpers/harness";
import { containerNamed, objectNamed, podSpecOf } from "./helpers/objects";
import { assertMonitoringInvariants } from "./monitoring-workloads.helpers";

const PROXIED = [
  "global:",
  "  scrape_interval: 15s",
  "rule_files:",
  "  - /etc/prometheus/rules/*.yml",
  "scrape_configs:",
  "  - job_name: kubernetes-nodes",
  "    kubernetes_sd_configs:",
  "      - role: node",
  "    relabel_configs:",
  "      - target_label: __metrics_path__",
  "        replacement: /api/v1/nodes/$1/proxy/metrics",
  "",
].join("\n");
const DIRECT = "scrape_configs:\n  - job_name: kubernetes-nodes\n    kubernetes_sd_configs:\n      - role: node\n";
const NO_KUBELET =
  "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: [localhost:9090]\n";
const RULES = { "application.rules.yml": "groups: []\n", "nodes.rules.yml": "groups: []\n" };

function args(overrides: Partial<PrometheusArgs> = {}): PrometheusArgs {
  return {
    namespace: "monitoring",
    settings: { replicas: 1, storageSize: "50Gi", retentionTime: "7d", retentionSize: "40GB" },
    storageClass: "gp3",
    config: PROXIED,
    ruleFiles: RULES,
    ...overrides,
  };
}

test("Prometheus defaults: RBAC, ConfigMaps, StatefulSet, reloader and Service as pinned", async (t) => {
  const recorded = await runComponent(() => new Prometheus("prom-default", args()));
  await assertMonitoringInvariants(t, recorded);

  t.is(objectNamed(recorded, "ServiceAccount", "prometheus").inputs.automountServiceAccountToken, false);
  t.deepEqual(objectNamed(recorded, "ClusterRole", "prometheus-discovery").inputs.rules, [
    {
      apiGroups: [""],
      resources: ["nodes", "nodes/proxy", "services", "endpoints", "pods"],
      verbs: ["get", "list", "watch"],
    },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    { nonResourceURLs: ["/metrics"], verbs: ["get"] },
  ]);
  const binding = objectNamed(recorded, "ClusterRoleBinding", "prometheus-discovery").inputs as Record<string, any>;
  t.deepEqual(binding.roleRef, {
    apiGroup: "rbac.authorization.k8s.io",
    kind: "ClusterRole",
    name: "prometheus-discovery",
  });
  t.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "prometheus", namespace: "monitoring" }]);

  t.deepEqual(objectNamed(recorded, "ConfigMap", "prometheus-config").inputs.data, { "prometheus.yml": PROXIED });
  t.deepEqual(objectNamed(recorded, "ConfigMap", "prometheus-rules").inputs.data, RULES);

  const sts = objectNamed(recorded, "StatefulSet", "prometheus");
  const spec = sts.inputs.spec as Record<string, any>;
  t.is(spec.replicas, 1);
  t.is(spec.serviceName, "prometheus-headless");
  t.is(spec.podManagementPolicy, "Parallel");
  t.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
  t.deepEqual(spec.volumeClaimTemplates[0].spec, {
    accessModes: ["ReadWriteOnce"],
    storageClassName: "gp3",
    resources: { requests: { storage: "50Gi" } },
  });
  t.is(spec.template.metadata.annotations["checksum/config"], checksum(PROXIED, RULES));
  const pod = podSpecOf(sts);
  t.is(pod.serviceAccountName, "prometheus");
  t.true(pod.automountServiceAccountToken);
  t.is(pod.terminationGracePeriodSeconds, 300);
  t.like(pod.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65534,
    fsGroup: 65534,
    seccompProfile: { type: "RuntimeDefault" },
  });
  t.deepEqual(pod.volumes, [
    { name: "config", configMap: { name: "prometheus-config" } },
    { name: "rules", configMap: { name: "prometheus-rules" } },
  ]);

  const server = containerNamed(sts, "prometheus");
  t.is(server.image, images.prometheus);
  t.deepEqual(server.args, [
    "--config.file=/etc/prometheus/config/prometheus.yml",
    "--storage.tsdb.path=/prometheus",
    "--storage.tsdb.retention.time=7d",
    "--storage.tsdb.retention.size=40GB",
    "--web.enable-lifecycle",
    "--web.listen-address=:9090",
  ]);
  t.deepEqual(server.resources, { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } });
  t.deepEqual(server.resources, {
    requests: { ...PROMETHEUS_DEFAULT_COMPUTE.requests },
    limits: { ...PROMETHEUS_DEFAULT_COMPUTE.limits },
  });
  t.like(server.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65534,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
  });
  t.is(server.readinessProbe.httpGet.path, "/-/ready");
  t.is(server.livenessProbe.httpGet.path, "/-/healthy");
  t.is(server.startupProbe.httpGet.path, "/-/ready");
  t.deepEqual(server.volumeMounts, [
    { name: "config", mountPath: "/etc/prometheus/config", readOnly: true },
    { name: "rules", mountPath: "/etc/prometheus/rules", readOnly: true },
    { name: "data", mountPath: "/prometheus" },
  ]);

  const reloader = containerNamed(sts, "config-reloader");
  t.is(reloader.image, images.configReloader);
  t.deepEqual(reloader.args, [
    "--volume-dir=/etc/prometheus/config",
    "--volume-dir=/etc/prometheus/rules",
    "--webhook-url=http://127.0.0.1:9090/-/reload",
    "--web.listen-address=:9533",
  ]);
  t.deepEqual(reloader.resources, {
    requests: { ...RELOADER_COMPUTE.requests },
    limits: { ...RELOADER_COMPUTE.limits },
  });
  t.like(reloader.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsUser: 65534 });
  t.is(reloader.readinessProbe.httpGet.path, "/");
  t.is(reloader.livenessProbe.httpGet.port, "reloader-web");

  const service = objectNamed(recorded, "Service", "prometheus").inputs.spec as Record<string, any>;
  t.is(service.type, "ClusterIP");
  t.deepEqual(service.ports, [{ name: "web", port: 9090, targetPort: "web" }]);
  t.is((objectNamed(recorded, "Service", "prometheus-headless").inputs.spec as Record<string, any>).clusterIP, "None");
});

test("Prometheus custom: prod sizing, replicas spread across nodes, compute and name overrides", async (t) => {
  const compute = resources("1", "4Gi", "4", "8Gi");
  const recorded = await runComponent(
    () =>
      new Prometheus(
        "prom-custom",
        args({
          name: "prom",
          settings: { replicas: 2, storageSize: "200Gi", retentionTime: "30d", retentionSize: "170GB" },
          storageClass: "io2",
          compute,
        }),
      ),
  );
  await assertMonitoringInvariants(t, recorded);
  const sts = objectNamed(recorded, "StatefulSet", "prom");
  const spec = sts.inputs.spec as Record<string, any>;
  t.is(spec.replicas, 2);
  t.is(spec.serviceName, "prom-headless");
  t.is(spec.volumeClaimTemplates[0].spec.storageClassName, "io2");
  t.is(spec.volumeClaimTemplates[0].spec.resources.requests.storage, "200Gi");
  t.deepEqual(
    podSpecOf(sts).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm,
    {
      topologyKey: "kubernetes.io/hostname",
      labelSelector: { matchLabels: { "app.kubernetes.io/name": "prom", "app.kubernetes.io/instance": "prom" } },
    },
  );
  const server = containerNamed(sts, "prometheus");
  t.true(server.args.includes("--storage.tsdb.retention.time=30d"));
  t.true(server.args.includes("--storage.tsdb.retention.size=170GB"));
  t.deepEqual(server.resources, { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "4", memory: "8Gi" } });
  objectNamed(recorded, "ClusterRole", "prom-discovery");
  objectNamed(recorded, "ConfigMap", "prometheus-config");
});

test("Prometheus outputs: endpoint and scraper peer", async (t) => {
  let prometheus: Prometheus | undefined;
  await runComponent(() => {
    prometheus = new Prometheus("prom-outputs", args());
  });
  const selector = { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "prometheus" };
  t.deepEqual(prometheus?.endpoint, {
    namespace: "monitoring",
    service: "prometheus",
    port: 9090,
    scheme: "http",
    podSelector: selector,
  });
  t.deepEqual(prometheus?.scraper, { namespace: "monitoring", podSelector: selector });
});

const ACCESS: [string, string, KubeletAccess, string[]][] = [
  [
    "through the API server proxy",
    PROXIED,
    "apiserver-proxy",
    ["nodes", "nodes/proxy", "services", "endpoints", "pods"],
  ],
  ["directly", DIRECT, "direct", ["nodes", "nodes/metrics", "services", "endpoints", "pods"]],
  ["not at all", NO_KUBELET, "none", ["nodes", "services", "endpoints", "pods"]],
];
for (const [how, config, access, core] of ACCESS) {
  test(`RBAC follows the config: kubelets scraped ${how}`, (t) => {
    t.is(kubeletAccess(config), access);
    const rules = prometheusClusterRoleRules(resolvePrometheusArgs(args({ config })));
    t.deepEqual(rules[0].resources, core);
    // Discovery only reads: no write verb and no access to Secrets or ConfigMaps anywhere.
    for (const rule of rules) {
      for (const verb of rule.verbs as string[]) t.true(["get", "list", "watch"].includes(verb), verb);
      t.false(((rule.resources ?? []) as string[]).some((x) => x === "secrets" || x === "configmaps"));
    }
  });
}

const INVALID: [string, Partial<PrometheusArgs>, string][] = [
  ["namespace", { namespace: "Monitoring" }, 'namespace must be a DNS-1123 label (got "Monitoring")'],
  ["name", { name: "prom_1" }, 'name must be a DNS-1123 label (got "prom_1")'],
  [
    "replicas",
    { settings: { replicas: 0, storageSize: "50Gi", retentionTime: "7d", retentionSize: "40GB" } },
    "monitoring.prometheus.replicas must be an integer >= 1 (got 0)",
  ],
  [
    "storageSize",
    { settings: { replicas: 1, storageSize: "fifty", retentionTime: "7d", retentionSize: "40GB" } },
    'monitoring.prometheus.storageSize must be a Kubernetes quantity (got "fifty")',
  ],
  [
    "retentionSize format",
    { settings: { replicas: 1, storageSize: "50Gi", retentionTime: "7d", retentionSize: "40Gi" } },
    'monitoring.prometheus.retentionSize must be a Prometheus size such as 45GB (got "40Gi")',
  ],
  [
    "retentionSize below the volume",
    { settings: { replicas: 1, storageSize: "50Gi", retentionTime: "7d", retentionSize: "50GB" } },
    "monitoring.prometheus.retentionSize must be below storageSize (got 50GB for a 50Gi volume)",
  ],
  [
    "retentionTime",
    { settings: { replicas: 1, storageSize: "50Gi", retentionTime: "7 days", retentionSize: "40GB" } },
    'monitoring.prometheus.retentionTime must be a Prometheus duration such as 30d (got "7 days")',
  ],
  ["storageClass", { storageClass: " " }, "kubernetes.storageClass must not be empty"],
  ["config", { config: "" }, "config (prometheus.yml) must not be empty"],
  ["ruleFiles", { ruleFiles: {} }, "ruleFiles must hold at least one rule file"],
  [
    "rule file name",
    { ruleFiles: { "../evil.yml": "groups: []" } },
    'rule file name must be a plain .yml file name (got "../evil.yml")',
  ],
];
for (const [rule, overrides, message] of INVALID) {
  test(`Prometheus rejects an invalid ${rule}`, (t) => {
    const error = t.throws(() => resolvePrometheusArgs(args(overrides)));
    t.true(error?.message.startsWith("Prometheus: "), error?.message);
    t.true(error?.message.includes(message), error?.message);
  });
}

test("Prometheus reports every problem at once", (t) => {
  const error = t.throws(() => resolvePrometheusArgs(args({ namespace: "X", storageClass: "", config: "" })));
  t.is(
    error?.message,
    'Prometheus: namespace must be a DNS-1123 label (got "X"); kubernetes.storageClass must not be empty; config (prometheus.yml) must not be empty',
  );
});

test("kube-state-metrics defaults: list/watch only on the exported kinds, the same list as --resources", async (t) => {
  const recorded = await runComponent(() => new KubeStateMetrics("ksm-default", { namespace: "monitoring" }));
  await assertMonitoringInvariants(t, recorded);
  const rules = objectNamed(recorded, "ClusterRole", "kube-state-metrics").inputs.rules as Record<string, any>[];
  t.deepEqual(rules, [
    { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
    {
      apiGroups: [""],
      resources: ["persistentvolumeclaims", "persistentvolumes", "pods", "nodes", "namespaces"],
      verbs: ["list", "watch"],
    },
    {
      apiGroups: ["apps"],
      resources: ["deployments", "statefulsets", "daemonsets", "replicasets"],
      verbs: ["list", "watch"],
    },
  ]);
  const deployment = objectNamed(recorded, "Deployment", "kube-state-metrics");
  const container = containerNamed(deployment, "kube-state-metrics");
  t.is(container.image, images.kubeStateMetrics);
  const resourcesFlag = (container.args as string[]).find((a) => a.startsWith("--resources="));
  t.is(resourcesFlag, `--resources=${rules.flatMap((r) => r.resources).join(",")}`);
  t.deepEqual(
    new Set(resourcesFlag?.slice("--resources=".length).split(",")),
    new Set(KUBE_STATE_METRICS_RESOURCES.map((r) => r.resource)),
  );
  t.deepEqual(container.resources, {
    requests: { cpu: "50m", memory: "128Mi" },
    limits: { cpu: "200m", memory: "256Mi" },
  });
  t.is(container.livenessProbe.httpGet.path, "/healthz");
  t.true(podSpecOf(deployment).automountServiceAccountToken);
  t.is(podSpecOf(deployment).serviceAccountName, "kube-state-metrics");
  t.deepEqual((objectNamed(recorded, "Service", "kube-state-metrics").inputs.spec as Record<string, any>).ports, [
    { name: "http-metrics", port: 8080, targetPort: "http-metrics" },
    { name: "telemetry", port: 8081, targetPort: "telemetry" },
  ]);
});

test("kube-state-metrics custom: compute and name", async (t) => {
  const recorded = await runComponent(
    () =>
      new KubeStateMetrics("ksm-custom", {
        namespace: "observability",
        name: "ksm",
        compute: resources("100m", "256Mi", "500m", "512Mi"),
      }),
  );
  await assertMonitoringInvariants(t, recorded);
  const deployment = objectNamed(recorded, "Deployment", "ksm");
  t.is(deployment.inputs.metadata && (deployment.inputs.metadata as Record<string, string>).namespace, "observability");
  t.deepEqual(containerNamed(deployment, "kube-state-metrics").resources.limits, { cpu: "500m", memory: "512Mi" });
});

test("kube-state-metrics rejects invalid names, all at once", (t) => {
  const error = t.throws(() => resolveKubeStateMetricsArgs({ namespace: "Mon", name: "KSM" }));
  t.is(
    error?.message,
    'KubeStateMetrics: namespace must be a DNS-1123 label (got "Mon"); name must be a DNS-1123 label (got "KSM")',
  );
});
