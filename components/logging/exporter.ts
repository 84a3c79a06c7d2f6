import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  childOptions,
  hardenedContainer,
  images,
  type PodPeer,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import { CREDENTIAL_KEYS, NAMES, PORTS, TLS_KEYS } from "./names";
import { elasticsearchCaVolume, loggingWorkload } from "./workload";

export interface ElasticsearchExporterArgs {
  readonly namespace: string;
  /** https URL of the Elasticsearch client Service. */
  readonly elasticsearchUrl: string;
  /** Requests and limits. Default: 50m/64Mi requested, 200m/128Mi limit. */
  readonly compute?: ComputeResources;
  /** Image. Default: images.elasticsearchExporter. */
  readonly image?: string;
}

export interface ResolvedElasticsearchExporterArgs {
  readonly namespace: string;
  readonly elasticsearchUrl: string;
  readonly compute: ComputeResources;
  readonly image: string;
}

export function resolveElasticsearchExporterArgs(args: ElasticsearchExporterArgs): ResolvedElasticsearchExporterArgs {
  return {
    namespace: args.namespace,
    elasticsearchUrl: args.elasticsearchUrl,
    compute: args.compute ?? resources("50m", "64Mi", "200m", "128Mi"),
    image: args.image ?? images.elasticsearchExporter,
  };
}

/** The Prometheus exporter flags: whole-cluster, index and snapshot statistics (for health and backup alerts). */
export function exporterArgs(r: ResolvedElasticsearchExporterArgs): string[] {
  return [
    `--es.uri=${r.elasticsearchUrl}`,
    "--es.all",
    "--es.indices",
    "--es.snapshots",
    "--es.timeout=30s",
    `--es.ca=/etc/elasticsearch/ca/${TLS_KEYS.ca}`,
    `--web.listen-address=:${PORTS.exporter}`,
  ];
}

/**
 * prometheus-community elasticsearch-exporter, so that monitoring can alert on cluster health, unassigned
 * shards, disk use and snapshot failures. It authenticates as its own monitor-only user (Secret from
 * LoggingCredentials).
 */
export class ElasticsearchExporter extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  public readonly peer: PodPeer;

  constructor(name: string, args: ElasticsearchExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:ElasticsearchExporter", name, {}, opts);
    const child = childOptions(this, opts);
    const r = resolveElasticsearchExporterArgs(args);
    const workload = loggingWorkload(NAMES.exporter, r.namespace, r.image);
    const { labels, selector, meta } = workload;

    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: meta(NAMES.exporter),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "metrics", port: PORTS.exporter, targetPort: "metrics", protocol: "TCP" }],
        },
      },
      child,
    );

    const credential = (envName: string, key: string) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: NAMES.exporterCredentials, key } },
    });
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: meta(NAMES.exporter),
        spec: {
          replicas: 1,
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels,
              // For the annotation-driven kubernetes-pods scrape job of the monitoring component.
              annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(PORTS.exporter) },
            },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurityContext(65534),
              containers: [
                hardenedContainer({
                  name: "exporter",
                  image: r.image,
                  args: exporterArgs(r),
                  compute: r.compute,
                  runAsUser: 65534,
                  ports: [{ name: "metrics", containerPort: PORTS.exporter, protocol: "TCP" }],
                  // The exporter reads these instead of credentials in --es.uri (which would show in `ps`).
                  env: [
                    credential("ES_USERNAME", CREDENTIAL_KEYS.username),
                    credential("ES_PASSWORD", CREDENTIAL_KEYS.password),
                  ],
                  volumeMounts: [{ name: "elasticsearch-ca", mountPath: "/etc/elasticsearch/ca", readOnly: true }],
                  readinessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 10 },
                  livenessProbe: {
                    httpGet: { path: "/healthz", port: "metrics" },
                    initialDelaySeconds: 10,
                    periodSeconds: 30,
                  },
                }),
              ],
              volumes: [elasticsearchCaVolume()],
            },
          },
        },
      },
      child,
    );

    this.endpoint = workload.endpoint(NAMES.exporter, PORTS.exporter, "http");
    this.peer = workload.peer;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
