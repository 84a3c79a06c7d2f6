import type { Environment } from "../../../config/types";
import type { ServiceEndpoint } from "../../k8s/endpoints";
import { JOBS } from "./jobs";
import { toYaml } from "./yaml";

/** The in-cluster credentials Prometheus uses for the API server and the kubelets (its ServiceAccount's). */
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const IN_CLUSTER_AUTH = {
  scheme: "https",
  tls_config: { ca_file: `${SA_DIR}/ca.crt` },
  authorization: { credentials_file: `${SA_DIR}/token` },
};

/** Where the workload mounts the rules ConfigMap; every key of renderRuleFiles() ends in .yml. */
export const DEFAULT_RULE_FILES_GLOB = "/etc/prometheus/rules/*.yml";
/** cert-manager's controller serves Prometheus metrics on this port (its Helm chart's default). */
export const CERT_MANAGER_METRICS_PORT = 9402;
export const DEFAULT_NODE_EXPORTER = {
  podSelector: { "app.kubernetes.io/name": "node-exporter" },
  port: 9100,
} as const;

export interface PrometheusConfigArgs {
  /** external_labels.environment: staging or prod. */
  readonly environment: Environment;
  /** external_labels.cluster: names the Kubernetes cluster, e.g. "zarish-sphere-prod". */
  readonly cluster: string;
  /** Namespace of the seed's `api` and `fhir` Services (config.kubernetes.applicationNamespace). */
  readonly applicationNamespace: string;
  /** Namespace of the node agents (node-exporter runs there). */
  readonly nodeAgentsNamespace: string;
  /** Namespace cert-manager runs in (config.security.certManager.namespace). */
  readonly certManagerNamespace: string;
  /** Services scraped per pod through endpoints discovery. */
  readonly endpoints: {
    readonly alertmanager: ServiceEndpoint;
    readonly postgresExporter: ServiceEndpoint;
    readonly redisExporter: ServiceEndpoint;
    /** Omitted when the stack runs no Elasticsearch: no job, and the Elasticsearch alerts stay silent. */
    readonly elasticsearchExporter?: ServiceEndpoint;
    readonly kubeStateMetrics: ServiceEndpoint;
  };
  /** node-exporter pods, found by label in nodeAgentsNamespace. Default: DEFAULT_NODE_EXPORTER. */
  readonly nodeExporter?: { readonly podSelector?: Readonly<Record<string, string>>; readonly port?: number };
  /** rule_files entry. Default: DEFAULT_RULE_FILES_GLOB. */
  readonly ruleFilesGlob?: string;
  /** Port Prometheus listens on, for its self-scrape. Default: 9090. */
  readonly selfPort?: number;
}

