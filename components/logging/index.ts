/**
 * The logging concern (the seed's "Logging and Auditing"): Elasticsearch, Kibana, Logstash, Filebeat, index
 * lifecycle and the audit trail. The platform uses `Logging`; the pure builders are exported for tests, the
 * offline plan's validators and the policy pack.
 */

export { AUDIT_MIN_RETENTION_DAYS_PROD, LIFECYCLE_NAMES, MANAGED_BY } from "./lifecycle";
export {
  Logging,
  type LoggingArgs,
  type LoggingPeers,
  type LoggingSnapshotTarget,
  resolveLoggingArgs,
} from "./logging";
export { INDICES, NAMES, PORTS, SNAPSHOT_REPOSITORY } from "./names";
export type { ElasticsearchClientAccess } from "./security-model";
export { ELASTICSEARCH_SNAPSHOT_S3_ACTIONS } from "./snapshots";
export type { ElasticsearchClientCredentials, ElasticsearchClientSpec, SecretKeyRef } from "./types";
