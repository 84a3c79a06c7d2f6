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

/** The seed's scrape target is `postgres-exporter:9187`: this Service name and port, in Prometheus' namespace. */
export const POSTGRES_EXPORTER_PORT = 9187;
const POSTGRES_EXPORTER_UID = 65534;

export type PostgresSslMode = "disable" | "require" | "verify-ca" | "verify-full";

export interface PostgresExporterArgs {
  /** Namespace (the platform's `monitoring`, next to Prometheus). */
  readonly namespace: string;
  /** Database address and monitoring role (config.monitoring.exporters). */
  readonly exporters: Pick<MonitoringConfig["exporters"], "postgresAddress" | "postgresUser">;
  /** The role's password (config.monitoring.secrets.postgresExporterPassword), a secret Output. */
  readonly password: pulumi.Output<string>;
  /** Database the exporter connects to. Default: "postgres". */
  readonly database?: string;
  /** libpq sslmode. Default: "require" (encrypted; the server certificate is not pinned here). */
  readonly sslMode?: PostgresSslMode;
  /** CPU and memory. Default: requests 50m / 64Mi, limits 200m / 128Mi. */
  readonly compute?: ComputeResources;
  /** Object name. Default: "postgres-exporter". */
  readonly name?: string;
}

export interface ResolvedPostgresExporterArgs {
  readonly workload: Workload;
  readonly address: string;
  readonly user: string;
  readonly database: string;
  readonly sslMode: PostgresSslMode;
  readonly compute: ComputeResources;
  /** DATA_SOURCE_URI without credentials: host:port/database?sslmode=... */
  readonly dataSourceUri: string;
}

export const POSTGRES_EXPORTER_DEFAULT_COMPUTE = resources("50m", "64Mi", "200m", "128Mi");
const SSL_MODES: readonly PostgresSslMode[] = ["disable", "require", "verify-ca", "verify-full"];

export function resolvePostgresExporterArgs(args: PostgresExporterArgs): ResolvedPostgresExporterArgs {
  const name = args.name ?? "postgres-exporter";
  const database = args.database ?? "postgres";
  const sslMode = args.sslMode ?? "require";
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  if (!/^[a-z0-9.-]+:\d{1,5}$/.test(args.exporters.postgresAddress)) {
    problems.push(`monitoring.exporters.postgresAddress must be host:port (got "${args.exporters.postgresAddress}")`);
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(args.exporters.postgresUser)) {
    problems.push(
      `monitoring.exporters.postgresUser must be a PostgreSQL role name (got "${args.exporters.postgresUser}")`,
    );
  }
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(database))
    problems.push(`database must be a database name (got "${database}")`);
  if (!SSL_MODES.includes(sslMode)) problems.push(`sslMode must be one of ${SSL_MODES.join(", ")} (got "${sslMode}")`);
  throwIfProblems("PostgresExporter", problems);
  return {
    workload: { name, namespace: args.namespace, image: images.postgresExporter },
    address: args.exporters.postgresAddress,
    user: args.exporters.postgresUser,
    database,
    sslMode,
    compute: args.compute ?? POSTGRES_EXPORTER_DEFAULT_COMPUTE,
    dataSourceUri: `${args.exporters.postgresAddress}/${database}?sslmode=${sslMode}`,
  };
}

/**
 * postgres-exporter for the seed's `postgres-exporter` scrape job. The connection (address, role, password) is in
 * a Secret read through environment variables, so neither the Deployment nor any ConfigMap carries it.
 */
export class PostgresExporter extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  /** The exporter pods: the database's NetworkPolicy admits them on 5432. */
  public readonly peer: PodPeer;

  constructor(name: string, args: PostgresExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:PostgresExporter", name, {}, opts);
    const r = resolvePostgresExporterArgs(args);
    const w = r.workload;

    const secret = new k8s.core.v1.Secret(
      `${name}-connection`,
      {
        metadata: objectMeta(w, `${w.name}-connection`),
        type: "Opaque",
        // The whole connection is secret: the password, and with it the address and role it opens.
        stringData: pulumi.secret({
          DATA_SOURCE_URI: r.dataSourceUri,
          DATA_SOURCE_USER: r.user,
          DATA_SOURCE_PASS: args.password,
        }),
      },
      { parent: this },
    );
    const fromSecret = (key: string) => envFromSecret(key, { name: secret.metadata.name, key });

    singleContainerDeployment(
      name,
      w,
      {
        container: {
          name: "postgres-exporter",
          image: images.postgresExporter,
          args: [`--web.listen-address=:${POSTGRES_EXPORTER_PORT}`, "--log.format=json"],
          env: [fromSecret("DATA_SOURCE_URI"), fromSecret("DATA_SOURCE_USER"), fromSecret("DATA_SOURCE_PASS")],
          ports: [{ name: "metrics", containerPort: POSTGRES_EXPORTER_PORT }],
          // A TCP check: /metrics would open a database session on every probe.
          readinessProbe: { tcpSocket: { port: "metrics" }, periodSeconds: 10 },
          livenessProbe: { tcpSocket: { port: "metrics" }, periodSeconds: 20, failureThreshold: 3 },
          compute: r.compute,
          runAsUser: POSTGRES_EXPORTER_UID,
        },
      },
      { parent: this },
    );
    serviceFor(name, w, [{ name: "metrics", port: POSTGRES_EXPORTER_PORT }], { parent: this });

    this.endpoint = serviceEndpoint(w, POSTGRES_EXPORTER_PORT);
    this.peer = podPeer(w);
    this.registerOutputs({ endpoint: this.endpoint, peer: this.peer });
  }
}
