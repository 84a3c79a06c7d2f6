import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { promSizeBytes } from "../../config/formats";
import type { MonitoringConfig } from "../../config/types";
import {
  type ComputeResources,
  checksum,
  dataVolumeClaimTemplate,
  hardenedContainer,
  images,
  type PodPeer,
  parseQuantity,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import {
  checkDnsLabel,
  checkInteger,
  clusterObjectMeta,
  disruptionBudget,
  objectMeta,
  podPeer,
  serviceEndpoint,
  spreadAcrossNodes,
  throwIfProblems,
  type Workload,
  workloadLabels,
  workloadSelector,
} from "./common";
import { reloaderContainer } from "./config-reloader";

/** Where the server reads its files; the rendered prometheus.yml names PROMETHEUS_RULES_DIR in rule_files. */
export const PROMETHEUS_CONFIG_DIR = "/etc/prometheus/config";
export const PROMETHEUS_RULES_DIR = "/etc/prometheus/rules";
export const PROMETHEUS_CONFIG_FILE = "prometheus.yml";
export const PROMETHEUS_PORT = 9090;
/** ConfigMap names: the offline plan writes them to files/<namespace>/<name>/, where promtool checks them. */
export const PROMETHEUS_CONFIGMAP = "prometheus-config";
export const PROMETHEUS_RULES_CONFIGMAP = "prometheus-rules";
/** The official image runs as nobody. */
const PROMETHEUS_UID = 65534;

export interface PrometheusArgs {
  /** Namespace of the server (the platform's `monitoring`). */
  readonly namespace: string;
  /** Replicas, volume size and retention (config.monitoring.prometheus). */
  readonly settings: MonitoringConfig["prometheus"];
  /** StorageClass of the data volumes (config.kubernetes.storageClass). */
  readonly storageClass: string;
  /** The rendered prometheus.yml (renderPrometheusConfig). */
  readonly config: string;
  /** Rule files by file name, e.g. { "zarish-sphere-critical.yml": "groups: ..." } (renderRuleFiles). */
  readonly ruleFiles: Readonly<Record<string, string>>;
  /** Server CPU and memory. Default: requests 500m / 2Gi, limits 2 / 4Gi. */
  readonly compute?: ComputeResources;
  /** Object name of every part. Default: "prometheus". */
  readonly name?: string;
}

export interface ResolvedPrometheusArgs {
  readonly workload: Workload;
  readonly settings: MonitoringConfig["prometheus"];
  readonly storageClass: string;
  readonly config: string;
  readonly ruleFiles: Readonly<Record<string, string>>;
  readonly compute: ComputeResources;
  /** How the rendered config reaches the kubelets (decides nodes/proxy or nodes/metrics). */
  readonly kubeletAccess: KubeletAccess;
}

export const PROMETHEUS_DEFAULT_COMPUTE = resources("500m", "2Gi", "2", "4Gi");

/** How prometheus.yml reaches the kubelets: decides which node subresource the ClusterRole grants. */
export type KubeletAccess = "apiserver-proxy" | "direct" | "none";

/**
 * Reads the kubelet access from the rendered prometheus.yml, so that RBAC follows the configuration instead of a
 * flag kept in step by hand: through the API server proxy (/api/v1/nodes/<node>/proxy/...) needs `nodes/proxy`,
 * which is broad (on many clusters it also reaches the kubelet's exec and log endpoints) and so is granted only
 * then; scraping kubelets directly (`role: node` without the proxy) needs `nodes/metrics`; with no kubelet job, neither.
 */
export function kubeletAccess(prometheusYml: string): KubeletAccess {
  if (/\/api\/v1\/nodes\/[^\s'"]*\/proxy\//.test(prometheusYml)) return "apiserver-proxy";
  if (/role:\s*["']?node["']?\s*$/m.test(prometheusYml)) return "direct";
  return "none";
}

export function resolvePrometheusArgs(args: PrometheusArgs): ResolvedPrometheusArgs {
  const name = args.name ?? "prometheus";
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  checkInteger(problems, "monitoring.prometheus.replicas", args.settings.replicas, 1);
  const volumeBytes = parseQuantity(args.settings.storageSize);
  const retentionBytes = promSizeBytes(args.settings.retentionSize);
  if (volumeBytes === undefined || volumeBytes <= 0) {
    problems.push(
      `monitoring.prometheus.storageSize must be a Kubernetes quantity (got "${args.settings.storageSize}")`,
    );
  }
  if (retentionBytes === undefined) {
    problems.push(
      `monitoring.prometheus.retentionSize must be a Prometheus size such as 45GB (got "${args.settings.retentionSize}")`,
    );
  } else if (volumeBytes !== undefined && retentionBytes >= volumeBytes) {
    // The size-based retention must leave room for the WAL and compaction, or the volume fills before it applies.
    problems.push(
      `monitoring.prometheus.retentionSize must be below storageSize (got ${args.settings.retentionSize} for a ${args.settings.storageSize} volume)`,
    );
  }
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(args.settings.retentionTime)) {
    problems.push(
      `monitoring.prometheus.retentionTime must be a Prometheus duration such as 30d (got "${args.settings.retentionTime}")`,
    );
  }
  if (args.storageClass.trim() === "") problems.push("kubernetes.storageClass must not be empty");
  if (args.config.trim() === "") problems.push("config (prometheus.yml) must not be empty");
  if (Object.keys(args.ruleFiles).length === 0) problems.push("ruleFiles must hold at least one rule file");
  for (const file of Object.keys(args.ruleFiles)) {
    if (!/^[A-Za-z0-9._-]+\.ya?ml$/.test(file))
      problems.push(`rule file name must be a plain .yml file name (got "${file}")`);
  }
  throwIfProblems("Prometheus", problems);
  return {
    workload: { name, namespace: args.namespace, image: images.prometheus },
    settings: args.settings,
    storageClass: args.storageClass,
    config: args.config,
    ruleFiles: args.ruleFiles,
    compute: args.compute ?? PROMETHEUS_DEFAULT_COMPUTE,
    kubeletAccess: kubeletAccess(args.config),
  };
}

/** The read-only API verbs service discovery uses: it lists, then watches. */
const DISCOVERY_VERBS = ["get", "list", "watch"];

/** The ClusterRole rules: exactly what kubernetes_sd_configs (node, service, endpoints, pod roles) reads. */
export function prometheusClusterRoleRules(r: ResolvedPrometheusArgs): k8s.types.input.rbac.v1.PolicyRule[] {
  const kubelet = { "apiserver-proxy": ["nodes/proxy"], direct: ["nodes/metrics"], none: [] }[r.kubeletAccess];
  const core = ["nodes", ...kubelet, "services", "endpoints", "pods"];
  return [
    { apiGroups: [""], resources: core, verbs: DISCOVERY_VERBS },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: DISCOVERY_VERBS },
    // kubernetes-apiservers scrapes the API server's own /metrics, a non-resource URL.
    { nonResourceURLs: ["/metrics"], verbs: ["get"] },
  ];
}

/** The server's command line: config, storage and both retentions; lifecycle API for the reloader. */
export function prometheusArgs(r: ResolvedPrometheusArgs): string[] {
  return [
    `--config.file=${PROMETHEUS_CONFIG_DIR}/${PROMETHEUS_CONFIG_FILE}`,
    "--storage.tsdb.path=/prometheus",
    `--storage.tsdb.retention.time=${r.settings.retentionTime}`,
    `--storage.tsdb.retention.size=${r.settings.retentionSize}`,
    // Enables POST /-/reload, which the config-reloader sidecar calls; nothing else in the pod uses it.
    "--web.enable-lifecycle",
    `--web.listen-address=:${PROMETHEUS_PORT}`,
  ];
}

/**
 * Prometheus: RBAC for service discovery, configuration and rules from ConfigMaps, a StatefulSet with one
 * persistent volume per replica, and a Service. Replicas are independent HA copies that scrape the same targets;
 * Alertmanager deduplicates their alerts.
 */
export class Prometheus extends pulumi.ComponentResource {
  /** Where Grafana and Alertmanager's users reach the server. */
  public readonly endpoint: ServiceEndpoint;
  /** The Prometheus pods, as a NetworkPolicy peer: every scrape target admits them. */
  public readonly scraper: PodPeer;
  public readonly statefulSet: k8s.apps.v1.StatefulSet;

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:Prometheus", name, {}, opts);
    const r = resolvePrometheusArgs(args);
    const w = r.workload;
    const headless = `${w.name}-headless`;

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: objectMeta(w), automountServiceAccountToken: false },
      { parent: this },
    );
    const clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-discovery`,
      { metadata: clusterObjectMeta(w, `${w.name}-discovery`), rules: prometheusClusterRoleRules(r) },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-discovery`,
      {
        metadata: clusterObjectMeta(w, `${w.name}-discovery`),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: w.namespace }],
      },
      { parent: this },
    );

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: objectMeta(w, PROMETHEUS_CONFIGMAP), data: { [PROMETHEUS_CONFIG_FILE]: r.config } },
      { parent: this },
    );
    const rulesMap = new k8s.core.v1.ConfigMap(
      `${name}-rules`,
      { metadata: objectMeta(w, PROMETHEUS_RULES_CONFIGMAP), data: { ...r.ruleFiles } },
      { parent: this },
    );

    new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: objectMeta(w, headless),
        spec: {
          clusterIP: "None",
          selector: workloadSelector(w),
          ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web" }],
        },
      },
      { parent: this },
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(w),
        spec: {
          type: "ClusterIP",
          selector: workloadSelector(w),
          ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web" }],
        },
      },
      { parent: this },
    );

    const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
      httpGet: { path, port: "web" },
      periodSeconds,
      timeoutSeconds: 5,
      failureThreshold,
    });
    disruptionBudget(name, w, r.settings.replicas, { parent: this });
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: objectMeta(w),
        spec: {
          replicas: r.settings.replicas,
          serviceName: headless,
          // Replicas do not depend on each other: start and replace them together.
          podManagementPolicy: "Parallel",
          selector: { matchLabels: workloadSelector(w) },
          template: {
            metadata: {
              labels: workloadLabels(w),
              // Both mechanisms on purpose: the reloader applies a change in place within a minute, and the
              // checksum rolls the pods on `pulumi up`, so a configuration Prometheus rejects on reload (it keeps
              // the old one and the reloader never retries) surfaces as a failed rollout instead of silence.
              annotations: { "checksum/config": checksum(r.config, { ...r.ruleFiles }) },
            },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              // Service discovery and the API server scrape authenticate with this token.
              automountServiceAccountToken: true,
              securityContext: restrictedPodSecurityContext(PROMETHEUS_UID),
              // Time to close the head block and WAL cleanly, so the next start does not replay a torn WAL.
              terminationGracePeriodSeconds: 300,
              affinity: spreadAcrossNodes(w),
              containers: [
                hardenedContainer({
                  name: "prometheus",
                  image: images.prometheus,
                  args: prometheusArgs(r),
                  ports: [{ name: "web", containerPort: PROMETHEUS_PORT }],
                  // WAL replay after a restart can take minutes on a full volume; liveness waits for it.
                  startupProbe: probe("/-/ready", 10, 60),
                  readinessProbe: probe("/-/ready", 10, 3),
                  livenessProbe: probe("/-/healthy", 15, 4),
                  volumeMounts: [
                    { name: "config", mountPath: PROMETHEUS_CONFIG_DIR, readOnly: true },
                    { name: "rules", mountPath: PROMETHEUS_RULES_DIR, readOnly: true },
                    { name: "data", mountPath: "/prometheus" },
                  ],
                  compute: r.compute,
                  runAsUser: PROMETHEUS_UID,
                }),
                reloaderContainer(
                  [
                    { volume: "config", path: PROMETHEUS_CONFIG_DIR },
                    { volume: "rules", path: PROMETHEUS_RULES_DIR },
                  ],
                  `http://127.0.0.1:${PROMETHEUS_PORT}/-/reload`,
                  PROMETHEUS_UID,
                ),
              ],
              // Directory mounts (not subPath) so the kubelet updates the files in place and the reloader sees it.
              volumes: [
                { name: "config", configMap: { name: configMap.metadata.name } },
                { name: "rules", configMap: { name: rulesMap.metadata.name } },
              ],
            },
          },
          volumeClaimTemplates: [dataVolumeClaimTemplate(workloadLabels(w), r.storageClass, r.settings.storageSize)],
          // Keep the volumes when the StatefulSet is deleted or scaled down: metrics history is not disposable.
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        },
      },
      { parent: this },
    );

    this.endpoint = serviceEndpoint(w, PROMETHEUS_PORT);
    this.scraper = podPeer(w);
    this.registerOutputs({ endpoint: this.endpoint, scraper: this.scraper, service: service.metadata.name });
  }
}