/** Relabelling's `__meta_kubernetes_pod_label_<name>`: every character outside [a-zA-Z0-9_] becomes `_`. */
function podLabelMeta(label: string): string {
  return `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

/** An RE2 pattern matching exactly this string (relabel regexes are anchored). */
function literal(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** namespace, pod and service as target labels, so that alerts and dashboards name the pod that failed. */
const POD_TARGET_LABELS = [
  { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
  { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
];

interface JobOptions {
  readonly metricsPath?: string;
  readonly scrapeInterval?: string;
  /**
   * Attach namespace/pod/service target labels. Off for exporters whose series carry the namespace of the object
   * they describe (kube-state-metrics), where a target `namespace` would rename theirs to exported_namespace.
   */
  readonly targetLabels?: boolean;
  readonly honorLabels?: boolean;
}

/**
 * One Service scraped pod by pod: endpoints discovery in the Service's namespace, kept by Service name and port.
 * The seed's static `host:port` targets go through the Service's virtual IP, so with two or more replicas each
 * scrape lands on a random pod and counters jump between pods' values, which makes rate() meaningless.
 * Endpoint addresses carry the target port: the Service is expected to use the same number for port and
 * targetPort, as every Service of this platform does.
 */
function serviceJob(job: string, e: ServiceEndpoint, o: JobOptions = {}): Record<string, unknown> {
  return {
    job_name: job,
    ...(o.scrapeInterval === undefined ? {} : { scrape_interval: o.scrapeInterval }),
    ...(o.honorLabels === true ? { honor_labels: true } : {}),
    metrics_path: o.metricsPath ?? "/metrics",
    scheme: e.scheme === "https" ? "https" : "http",
    kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [e.namespace] } }],
    relabel_configs: [
      { source_labels: ["__meta_kubernetes_service_name"], action: "keep", regex: literal(e.service) },
      { source_labels: ["__address__"], action: "keep", regex: `.+:${e.port}` },
      ...(o.targetLabels === false
        ? []
        : [...POD_TARGET_LABELS, { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" }]),
    ],
  };
}

/** The seed's annotation-driven job, completed: it only kept annotated pods and then scraped the wrong port. */
function annotatedPodsJob(): Record<string, unknown> {
  const annotation = (name: string) => `__meta_kubernetes_pod_annotation_prometheus_io_${name}`;
  return {
    job_name: JOBS.kubernetesPods,
    kubernetes_sd_configs: [{ role: "pod" }],
    relabel_configs: [
      // The seed's `regex: true` is a YAML boolean; Prometheus wants the string "true".
      { source_labels: [annotation("scrape")], action: "keep", regex: "true" },
      // Completed and failed pods keep their IP for a while; scraping them only produces `up == 0`.
      { source_labels: ["__meta_kubernetes_pod_phase"], action: "drop", regex: "Pending|Succeeded|Failed|Completed" },
      { source_labels: [annotation("scheme")], action: "replace", regex: "(https?)", target_label: "__scheme__" },
      { source_labels: [annotation("path")], action: "replace", regex: "(.+)", target_label: "__metrics_path__" },
      // prometheus.io/port replaces the port of the discovered address (IPv6 needs brackets, IPv4 does not).
      {
        source_labels: [annotation("port"), "__meta_kubernetes_pod_ip"],
        action: "replace",
        regex: "(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})",
        replacement: "[$2]:$1",
        target_label: "__address__",
      },
      {
        source_labels: [annotation("port"), "__meta_kubernetes_pod_ip"],
        action: "replace",
        regex: "(\\d+);((([0-9]+?)(\\.|$)){4})",
        replacement: "$2:$1",
        target_label: "__address__",
      },
      ...POD_TARGET_LABELS,
      { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], target_label: "app" },
    ],
  };
}

/** Kubelet endpoints through the API server proxy: Prometheus needs no network path to the nodes themselves. */
function kubeletJob(job: string, pathSuffix: string): Record<string, unknown> {
  return {
    job_name: job,
    ...IN_CLUSTER_AUTH,
    kubernetes_sd_configs: [{ role: "node" }],
    relabel_configs: [
      // The seed's labelmap: node labels (zone, instance type) become target labels.
      { action: "labelmap", regex: "__meta_kubernetes_node_label_(.+)" },
      { source_labels: ["__meta_kubernetes_node_name"], target_label: "instance" },
      { target_label: "__address__", replacement: "kubernetes.default.svc:443" },
      {
        source_labels: ["__meta_kubernetes_node_name"],
        regex: "(.+)",
        target_label: "__metrics_path__",
        replacement: `/api/v1/nodes/$1/proxy/metrics${pathSuffix}`,
      },
    ],
  };
}

export function renderPrometheusConfig(args: PrometheusConfigArgs): string {
  const problems: string[] = [];
  const nodeSelector = args.nodeExporter?.podSelector ?? DEFAULT_NODE_EXPORTER.podSelector;
  const nodePort = args.nodeExporter?.port ?? DEFAULT_NODE_EXPORTER.port;
  const selfPort = args.selfPort ?? 9090;
  if (Object.keys(nodeSelector).length === 0) problems.push("nodeExporter.podSelector must not be empty");
  for (const [what, ns] of Object.entries({
    applicationNamespace: args.applicationNamespace,
    nodeAgentsNamespace: args.nodeAgentsNamespace,
    certManagerNamespace: args.certManagerNamespace,
  })) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns))
      problems.push(`${what} must be a DNS-1123 label (got "${ns}")`);
  }
  if (args.cluster.trim() === "") problems.push("cluster must not be empty");
  if (problems.length > 0) throw new Error(`prometheus.yml: ${problems.join("; ")}`);

  const e = args.endpoints;
  // The seed's application targets were bare `api:3000` and `fhir:8080`, names that resolve only inside
  // Prometheus's own namespace; they live in the application namespace, scraped per pod (serviceJob).
  const app = (service: string, port: number): ServiceEndpoint => ({
    namespace: args.applicationNamespace,
    service,
    port,
    scheme: "http",
    podSelector: {},
  });
  const scrapeConfigs = [
    serviceJob(JOBS.api, app("api", 3000), { scrapeInterval: "5s", metricsPath: "/metrics" }),
    serviceJob(JOBS.fhir, app("fhir", 8080), { scrapeInterval: "5s", metricsPath: "/fhir/metrics" }),
    serviceJob(JOBS.postgresExporter, e.postgresExporter),
    serviceJob(JOBS.redisExporter, e.redisExporter),
    ...(e.elasticsearchExporter === undefined ? [] : [serviceJob(JOBS.elasticsearchExporter, e.elasticsearchExporter)]),
    // kube-state-metrics describes other objects: their namespace label must survive as `namespace`.
    serviceJob(JOBS.kubeStateMetrics, e.kubeStateMetrics, { targetLabels: false, honorLabels: true }),
    serviceJob(JOBS.alertmanager, e.alertmanager),
    { job_name: JOBS.prometheus, static_configs: [{ targets: [`localhost:${selfPort}`] }] },
    annotatedPodsJob(),
    {
      // The seed's job, limited to the `default` namespace where the `kubernetes` Service lives.
      job_name: JOBS.kubernetesApiservers,
      ...IN_CLUSTER_AUTH,
      kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: ["default"] } }],
      relabel_configs: [
        {
          source_labels: [
            "__meta_kubernetes_namespace",
            "__meta_kubernetes_service_name",
            "__meta_kubernetes_endpoint_port_name",
          ],
          action: "keep",
          regex: "default;kubernetes;https",
        },
      ],
    },
    kubeletJob(JOBS.kubernetesNodes, ""),
    // Container CPU and memory per pod, for the platform dashboard.
    kubeletJob(JOBS.kubernetesCadvisor, "/cadvisor"),
    {
      // node-exporter pods by label (it may run without a Service); `instance` is the node name, the name an
      // on-call engineer types into kubectl.
      job_name: JOBS.nodeExporter,
      kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [args.nodeAgentsNamespace] } }],
      relabel_configs: [
        ...Object.entries(nodeSelector).map(([label, value]) => ({
          source_labels: [podLabelMeta(label)],
          action: "keep",
          regex: literal(value),
        })),
        { source_labels: ["__meta_kubernetes_pod_container_port_number"], action: "keep", regex: String(nodePort) },
        { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "instance" },
        { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
      ],
    },
    {
      // cert-manager's controller pods by port: the Service name depends on how cert-manager was installed.
      // No namespace target label: its series carry the namespace of each Certificate.
      job_name: JOBS.certManager,
      kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [args.certManagerNamespace] } }],
      relabel_configs: [
        {
          source_labels: ["__meta_kubernetes_pod_container_port_number"],
          action: "keep",
          regex: String(CERT_MANAGER_METRICS_PORT),
        },
        { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      ],
    },
  ];

  return toYaml(
    {
      global: {
        scrape_interval: "15s",
        evaluation_interval: "15s",
        external_labels: { environment: args.environment, cluster: args.cluster },
      },
      rule_files: [args.ruleFilesGlob ?? DEFAULT_RULE_FILES_GLOB],
      alerting: {
        // Every Alertmanager replica receives every alert (they deduplicate among themselves); sending through
        // the Service would reach one replica at random.
        alertmanagers: [
          {
            api_version: "v2",
            scheme: e.alertmanager.scheme === "https" ? "https" : "http",
            kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: [e.alertmanager.namespace] } }],
            relabel_configs: [
              {
                source_labels: ["__meta_kubernetes_service_name"],
                action: "keep",
                regex: literal(e.alertmanager.service),
              },
              { source_labels: ["__address__"], action: "keep", regex: `.+:${e.alertmanager.port}` },
            ],
          },
        ],
      },
      scrape_configs: scrapeConfigs,
    },
    "components/monitoring/config/prometheus.ts",
  );
}
