import { formats } from "./formats";
import type { ObjectReader } from "./reader";
import type { BackupConfig, Environment, ObjectLockMode } from "./types";

/** The seed's RETENTION_DAYS=30: no backup expires sooner, in any environment. */
export const MIN_BACKUP_RETENTION_DAYS = 30;

/** Parses `zarish-sphere-ops:backup` (the database password secret is added by the caller). */
export function readBackup(
  r: ObjectReader,
  env: Environment,
): Omit<BackupConfig, "database"> & {
  database: Omit<BackupConfig["database"], "password">;
} {
  const bucketPrefix = r.string("bucketPrefix", { ...formats.bucketPrefix, example: "zarishsphere-backups-prod" });
  const retentionDays = r.integer("retentionDays", { min: MIN_BACKUP_RETENTION_DAYS, max: 3650, example: "90" });
  const noncurrentRetentionDays = r.integer("noncurrentRetentionDays", { min: 1, max: 3650, default: 30 });
  const lock = r.optionalObject("objectLock");
  const objectLock = lock && {
    mode: lock.string("mode", { oneOf: ["GOVERNANCE", "COMPLIANCE"] }) as ObjectLockMode,
    days: lock.integer("days", { min: 1, max: 3650 }),
  };
  lock?.done();
  const replication = r.boolean("replication", { default: env === "prod" });
  const d = r.object("database");
  const database = {
    host: d.string("host", { pattern: /^[a-z0-9.-]+$/, describe: "a host name", example: "postgres.zarish-data.svc" }),
    port: d.integer("port", { default: 5432, min: 1, max: 65535 }),
    name: d.string("name", {
      pattern: /^[a-z_][a-z0-9_]{0,62}$/,
      describe: "a PostgreSQL database name",
      default: "zarish_sphere",
    }),
    user: d.string("user", {
      pattern: /^[a-z_][a-z0-9_]{0,62}$/,
      describe: "a PostgreSQL role name",
      default: "zarish_backup",
    }),
  };
  d.done();
  const s = r.object("schedules");
  const schedules = {
    databaseBackup: s.string("databaseBackup", { ...formats.cron, default: "0 2 * * *" }),
    objectBackup: s.string("objectBackup", { ...formats.cron, default: "30 2 * * *" }),
    restoreVerification: s.string("restoreVerification", { ...formats.cron, default: "0 5 * * *" }),
    maintenance: s.string("maintenance", { ...formats.cron, default: "0 3 * * *" }),
    weeklyReport: s.string("weeklyReport", { ...formats.cron, default: "0 6 * * 1" }),
  };
  s.done();
  const secretsPublicKey = r.string("secretsPublicKey", { ...formats.pemPublicKey, example: "a PEM RSA public key" });
  r.done();
  return {
    bucketPrefix,
    retentionDays,
    noncurrentRetentionDays,
    objectLock,
    replication,
    database,
    schedules,
    secretsPublicKey,
  };
}
