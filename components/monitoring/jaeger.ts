import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../../config/types";
import {
  type ComputeResources,
  hardenedContainer,
  images,
  type PodPeer,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import {
  checkDnsLabel,
  checkInteger,
  type ElasticsearchClientAccess,
  objectMeta,
  podPeer,
  serviceEndpoint,
  spreadAcrossNodes,
  throwIfProblems,
  type Workload,
  workloadLabels,
  workloadSelector,
} from "./common";
import {
  caVolume,
  ES_CA_DIR,
  elasticsearchEnv,
  indexCleanerSpec,
  indexSettings,
  JAEGER_UID,
} from "./jaeger-elasticsearch";

export const JAEGER_OTLP_GRPC_PORT = 4317;
export const JAEGER_OTLP_HTTP_PORT = 4318;
export const JAEGER_QUERY_PORT = 16686;
/** Admin ports: health checks and the process's own metrics. */
const COLLECTOR_ADMIN_PORT = 14269;
const QUERY_ADMIN_PORT = 16687;

/** How Jaeger reaches Elasticsearch (from the logging component); the Secrets live in Jaeger's namespace. */
export type JaegerElasticsearchAccess = ElasticsearchClientAccess;

export interface JaegerArgs {
  /** Namespace (the platform's `monitoring`). */
  readonly namespace: string;
  /** Mode and trace retention (config.monitoring.jaeger). */
  readonly settings: MonitoringConfig["jaeger"];
  /** Span storage for mode "production"; required there, ignored for "all-in-one". */
  readonly elasticsearch?: JaegerElasticsearchAccess;
  /** all-in-one: traces kept in memory before the oldest are evicted. Default: 25000 (fits the 1Gi limit). */
  readonly maxTraces?: number;
  /** production: collector replicas. Default: 2. */
  readonly collectorReplicas?: number;
  /** production: when the index cleaner runs (UTC cron). Default: "55 23 * * *", before the daily index rolls. */
  readonly indexCleanerSchedule?: string;
  /** Default: requests 200m / 512Mi, limits 1 / 1Gi. */
  readonly allInOneCompute?: ComputeResources;
  /** Default: requests 200m / 256Mi, limits 1 / 512Mi. */
  readonly collectorCompute?: ComputeResources;
  /** Default: requests 100m / 128Mi, limits 500m / 256Mi. */
  readonly queryCompute?: ComputeResources;
  /** Default: requests 50m / 64Mi, limits 200m / 128Mi. */
  readonly indexCleanerCompute?: ComputeResources;
  /** Prefix of every object name. Default: "jaeger". */
  readonly name?: string;
  /** Resources the pods wait for, e.g. the logging component's `ready` (Elasticsearch users and CA exist). Default: none. */
  readonly waitFor?: readonly pulumi.Resource[];
}

export interface ResolvedJaegerArgs {
  readonly mode: MonitoringConfig["jaeger"]["mode"];
  readonly retentionDays: number;
  readonly elasticsearch: JaegerElasticsearchAccess | undefined;
  readonly maxTraces: number;
  readonly collectorReplicas: number;
  readonly indexCleanerSchedule: string;
  readonly compute: {
    readonly allInOne: ComputeResources;
    readonly collector: ComputeResources;
    readonly query: ComputeResources;
    readonly indexCleaner: ComputeResources;
  };
  readonly allInOne: Workload;
  readonly collector: Workload;
  readonly query: Workload;
  readonly indexCleaner: Workload;
  readonly waitFor: readonly pulumi.Resource[];
}

export const JAEGER_DEFAULTS = {
  maxTraces: 25_000,
  collectorReplicas: 2,
  indexCleanerSchedule: "55 23 * * *",
  allInOneCompute: resources("200m", "512Mi", "1", "1Gi"),
  collectorCompute: resources("200m", "256Mi", "1", "512Mi"),
  queryCompute: resources("100m", "128Mi", "500m", "256Mi"),
  indexCleanerCompute: resources("50m", "64Mi", "200m", "128Mi"),
} as const;

export function resolveJaegerArgs(args: JaegerArgs): ResolvedJaegerArgs {
  const name = args.name ?? "jaeger";
  const mode = args.settings.mode;
  const maxTraces = args.maxTraces ?? JAEGER_DEFAULTS.maxTraces;
  const collectorReplicas = args.collectorReplicas ?? JAEGER_DEFAULTS.collectorReplicas;
  const indexCleanerSchedule = args.indexCleanerSchedule ?? JAEGER_DEFAULTS.indexCleanerSchedule;
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  if (mode !== "all-in-one" && mode !== "production") {
    problems.push(`monitoring.jaeger.mode must be "all-in-one" or "production" (got "${mode}")`);
  }
  checkInteger(problems, "monitoring.jaeger.retentionDays", args.settings.retentionDays, 1);
  checkInteger(problems, "maxTraces", maxTraces, 1);
  checkInteger(problems, "collectorReplicas", collectorReplicas, 1);
  if (!/^(\S+\s+){4}\S+$/.test(indexCleanerSchedule)) {
    problems.push(`indexCleanerSchedule must be a five-field cron schedule (got "${indexCleanerSchedule}")`);
  }
  if (mode === "production" && args.elasticsearch === undefined) {
    problems.push('monitoring.jaeger.mode "production" stores spans in Elasticsearch, but no elasticsearch was given');
  }
  if (mode === "production" && args.elasticsearch !== undefined && args.elasticsearch.endpoint.scheme !== "https") {
    // Spans carry request attributes (patient-facing URLs, user ids): never send them to Elasticsearch in clear text.
    problems.push(`the Elasticsearch endpoint for Jaeger must use https (got ${args.elasticsearch.endpoint.scheme})`);
  }
  throwIfProblems("Jaeger", problems);
  const part = (suffix: string, image: string): Workload => ({
    name: `${name}-${suffix}`,
    namespace: args.namespace,
    image,
  });
  return {
    mode,
    retentionDays: args.settings.retentionDays,
    elasticsearch: mode === "production" ? args.elasticsearch : undefined,
    maxTraces,
    collectorReplicas,
    indexCleanerSchedule,
    compute: {
      allInOne: args.allInOneCompute ?? JAEGER_DEFAULTS.allInOneCompute,
      collector: args.collectorCompute ?? JAEGER_DEFAULTS.collectorCompute,
      query: args.queryCompute ?? JAEGER_DEFAULTS.queryCompute,
      indexCleaner: args.indexCleanerCompute ?? JAEGER_DEFAULTS.indexCleanerCompute,
    },
    allInOne: part("all-in-one", images.jaegerAllInOne),
    collector: part("collector", images.jaegerCollector),
    query: part("query", images.jaegerQuery),
    indexCleaner: part("index-cleaner", images.jaegerIndexCleaner),
    waitFor: args.waitFor ?? [],
  };
}

/**
 * Jaeger. Staging: one all-in-one pod keeping at most `maxTraces` traces in memory (a restart loses them, which
 * staging accepts). Prod: stateless collectors and a query service over daily indices in the logging component's
 * Elasticsearch, which the platform already runs, backs up and secures, and an index cleaner that deletes indices
 * older than config.monitoring.jaeger.retentionDays. The Services have the same names in both modes.
 */
export class Jaeger extends pulumi.ComponentResource {
  /** OTLP gRPC (4317); OTLP HTTP is on 4318 of the same Service. */
  public readonly collector: ServiceEndpoint;
  /** The UI and API Grafana's Jaeger data source uses. */
  public readonly query: ServiceEndpoint;
  /** Pods that talk to Elasticsearch (collector and query, or none in all-in-one mode), for NetworkPolicies. */
  public readonly elasticsearchClients: PodPeer[];
  /** Pods that receive spans (the applications' egress target). */
  public readonly collectorPeer: PodPeer;
  public readonly queryPeer: PodPeer;
  private readonly waitFor: readonly pulumi.Resource[];

  constructor(name: string, args: JaegerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:Jaeger", name, {}, opts);
    const r = resolveJaegerArgs(args);
    this.waitFor = r.waitFor;
    const production = r.mode === "production";
    const collectorPods = production ? r.collector : r.allInOne;
    const queryPods = production ? r.query : r.allInOne;

    if (production && r.elasticsearch !== undefined) {
      const es = r.elasticsearch;
      this.deployment(name, r.collector, r.collectorReplicas, {
        name: "collector",
        image: images.jaegerCollector,
        env: [{ name: "SPAN_STORAGE_TYPE", value: "elasticsearch" }, ...elasticsearchEnv(es), ...indexSettings()],
        ports: otlpPorts(COLLECTOR_ADMIN_PORT),
        compute: r.compute.collector,
        es,
      });
      this.deployment(name, r.query, 1, {
        name: "query",
        image: images.jaegerQuery,
        env: [{ name: "SPAN_STORAGE_TYPE", value: "elasticsearch" }, ...elasticsearchEnv(es)],
        ports: [
          { name: "query", containerPort: JAEGER_QUERY_PORT },
          { name: "admin", containerPort: QUERY_ADMIN_PORT },
        ],
        compute: r.compute.query,
        es,
      });
      this.indexCleaner(name, r, es);
    } else {
      this.deployment(name, r.allInOne, 1, {
        name: "all-in-one",
        image: images.jaegerAllInOne,
        // Memory storage is unbounded by default: cap it so the pod evicts old traces instead of being OOM-killed.
        args: [`--memory.max-traces=${r.maxTraces}`],
        env: [{ name: "SPAN_STORAGE_TYPE", value: "memory" }],
        ports: [...otlpPorts(COLLECTOR_ADMIN_PORT), { name: "query", containerPort: JAEGER_QUERY_PORT }],
        compute: r.compute.allInOne,
        es: undefined,
      });
    }

    const service = (part: string, w: Workload, pods: Workload, ports: k8s.types.input.core.v1.ServicePort[]) =>
      new k8s.core.v1.Service(
        `${name}-${part}-service`,
        { metadata: objectMeta(w), spec: { selector: workloadSelector(pods), ports } },
        { parent: this },
      );
    service("collector", r.collector, collectorPods, [
      { name: "otlp-grpc", port: JAEGER_OTLP_GRPC_PORT, targetPort: "otlp-grpc" },
      { name: "otlp-http", port: JAEGER_OTLP_HTTP_PORT, targetPort: "otlp-http" },
    ]);
    service("query", r.query, queryPods, [{ name: "query", port: JAEGER_QUERY_PORT, targetPort: "query" }]);

    this.collector = { ...serviceEndpoint(collectorPods, JAEGER_OTLP_GRPC_PORT, "tcp"), service: r.collector.name };
    this.query = { ...serviceEndpoint(queryPods, JAEGER_QUERY_PORT, "http"), service: r.query.name };
    this.collectorPeer = podPeer(collectorPods);
    this.queryPeer = podPeer(queryPods);
    this.elasticsearchClients = production ? [podPeer(r.collector), podPeer(r.query), podPeer(r.indexCleaner)] : [];
    this.registerOutputs({
      collector: this.collector,
      query: this.query,
      elasticsearchClients: this.elasticsearchClients,
    });
  }

  private deployment(
    name: string,
    w: Workload,
    replicas: number,
    c: {
      name: string;
      image: string;
      args?: string[];
      env: k8s.types.input.core.v1.EnvVar[];
      ports: k8s.types.input.core.v1.ContainerPort[];
      compute: ComputeResources;
      es: JaegerElasticsearchAccess | undefined;
    },
  ): k8s.apps.v1.Deployment {
    const adminPort = c.ports.find((p) => p.name === "admin")?.containerPort ?? COLLECTOR_ADMIN_PORT;
    const probe = { httpGet: { path: "/", port: adminPort }, periodSeconds: 10, timeoutSeconds: 5 };
    return new k8s.apps.v1.Deployment(
      `${name}-${c.name}`,
      {
        metadata: objectMeta(w),
        spec: {
          replicas,
          selector: { matchLabels: workloadSelector(w) },
          template: {
            metadata: { labels: workloadLabels(w) },
            spec: {
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(JAEGER_UID),
              ...(replicas > 1 ? { affinity: spreadAcrossNodes(w) } : {}),
              containers: [
                hardenedContainer({
                  name: c.name,
                  image: c.image,
                  ...(c.args === undefined ? {} : { args: c.args }),
                  env: c.env,
                  ports: c.ports,
                  readinessProbe: probe,
                  livenessProbe: { ...probe, initialDelaySeconds: 10, failureThreshold: 6 },
                  volumeMounts: [
                    { name: "tmp", mountPath: "/tmp" },
                    ...(c.es === undefined ? [] : [{ name: "elasticsearch-ca", mountPath: ES_CA_DIR, readOnly: true }]),
                  ],
                  compute: c.compute,
                  runAsUser: JAEGER_UID,
                }),
              ],
              volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }, ...caVolume(c.es)],
            },
          },
        },
      },
      { parent: this, dependsOn: [...this.waitFor] },
    );
  }

  /** Deletes span and service indices older than the retention, once a day. */
  private indexCleaner(name: string, r: ResolvedJaegerArgs, es: JaegerElasticsearchAccess): k8s.batch.v1.CronJob {
    return new k8s.batch.v1.CronJob(
      `${name}-index-cleaner`,
      {
        metadata: objectMeta(r.indexCleaner),
        spec: indexCleanerSpec({
          workload: r.indexCleaner,
          schedule: r.indexCleanerSchedule,
          retentionDays: r.retentionDays,
          compute: r.compute.indexCleaner,
          es,
        }),
      },
      { parent: this, dependsOn: [...this.waitFor] },
    );
  }
}

function otlpPorts(adminPort: number): k8s.types.input.core.v1.ContainerPort[] {
  return [
    { name: "otlp-grpc", containerPort: JAEGER_OTLP_GRPC_PORT },
    { name: "otlp-http", containerPort: JAEGER_OTLP_HTTP_PORT },
    { name: "admin", containerPort: adminPort },
  ];
}
