import * as pulumi from "@pulumi/pulumi";
import type { Environment, LoggingConfig } from "../../config/types";
import type { PodPeer, ServiceEndpoint } from "../k8s";
import { ElasticsearchBootstrap } from "./bootstrap";
import { LoggingCredentials } from "./credentials";
import { Elasticsearch } from "./elasticsearch";
import { ElasticsearchExporter } from "./exporter";
import { Filebeat } from "./filebeat";
import { Kibana } from "./kibana";
import { AUDIT_MIN_RETENTION_DAYS_PROD } from "./lifecycle";
import { Logstash } from "./logstash";
import { NAMES, SNAPSHOT_REPOSITORY } from "./names";
import { RESERVED_USERNAMES } from "./security-model";
import { LoggingTls } from "./tls";
import type { ElasticsearchClientCredentials, ElasticsearchClientSpec, SecretKeyRef } from "./types";

/** Where Elasticsearch snapshots go: given by the backup component (its bucket and the IRSA role for it). */
export interface LoggingSnapshotTarget {
  readonly bucket: pulumi.Input<string>;
  readonly roleArn: pulumi.Input<string>;
  readonly region: string;
}

export interface LoggingArgs {
  /** Namespace of the stack, created by the platform (e.g. "logging"). */
  readonly namespace: string;
  /** Namespace of the node agents, created by the platform with PSA privileged (e.g. "node-agents"). */
  readonly agentsNamespace: string;
  readonly environment: Environment;
  /** The validated logging slice of the stack config. */
  readonly config: LoggingConfig;
  /** StorageClass of the Elasticsearch and Logstash volumes. */
  readonly storageClass: string;
  /** Snapshot bucket and role from the backup component; undefined: no snapshots. */
  readonly snapshots: LoggingSnapshotTarget | undefined;
  /** Elasticsearch users for clients outside the stack, by user name (e.g. grafana, jaeger). Default: none. */
  readonly clients?: Readonly<Record<string, ElasticsearchClientSpec>>;
  /** Services whose audit entries are trusted. Default: ["zarish-sphere-api", "zarish-sphere-fhir"]. */
  readonly auditSources?: readonly string[];
}

export interface ResolvedLoggingArgs {
  readonly namespace: string;
  readonly agentsNamespace: string;
  readonly environment: Environment;
  readonly config: LoggingConfig;
  readonly storageClass: string;
  readonly clients: Readonly<Record<string, ElasticsearchClientSpec>>;
  /** Namespaces that receive the logging CA: the agents' and every client's. */
  readonly caNamespaces: readonly string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Cross-field rules of the component (the workloads validate their own sizes); every problem at once. */
export function resolveLoggingArgs(args: LoggingArgs): ResolvedLoggingArgs {
  const problems: string[] = [];
  const { logRetentionDays, auditRetentionDays } = args.config;
  if (!Number.isInteger(logRetentionDays) || logRetentionDays < 1) {
    problems.push(`logging.logRetentionDays must be a positive integer (got ${logRetentionDays})`);
  }
  if (!Number.isInteger(auditRetentionDays) || auditRetentionDays < 1) {
    problems.push(`logging.auditRetentionDays must be a positive integer (got ${auditRetentionDays})`);
  }
  if (args.environment === "prod" && auditRetentionDays < AUDIT_MIN_RETENTION_DAYS_PROD) {
    problems.push(
      `logging.auditRetentionDays must be >= ${AUDIT_MIN_RETENTION_DAYS_PROD} (six years, HIPAA) in prod (got ${auditRetentionDays})`,
    );
  }
  if (auditRetentionDays < logRetentionDays) {
    problems.push(
      `logging.auditRetentionDays must be >= logRetentionDays (got ${auditRetentionDays} < ${logRetentionDays})`,
    );
  }
  for (const [key, value] of [
    ["namespace", args.namespace],
    ["agentsNamespace", args.agentsNamespace],
  ] as const) {
    if (!DNS_LABEL.test(value)) problems.push(`${key} must be a DNS-1123 label (got "${value}")`);
  }
  const clients = args.clients ?? {};
  for (const [username, client] of Object.entries(clients)) {
    if (!/^[a-z][a-z0-9_]{1,30}$/.test(username)) {
      problems.push(`client user name must be lowercase letters, digits and _ (got "${username}")`);
    } else if (RESERVED_USERNAMES.includes(username)) {
      problems.push(`client user name "${username}" is reserved`);
    }
    if (!DNS_LABEL.test(client.namespace))
      problems.push(`client ${username}: namespace must be a DNS-1123 label (got "${client.namespace}")`);
    if (client.namespace === args.namespace) {
      problems.push(`client ${username}: clients run outside the logging namespace "${args.namespace}"`);
    }
  }
  if (problems.length > 0) throw new Error(`invalid logging arguments: ${problems.join("; ")}`);
  const caNamespaces = [...new Set([args.agentsNamespace, ...Object.values(clients).map((c) => c.namespace)])];
  return {
    namespace: args.namespace,
    agentsNamespace: args.agentsNamespace,
    environment: args.environment,
    config: args.config,
    storageClass: args.storageClass,
    clients,
    caNamespaces,
  };
}

/** The pods of the stack, for the network policies (security component). */
export interface LoggingPeers {
  readonly elasticsearch: PodPeer;
  readonly kibana: PodPeer;
  readonly logstash: PodPeer;
  /** Needs egress to logstash:5044. */
  readonly filebeat: PodPeer;
  /** Needs egress to elasticsearch:9200; ingress from Prometheus on 9114. */
  readonly exporter: PodPeer;
  /** Needs egress to elasticsearch:9200 and to the Kubernetes API (publishes the CA). */
  readonly bootstrap: PodPeer;
}

/**
 * The seed's "Logging and Auditing": Elasticsearch, Kibana, Logstash and Filebeat, with index lifecycle and the
 * audit trail's retention, TLS everywhere, and typed outputs for monitoring, backup, network policies and the
 * clients of Elasticsearch.
 */
export class Logging extends pulumi.ComponentResource {
  /** The Elasticsearch HTTPS endpoint (9200). */
  public readonly elasticsearch: ServiceEndpoint;
  /** Elasticsearch node-to-node transport (9300, headless Service): the nodes must reach each other on it. */
  public readonly elasticsearchTransport: ServiceEndpoint;
  /** Credentials of each client, in its own namespace. */
  public readonly elasticsearchCredentials: Readonly<Record<string, ElasticsearchClientCredentials>>;
  /** The `elastic` superuser (Secret in the logging namespace), for operators. */
  public readonly elasticCredentials: SecretKeyRef;
  /** Logstash's Beats endpoint (5044, TLS). */
  public readonly logstash: ServiceEndpoint;
  /** Kibana (5601, HTTPS). */
  public readonly kibana: ServiceEndpoint;
  /** The elasticsearch-exporter metrics endpoint (9114) for Prometheus. */
  public readonly metrics: ServiceEndpoint;
  public readonly peers: LoggingPeers;
  /** The bootstrap Job: depend on it before using a client's credentials or the CA ConfigMap. */
  public readonly ready: pulumi.Resource;
  /** Name of the snapshot repository, when snapshots are configured. */
  public readonly snapshotRepository: string | undefined;

  constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:Logging", name, {}, opts);
    const r = resolveLoggingArgs(args);
    const { config, namespace } = r;
    const child = { parent: this };

    const tls = new LoggingTls(`${name}-tls`, { namespace }, child);
    const credentials = new LoggingCredentials(`${name}-credentials`, { namespace, clients: r.clients }, child);
    const elasticsearch = new Elasticsearch(
      `${name}-elasticsearch`,
      {
        namespace,
        environment: r.environment,
        replicas: config.elasticsearch.replicas,
        heapSize: config.elasticsearch.heapSize,
        memoryLimit: config.elasticsearch.memoryLimit,
        cpuRequest: config.elasticsearch.cpuRequest,
        cpuLimit: config.elasticsearch.cpuLimit,
        storageClass: r.storageClass,
        storageSize: config.elasticsearch.storageSize,
        snapshots:
          args.snapshots === undefined ? undefined : { roleArn: args.snapshots.roleArn, region: args.snapshots.region },
      },
      { parent: this, dependsOn: tls.resources },
    );
    const bootstrap = new ElasticsearchBootstrap(
      `${name}-bootstrap`,
      {
        namespace,
        elasticsearchUrl: elasticsearch.url,
        nodes: elasticsearch.replicas,
        logRetentionDays: config.logRetentionDays,
        auditRetentionDays: config.auditRetentionDays,
        elasticPassword: elasticsearch.elasticCredentials,
        kibanaSystemPassword: credentials.kibanaSystemPassword,
        users: credentials.users,
        snapshots: args.snapshots === undefined ? undefined : { bucket: args.snapshots.bucket },
        caNamespaces: r.caNamespaces,
      },
      { parent: this, dependsOn: [elasticsearch, credentials] },
    );
    // The workloads start once their users exist and the CA is published, instead of crash-looping until then.
    const afterBootstrap = { parent: this, dependsOn: [bootstrap, tls] };
    const kibana = new Kibana(
      `${name}-kibana`,
      {
        namespace,
        elasticsearchUrl: elasticsearch.url,
        publicHost: config.kibana.host,
        replicas: config.kibana.replicas,
      },
      afterBootstrap,
    );
    const logstash = new Logstash(
      `${name}-logstash`,
      {
        namespace,
        elasticsearchUrl: elasticsearch.url,
        replicas: config.logstash.replicas,
        queueSize: config.logstash.queueSize,
        storageSize: config.logstash.storageSize,
        storageClass: r.storageClass,
        auditSources: args.auditSources,
      },
      afterBootstrap,
    );
    const exporter = new ElasticsearchExporter(
      `${name}-exporter`,
      { namespace, elasticsearchUrl: elasticsearch.url },
      afterBootstrap,
    );
    const filebeat = new Filebeat(
      `${name}-filebeat`,
      { namespace: r.agentsNamespace, environment: r.environment, logstash: logstash.endpoint },
      { parent: this, dependsOn: [bootstrap, logstash] },
    );

    this.elasticsearch = elasticsearch.endpoint;
    this.elasticsearchTransport = elasticsearch.transport;
    this.elasticsearchCredentials = credentials.clients;
    this.elasticCredentials = elasticsearch.elasticCredentials;
    this.logstash = logstash.endpoint;
    this.kibana = kibana.endpoint;
    this.metrics = exporter.endpoint;
    this.peers = {
      elasticsearch: elasticsearch.peer,
      kibana: kibana.peer,
      logstash: logstash.peer,
      filebeat: filebeat.peer,
      exporter: exporter.peer,
      bootstrap: bootstrap.peer,
    };
    this.ready = bootstrap.job;
    this.snapshotRepository = args.snapshots === undefined ? undefined : SNAPSHOT_REPOSITORY;
    this.registerOutputs({
      elasticsearch: this.elasticsearch,
      logstash: this.logstash,
      kibana: this.kibana,
      metrics: this.metrics,
      caConfigMap: NAMES.caConfigMap,
    });
  }
}
