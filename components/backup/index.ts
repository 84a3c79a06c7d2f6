/**
 * The backup concern (the seed's "Backup and Disaster Recovery" and the database part of its "Maintenance
 * Procedures"). The platform uses `BackupStorage` (AWS: KMS, buckets, replication, IRSA roles) and `BackupJobs`
 * (Kubernetes: the CronJobs and their scripts); the pure builders are exported for tests and the policy pack.
 * Runbooks: docs/runbooks/restore-database.md, docs/runbooks/restore-kubernetes-objects.md.
 */
export {
  BACKUP_ACCESS,
  BACKUP_ROLES,
  type BackupRole,
  type BucketKey,
  backupRolePolicy,
  bucketPolicyDocument,
  elasticsearchSnapshotPolicy,
  irsaTrustPolicy,
  PREFIX,
  replicationPolicy,
} from "./access";
export { SecureBucket, type SecureBucketArgs } from "./bucket";
export { BACKUP_UID, type BackupJob, backupJobs, buildCronJob, OBJECT_NAMES } from "./cronjobs";
export { BackupJobs, type BackupPeers, backupPeers, objectReaderRules } from "./jobs";
export {
  type BackupJobsArgs,
  type BackupJobsStorage,
  OBJECT_KINDS,
  type ObjectKind,
  type ResolvedBackupJobsArgs,
  resolveBackupJobsArgs,
} from "./jobs-args";
export { backupScripts, SCRIPT, SCRIPTS_DIR, SCRIPTS_MOUNT_PATH } from "./scripts";
export {
  BackupStorage,
  type BackupStorageArgs,
  type ElasticsearchSnapshotTarget,
  MIN_RETENTION_DAYS,
  type ResolvedBackupStorageArgs,
  resolveBackupStorageArgs,
} from "./storage";
