/**
 * Names, ports and users of the logging stack, in one place: the workloads, the generated configuration files,
 * the bootstrap Job and the typed outputs all read them from here, so a Service name is never typed twice.
 */

/** The Elasticsearch cluster name (cluster.name). */
export const CLUSTER_NAME = "zarish-sphere";

export const PORTS = {
  elasticsearchHttp: 9200,
  elasticsearchTransport: 9300,
  kibana: 5601,
  /** The seed's Beats input port. */
  beats: 5044,
  logstashApi: 9600,
  exporter: 9114,
} as const;

/** Object names (Services, workloads, Secrets, ConfigMaps) inside the logging namespace. */
export const NAMES = {
  elasticsearch: "elasticsearch",
  /** Headless Service of the StatefulSet: stable per-pod DNS names and discovery.seed_hosts. */
  elasticsearchHeadless: "elasticsearch-headless",
  elasticsearchConfig: "elasticsearch-config",
  /** Secret holding the `elastic` superuser password (key ELASTIC_PASSWORD_KEY). */
  elasticCredentials: "elasticsearch-elastic-credentials",
  kibana: "kibana",
  kibanaConfig: "kibana-config",
  kibanaCredentials: "kibana-credentials",
  logstash: "logstash",
  logstashHeadless: "logstash-headless",
  logstashConfig: "logstash-config",
  logstashPipelines: "logstash-pipelines",
  logstashCredentials: "logstash-credentials",
  filebeat: "filebeat",
  filebeatConfig: "filebeat-config",
  exporter: "elasticsearch-exporter",
  exporterCredentials: "elasticsearch-exporter-credentials",
  bootstrap: "elasticsearch-bootstrap",
  bootstrapRequests: "elasticsearch-bootstrap-requests",
  /** ConfigMap the bootstrap Job fills with the logging CA certificate in every client namespace. */
  caConfigMap: "logging-ca",
} as const;

/** Secret names and keys of the TLS material cert-manager issues (see tls.ts). */
export const TLS_SECRETS = {
  /** CA of every client-facing TLS endpoint of the stack (Elasticsearch HTTP, Logstash Beats, Kibana). */
  loggingCa: "logging-ca",
  /** CA used only by the Elasticsearch transport layer (node to node). */
  transportCa: "elasticsearch-transport-ca",
  elasticsearchHttp: "elasticsearch-http-tls",
  elasticsearchTransport: "elasticsearch-transport-tls",
  logstashBeats: "logstash-beats-tls",
  kibana: "kibana-tls",
} as const;

/** Keys cert-manager writes into a certificate Secret. */
export const TLS_KEYS = { ca: "ca.crt", cert: "tls.crt", key: "tls.key" } as const;

/** Keys of the credential Secrets created by the component. */
export const CREDENTIAL_KEYS = { username: "username", password: "password" } as const;

/** Built-in and platform users of the cluster. */
export const USERS = {
  elastic: "elastic",
  kibanaSystem: "kibana_system",
  logstashWriter: "logstash_writer",
  exporter: "metrics_exporter",
} as const;

/** The index families the stack writes. Daily indices, as the seed names them. */
export const INDICES = {
  /** The seed's application log indices: zarish-sphere-YYYY.MM.dd. */
  applicationPrefix: "zarish-sphere-",
  /** The seed's AuditLogger indices: zarish-audit-YYYY-MM-DD. */
  auditPrefix: "zarish-audit-",
} as const;

/** The Logstash pipeline ids (pipelines.yml) and the pipeline-to-pipeline address of the audit pipeline. */
export const PIPELINES = { application: "zarish-sphere", audit: "zarish-audit" } as const;

/** Snapshot repository registered by the bootstrap Job when snapshots are configured. */
export const SNAPSHOT_REPOSITORY = "zarish-s3";

/** The pod names of an N-replica StatefulSet (`<name>-0` .. `<name>-(N-1)`). */
export function statefulSetPodNames(name: string, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => `${name}-${i}`);
}
