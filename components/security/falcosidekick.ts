import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  endpointUrl,
  hardenedContainer,
  images,
  imageVersion,
  type PodPeer,
  recommendedLabels,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
  selectorLabels,
} from "../k8s";
import { FALCO_PRIORITIES, type FalcoPriority } from "./falco-rules";

/**
 * falcosidekick receives Falco's events over HTTP and forwards them to Alertmanager, so a Falco detection pages
 * through the same routes, silences and inhibitions as every other alert. It needs no host access: it runs in the
 * restricted `security` namespace, not next to Falco in `node-agents`.
 */

export const FALCOSIDEKICK_PORT = 2801;
/** The image runs as this user (falcosidekick's Dockerfile). */
const FALCOSIDEKICK_UID = 1234;
export const SECURITY_COMPONENT = "security";

/** Severity label values the platform's Alertmanager routes on (components/monitoring). */
export type AlertSeverity = "critical" | "warning" | "info";

/**
 * Falco priority to Alertmanager severity. ERROR and above page: the platform's ERROR rules (API probing from a
 * container, credential reads) are incidents on a system holding patient records. WARNING notifies.
 */
export const FALCO_SEVERITY_MAP: Readonly<Record<FalcoPriority, AlertSeverity>> = {
  EMERGENCY: "critical",
  ALERT: "critical",
  CRITICAL: "critical",
  ERROR: "critical",
  WARNING: "warning",
  NOTICE: "info",
  INFORMATIONAL: "info",
  DEBUG: "info",
};

export interface FalcosidekickArgs {
  /** Namespace (the platform's `security`). */
  readonly namespace: string;
  /** Alertmanager's endpoint (from the monitoring component). */
  readonly alertmanager: ServiceEndpoint;
  /** Lowest Falco priority forwarded to Alertmanager. Default: "WARNING" (NOTICE and below stay in the logs). */
  readonly minimumPriority?: FalcoPriority;
  /** Replicas; two keep events flowing through a node drain. Default: 2. */
  readonly replicas?: number;
  /** CPU and memory. Default: requests 20m / 64Mi, limits 200m / 128Mi. */
  readonly compute?: ComputeResources;
}

export interface ResolvedFalcosidekickArgs {
  readonly name: string;
  readonly namespace: string;
  readonly alertmanager: ServiceEndpoint;
  readonly minimumPriority: FalcoPriority;
  readonly replicas: number;
  readonly compute: ComputeResources;
}

export const FALCOSIDEKICK_DEFAULT_COMPUTE = resources("20m", "64Mi", "200m", "128Mi");

export function resolveFalcosidekickArgs(args: FalcosidekickArgs): ResolvedFalcosidekickArgs {
  const resolved: ResolvedFalcosidekickArgs = {
    name: "falcosidekick",
    namespace: args.namespace,
    alertmanager: args.alertmanager,
    minimumPriority: args.minimumPriority ?? "WARNING",
    replicas: args.replicas ?? 2,
    compute: args.compute ?? FALCOSIDEKICK_DEFAULT_COMPUTE,
  };
  const problems: string[] = [];
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(resolved.namespace)) {
    problems.push(`namespace must be a DNS-1123 label (got "${resolved.namespace}")`);
  }
  if (!FALCO_PRIORITIES.includes(resolved.minimumPriority)) {
    problems.push(`minimumPriority must be one of ${FALCO_PRIORITIES.join(" ")} (got "${resolved.minimumPriority}")`);
  }
  if (!Number.isInteger(resolved.replicas) || resolved.replicas < 1) {
    problems.push(`replicas must be an integer >= 1 (got ${resolved.replicas})`);
  }
  if (resolved.alertmanager.scheme === "tcp") problems.push("alertmanager must be an http or https endpoint (got tcp)");
  if (problems.length > 0) throw new Error(`Falcosidekick: ${problems.join("; ")}`);
  return resolved;
}

/** falcosidekick's configuration, as the environment variables it reads (docs/outputs/alertmanager.md). */
export function falcosidekickEnv(r: ResolvedFalcosidekickArgs): Record<string, string> {
  return {
    LISTENPORT: String(FALCOSIDEKICK_PORT),
    ALERTMANAGER_HOSTPORT: endpointUrl(r.alertmanager),
    // Alertmanager 0.27 serves only API v2; falcosidekick still defaults to /api/v1/alerts.
    ALERTMANAGER_ENDPOINT: "/api/v2/alerts",
    ALERTMANAGER_MINIMUMPRIORITY: r.minimumPriority.toLowerCase(),
    ALERTMANAGER_CUSTOMSEVERITYMAP: FALCO_PRIORITIES.map((p) => `${p.toLowerCase()}:${FALCO_SEVERITY_MAP[p]}`).join(
      ",",
    ),
    ALERTMANAGER_EXTRALABELS: "source:falco",
  };
}

export class Falcosidekick extends pulumi.ComponentResource {
  public readonly deployment: k8s.apps.v1.Deployment;
  public readonly service: k8s.core.v1.Service;
  /** Where Falco posts events (and Prometheus scrapes /metrics). */
  public readonly endpoint: ServiceEndpoint;
  /** Its pods, as the source of the flow to Alertmanager. */
  public readonly peer: PodPeer;

  constructor(name: string, args: FalcosidekickArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:security:Falcosidekick", name, {}, opts);
    const r = resolveFalcosidekickArgs(args);
    const image = images.falcosidekick;
    const labels = recommendedLabels({ name: r.name, component: SECURITY_COMPONENT, version: imageVersion(image) });
    const selector = selectorLabels({ name: r.name });
    const metadata = { name: r.name, namespace: r.namespace, labels };
    this.peer = { namespace: r.namespace, podSelector: selector };
    this.endpoint = {
      namespace: r.namespace,
      service: r.name,
      port: FALCOSIDEKICK_PORT,
      scheme: "http",
      podSelector: selector,
    };

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      // It talks to no Kubernetes API: no token in the pod.
      { metadata, automountServiceAccountToken: false },
      { parent: this },
    );
    const probe = { httpGet: { path: "/healthz", port: FALCOSIDEKICK_PORT }, periodSeconds: 10, timeoutSeconds: 3 };
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata,
        spec: {
          replicas: r.replicas,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(FALCOSIDEKICK_UID),
              affinity: {
                podAntiAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                      weight: 100,
                      podAffinityTerm: {
                        topologyKey: "kubernetes.io/hostname",
                        labelSelector: { matchLabels: selector },
                      },
                    },
                  ],
                },
              },
              containers: [
                hardenedContainer({
                  name: "falcosidekick",
                  image,
                  runAsUser: FALCOSIDEKICK_UID,
                  compute: r.compute,
                  ports: [{ name: "http", containerPort: FALCOSIDEKICK_PORT, protocol: "TCP" }],
                  env: Object.entries(falcosidekickEnv(r)).map(([envName, value]) => ({ name: envName, value })),
                  readinessProbe: probe,
                  livenessProbe: { ...probe, failureThreshold: 6 },
                  volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                }),
              ],
              volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
            },
          },
        },
      },
      { parent: this },
    );
    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata,
        spec: {
          selector,
          ports: [{ name: "http", port: FALCOSIDEKICK_PORT, targetPort: FALCOSIDEKICK_PORT, protocol: "TCP" }],
        },
      },
      { parent: this },
    );
    if (r.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        { metadata, spec: { minAvailable: 1, selector: { matchLabels: selector } } },
        { parent: this },
      );
    }
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
