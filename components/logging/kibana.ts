import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  checksum,
  childOptions,
  hardenedContainer,
  images,
  type PodPeer,
  parseQuantity,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import {
  KIBANA_CONFIG_FILE,
  KIBANA_DATA_DIR,
  KIBANA_ENV,
  KIBANA_ES_CA_DIR,
  KIBANA_TLS_DIR,
  kibanaYml,
} from "./kibana-config";
import { NAMES, PORTS, TLS_SECRETS, USERS } from "./names";
import { elasticsearchCaVolume, loggingWorkload } from "./workload";

export interface KibanaArgs {
  readonly namespace: string;
  /** https URL of the Elasticsearch client Service. */
  readonly elasticsearchUrl: string;
  /** Public host name, for server.publicBaseUrl. */
  readonly publicHost: string;
  /** Replicas. */
  readonly replicas: number;
  /** Requests and limits. Default: 500m/1Gi requested, 1 CPU/2Gi limit. */
  readonly compute?: ComputeResources;
  /** Image. Default: images.kibana. */
  readonly image?: string;
}

export interface ResolvedKibanaArgs {
  readonly namespace: string;
  readonly elasticsearchUrl: string;
  readonly publicHost: string;
  readonly replicas: number;
  readonly compute: ComputeResources;
  readonly image: string;
  /** Node.js heap (MiB): three quarters of the memory limit. */
  readonly heapMiB: number;
}

export function resolveKibanaArgs(args: KibanaArgs): ResolvedKibanaArgs {
  const problems: string[] = [];
  if (!Number.isInteger(args.replicas) || args.replicas < 1) {
    problems.push(`kibana.replicas must be a positive integer (got ${args.replicas})`);
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(args.publicHost)) {
    problems.push(`kibana.host must be a DNS name (got "${args.publicHost}")`);
  }
  const compute = args.compute ?? resources("500m", "1Gi", "1", "2Gi");
  const memoryLimit = parseQuantity(compute.limits.memory);
  if (memoryLimit === undefined || memoryLimit < 2 ** 30) {
    problems.push(`kibana memory limit must be at least 1Gi (got "${compute.limits.memory}")`);
  }
  if (problems.length > 0) throw new Error(`invalid Kibana arguments: ${problems.join("; ")}`);
  return {
    namespace: args.namespace,
    elasticsearchUrl: args.elasticsearchUrl,
    publicHost: args.publicHost,
    replicas: args.replicas,
    compute,
    image: args.image ?? images.kibana,
    heapMiB: Math.floor(((memoryLimit ?? 0) * 0.75) / 2 ** 20),
  };
}

/**
 * Kibana, connected to Elasticsearch as kibana_system (password and encryption keys from the Secret that
 * LoggingCredentials creates), serving TLS behind a ClusterIP Service.
 */
export class Kibana extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  public readonly peer: PodPeer;

  constructor(name: string, args: KibanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:Kibana", name, {}, opts);
    const child = childOptions(this, opts);
    const r = resolveKibanaArgs(args);
    const workload = loggingWorkload(NAMES.kibana, r.namespace, r.image);
    const { labels, selector, meta } = workload;

    const config = kibanaYml({ elasticsearchUrl: r.elasticsearchUrl, publicHost: r.publicHost });
    new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: meta(NAMES.kibanaConfig), data: { "kibana.yml": config } },
      child,
    );

    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(NAMES.kibana),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "https", port: PORTS.kibana, targetPort: "https", protocol: "TCP" }],
        },
      },
      child,
    );

    const envFromSecret = (envName: string) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: NAMES.kibanaCredentials, key: envName } },
    });
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: meta(NAMES.kibana),
        spec: {
          replicas: r.replicas,
          selector: { matchLabels: selector },
          template: {
            metadata: { labels, annotations: { "checksum/config": checksum(config) } },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurityContext(1000),
              affinity: {
                podAntiAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                      weight: 100,
                      podAffinityTerm: {
                        labelSelector: { matchLabels: selector },
                        topologyKey: "kubernetes.io/hostname",
                      },
                    },
                  ],
                },
              },
              containers: [
                hardenedContainer({
                  name: "kibana",
                  image: r.image,
                  compute: r.compute,
                  runAsUser: 1000,
                  ports: [{ name: "https", containerPort: PORTS.kibana, protocol: "TCP" }],
                  env: [
                    ...Object.values(KIBANA_ENV).map(envFromSecret),
                    // Node's heap at 3/4 of the container limit, leaving room for the rest of the process.
                    { name: "NODE_OPTIONS", value: `--max-old-space-size=${r.heapMiB}` },
                  ],
                  volumeMounts: [
                    // subPath: only kibana.yml is replaced; the image's node.options stays. The checksum rolls
                    // the pods on a change, which a subPath mount would not pick up by itself.
                    { name: "config", mountPath: KIBANA_CONFIG_FILE, subPath: "kibana.yml", readOnly: true },
                    { name: "elasticsearch-ca", mountPath: KIBANA_ES_CA_DIR, readOnly: true },
                    { name: "server-tls", mountPath: KIBANA_TLS_DIR, readOnly: true },
                    { name: "data", mountPath: KIBANA_DATA_DIR },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  readinessProbe: {
                    httpGet: { path: "/login", port: "https", scheme: "HTTPS" },
                    initialDelaySeconds: 20,
                    periodSeconds: 10,
                    timeoutSeconds: 5,
                  },
                  livenessProbe: {
                    tcpSocket: { port: "https" },
                    initialDelaySeconds: 120,
                    periodSeconds: 20,
                    failureThreshold: 6,
                  },
                }),
              ],
              volumes: [
                { name: "config", configMap: { name: NAMES.kibanaConfig } },
                elasticsearchCaVolume(),
                { name: "server-tls", secret: { secretName: TLS_SECRETS.kibana, defaultMode: 0o440 } },
                { name: "data", emptyDir: { sizeLimit: "1Gi" } },
                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
              ],
            },
          },
        },
      },
      child,
    );

    this.endpoint = workload.endpoint(NAMES.kibana, PORTS.kibana, "https");
    this.peer = workload.peer;
    this.registerOutputs({ endpoint: this.endpoint, user: USERS.kibanaSystem });
  }
}
