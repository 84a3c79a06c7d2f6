import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../../config/types";
import { type ComputeResources, images, type PodPeer, resources, type ServiceEndpoint } from "../k8s";
import {
  checkDnsLabel,
  envFromSecret,
  objectMeta,
  podPeer,
  serviceEndpoint,
  serviceFor,
  singleContainerDeployment,
  throwIfProblems,
  type Workload,
} from "./common";

/** The seed's scrape target is `redis-exporter:9121`: this Service name and port, in Prometheus' namespace. */
export const REDIS_EXPORTER_PORT = 9121;
/** The oliver006/redis_exporter image runs as this user. */
const REDIS_EXPORTER_UID = 59000;

export interface RedisExporterArgs {
  /** Namespace (the platform's `monitoring`, next to Prometheus). */
  readonly namespace: string;
  /** Redis address, redis:// or rediss:// (config.monitoring.exporters.redisAddress). */
  readonly exporters: Pick<MonitoringConfig["exporters"], "redisAddress">;
  /** Redis password (config.monitoring.secrets.redisPassword), a secret Output. */
  readonly password: pulumi.Output<string>;
  /** CPU and memory. Default: requests 25m / 32Mi, limits 100m / 64Mi. */
  readonly compute?: ComputeResources;
  /** Object name. Default: "redis-exporter". */
  readonly name?: string;
}

export interface ResolvedRedisExporterArgs {
  readonly workload: Workload;
  readonly address: string;
  readonly compute: ComputeResources;
}

export const REDIS_EXPORTER_DEFAULT_COMPUTE = resources("25m", "32Mi", "100m", "64Mi");

export function resolveRedisExporterArgs(args: RedisExporterArgs): ResolvedRedisExporterArgs {
  const name = args.name ?? "redis-exporter";
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  if (!/^rediss?:\/\/[a-z0-9.-]+:\d{1,5}$/.test(args.exporters.redisAddress)) {
    problems.push(
      `monitoring.exporters.redisAddress must be redis://host:port or rediss://host:port (got "${args.exporters.redisAddress}")`,
    );
  }
  throwIfProblems("RedisExporter", problems);
  return {
    workload: { name, namespace: args.namespace, image: images.redisExporter },
    address: args.exporters.redisAddress,
    compute: args.compute ?? REDIS_EXPORTER_DEFAULT_COMPUTE,
  };
}

/** redis_exporter for the seed's `redis-exporter` scrape job; address and password from a Secret. */
export class RedisExporter extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  /** The exporter pods: Redis' NetworkPolicy admits them. */
  public readonly peer: PodPeer;

  constructor(name: string, args: RedisExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:RedisExporter", name, {}, opts);
    const r = resolveRedisExporterArgs(args);
    const w = r.workload;

    const secret = new k8s.core.v1.Secret(
      `${name}-connection`,
      {
        metadata: objectMeta(w, `${w.name}-connection`),
        type: "Opaque",
        stringData: pulumi.secret({ REDIS_ADDR: r.address, REDIS_PASSWORD: args.password }),
      },
      { parent: this },
    );
    const fromSecret = (key: string) => envFromSecret(key, { name: secret.metadata.name, key });

    singleContainerDeployment(
      name,
      w,
      {
        container: {
          name: "redis-exporter",
          image: images.redisExporter,
          env: [
            fromSecret("REDIS_ADDR"),
            fromSecret("REDIS_PASSWORD"),
            { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: `:${REDIS_EXPORTER_PORT}` },
            { name: "REDIS_EXPORTER_LOG_FORMAT", value: "json" },
          ],
          ports: [{ name: "metrics", containerPort: REDIS_EXPORTER_PORT }],
          // /health answers without touching Redis; /metrics would query it on every probe.
          readinessProbe: { httpGet: { path: "/health", port: "metrics" }, periodSeconds: 10 },
          livenessProbe: { httpGet: { path: "/health", port: "metrics" }, periodSeconds: 20, failureThreshold: 3 },
          compute: r.compute,
          runAsUser: REDIS_EXPORTER_UID,
        },
      },
      { parent: this },
    );
    serviceFor(name, w, [{ name: "metrics", port: REDIS_EXPORTER_PORT }], { parent: this });

    this.endpoint = serviceEndpoint(w, REDIS_EXPORTER_PORT);
    this.peer = podPeer(w);
    this.registerOutputs({ endpoint: this.endpoint, peer: this.peer });
  }
}
