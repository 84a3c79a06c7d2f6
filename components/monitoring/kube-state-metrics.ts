import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type ComputeResources, images, type PodPeer, resources, type ServiceEndpoint } from "../k8s";
import {
  checkDnsLabel,
  clusterObjectMeta,
  objectMeta,
  podPeer,
  serviceEndpoint,
  serviceFor,
  singleContainerDeployment,
  throwIfProblems,
  type Workload,
} from "./common";

export const KUBE_STATE_METRICS_PORT = 8080;
export const KUBE_STATE_METRICS_TELEMETRY_PORT = 8081;
const KSM_UID = 65534;

/**
 * The object kinds kube-state-metrics exports, each with the API group that serves it. `--resources` limits the
 * collectors to this list and the ClusterRole grants list/watch on exactly it: the alerts need CronJob and Job
 * state (backup freshness, failed backup jobs), PVC and PV state (volumes filling, unbound claims), and workload
 * replicas (a monitoring or logging pod not running); namespaces and nodes label the rest.
 */
export const KUBE_STATE_METRICS_RESOURCES: readonly { readonly resource: string; readonly apiGroup: string }[] = [
  { resource: "cronjobs", apiGroup: "batch" },
  { resource: "jobs", apiGroup: "batch" },
  { resource: "persistentvolumeclaims", apiGroup: "" },
  { resource: "persistentvolumes", apiGroup: "" },
  { resource: "pods", apiGroup: "" },
  { resource: "nodes", apiGroup: "" },
  { resource: "namespaces", apiGroup: "" },
  { resource: "deployments", apiGroup: "apps" },
  { resource: "statefulsets", apiGroup: "apps" },
  { resource: "daemonsets", apiGroup: "apps" },
  { resource: "replicasets", apiGroup: "apps" },
];

export interface KubeStateMetricsArgs {
  /** Namespace it runs in (the platform's `monitoring`). */
  readonly namespace: string;
  /** CPU and memory. Default: requests 50m / 128Mi, limits 200m / 256Mi (enough for a cluster of a few hundred pods). */
  readonly compute?: ComputeResources;
  /** Object name. Default: "kube-state-metrics". */
  readonly name?: string;
}

export interface ResolvedKubeStateMetricsArgs {
  readonly workload: Workload;
  readonly compute: ComputeResources;
}

export const KUBE_STATE_METRICS_DEFAULT_COMPUTE = resources("50m", "128Mi", "200m", "256Mi");

export function resolveKubeStateMetricsArgs(args: KubeStateMetricsArgs): ResolvedKubeStateMetricsArgs {
  const name = args.name ?? "kube-state-metrics";
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  throwIfProblems("KubeStateMetrics", problems);
  return {
    workload: { name, namespace: args.namespace, image: images.kubeStateMetrics },
    compute: args.compute ?? KUBE_STATE_METRICS_DEFAULT_COMPUTE,
  };
}

/** list and watch (never get, never a write) on the exported kinds, one rule per API group. */
export function kubeStateMetricsRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  const byGroup = new Map<string, string[]>();
  for (const { resource, apiGroup } of KUBE_STATE_METRICS_RESOURCES) {
    byGroup.set(apiGroup, [...(byGroup.get(apiGroup) ?? []), resource]);
  }
  return [...byGroup].map(([apiGroup, kinds]) => ({
    apiGroups: [apiGroup],
    resources: kinds,
    verbs: ["list", "watch"],
  }));
}

/** kube-state-metrics: the Kubernetes object state (CronJobs, Jobs, PVCs, workloads) as metrics. */
export class KubeStateMetrics extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  public readonly peer: PodPeer;

  constructor(name: string, args: KubeStateMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:KubeStateMetrics", name, {}, opts);
    const r = resolveKubeStateMetricsArgs(args);
    const w = r.workload;

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: objectMeta(w), automountServiceAccountToken: false },
      { parent: this },
    );
    const role = new k8s.rbac.v1.ClusterRole(
      `${name}-reader`,
      { metadata: clusterObjectMeta(w, w.name), rules: kubeStateMetricsRules() },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-reader`,
      {
        metadata: clusterObjectMeta(w, w.name),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: w.namespace }],
      },
      { parent: this },
    );

    singleContainerDeployment(
      name,
      w,
      {
        // It lists and watches the API with this ServiceAccount's token.
        serviceAccountName: serviceAccount.metadata.name,
        container: {
          name: "kube-state-metrics",
          image: images.kubeStateMetrics,
          args: [
            `--port=${KUBE_STATE_METRICS_PORT}`,
            `--telemetry-port=${KUBE_STATE_METRICS_TELEMETRY_PORT}`,
            `--resources=${KUBE_STATE_METRICS_RESOURCES.map((x) => x.resource).join(",")}`,
          ],
          ports: [
            { name: "http-metrics", containerPort: KUBE_STATE_METRICS_PORT },
            { name: "telemetry", containerPort: KUBE_STATE_METRICS_TELEMETRY_PORT },
          ],
          // /healthz and the telemetry root exist in every 2.x release; /livez and /readyz only in recent ones.
          livenessProbe: {
            httpGet: { path: "/healthz", port: "http-metrics" },
            initialDelaySeconds: 5,
            timeoutSeconds: 5,
          },
          readinessProbe: { httpGet: { path: "/", port: "telemetry" }, initialDelaySeconds: 5, timeoutSeconds: 5 },
          compute: r.compute,
          runAsUser: KSM_UID,
        },
      },
      { parent: this },
    );
    serviceFor(
      name,
      w,
      [
        { name: "http-metrics", port: KUBE_STATE_METRICS_PORT },
        { name: "telemetry", port: KUBE_STATE_METRICS_TELEMETRY_PORT },
      ],
      { parent: this },
    );

    this.endpoint = serviceEndpoint(w, KUBE_STATE_METRICS_PORT);
    this.peer = podPeer(w);
    this.registerOutputs({ endpoint: this.endpoint, peer: this.peer });
  }
}
