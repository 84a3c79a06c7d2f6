import type * as pulumi from "@pulumi/pulumi";
import type { BackupConfig } from "../../config/types";
import { images } from "../k8s/images";
import { isQuantity } from "../k8s/quantity";
import type { BackupRole } from "./access";

/** Kinds the object backup exports as YAML (the seed's list), with their API group for the read-only ClusterRole. */
export const OBJECT_KINDS = {
  namespaces: "",
  deployments: "apps",
  statefulsets: "apps",
  daemonsets: "apps",
  services: "",
  configmaps: "",
  persistentvolumeclaims: "",
} as const;
export type ObjectKind = keyof typeof OBJECT_KINDS;

/** What the jobs need from BackupStorage (its outputs). */
export interface BackupJobsStorage {
  readonly buckets: { readonly database: pulumi.Input<string>; readonly kubernetes: pulumi.Input<string> };
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Region of the buckets. */
  readonly region: string;
  /** IRSA role ARN per backup ServiceAccount. */
  readonly roleArns: Readonly<Record<BackupRole, pulumi.Input<string>>>;
}

export interface BackupJobsArgs {
  /** Namespace of the jobs, created by the platform. Default: "backup". */
  readonly namespace?: string;
  /** The database to back up (config backup.database; the password is a Pulumi secret). */
  readonly database: BackupConfig["database"];
  /** Cron schedules (config backup.schedules), interpreted in `timeZone`. */
  readonly schedules: BackupConfig["schedules"];
  /** PEM RSA public key the Secrets are encrypted to (config backup.secretsPublicKey). */
  readonly secretsPublicKey: string;
  readonly storage: BackupJobsStorage;
  /** Kinds exported as plain YAML. Default: all of OBJECT_KINDS (the seed's list). */
  readonly objectKinds?: readonly ObjectKind[];
  /** Also back up Secrets, encrypted (gives the object backup read access to Secrets). Default: true. */
  readonly backupSecrets?: boolean;
  /** Restore verification limits. Default: 5 % or 100 rows of drift per table; newest backup under 26 hours. */
  readonly verification?: {
    readonly tolerancePercent?: number;
    readonly toleranceRows?: number;
    readonly maxAgeHours?: number;
  };
  /** Weekly REINDEX DATABASE CONCURRENTLY in the maintenance job. Default: disabled; weekday 7 (Sunday). */
  readonly reindex?: { readonly enabled?: boolean; readonly weekday?: number };
  /** Tables counted in the weekly report. Default: ["patients", "encounters", "observations"] (the seed's). */
  readonly reportTables?: readonly string[];
  /** Size limit of the dump's scratch volume (emptyDir). Default: "20Gi". */
  readonly workVolumeSize?: string;
  /** IANA time zone of the schedules (CronJob spec.timeZone). Default: "Etc/UTC". */
  readonly timeZone?: string;
  /** Business hours in `timeZone`, [start, end) in whole hours; maintenance must run outside. Default: 7-19. */
  readonly businessHours?: { readonly start: number; readonly end: number };
  /** Image with pg_dump/psql; its major version must be at least the server's. Default: images.postgres. */
  readonly postgresImage?: string;
}

export interface ResolvedBackupJobsArgs {
  readonly namespace: string;
  readonly database: BackupConfig["database"];
  readonly schedules: BackupConfig["schedules"];
  readonly secretsPublicKey: string;
  readonly storage: BackupJobsStorage;
  readonly objectKinds: readonly ObjectKind[];
  readonly backupSecrets: boolean;
  readonly verification: {
    readonly tolerancePercent: number;
    readonly toleranceRows: number;
    readonly maxAgeHours: number;
  };
  readonly reindex: { readonly enabled: boolean; readonly weekday: number };
  readonly reportTables: readonly string[];
  readonly workVolumeSize: string;
  readonly timeZone: string;
  readonly businessHours: { readonly start: number; readonly end: number };
  readonly postgresImage: string;
  /** The image's PostgreSQL major version (its client tools live in /usr/lib/postgresql/<major>/bin). */
  readonly postgresMajor: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CRON = /^(\S+\s+){4}\S+$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const nonNegative = (n: number) => Number.isInteger(n) && n >= 0;

/** The hours (0-23) a cron schedule's hour field fires at; "*" and steps expand, so they count as every hour. */
export function cronHours(schedule: string): number[] {
  const field = schedule.trim().split(/\s+/)[1] ?? "*";
  const hours = new Set<number>();
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const [from, to] =
      range === "*"
        ? [0, 23]
        : range.includes("-")
          ? range.split("-").map(Number)
          : [Number(range), stepText ? 23 : Number(range)];
    for (let h = from; h <= to; h += step > 0 ? step : 24) hours.add(h);
  }
  return [...hours].filter((h) => Number.isInteger(h) && h >= 0 && h <= 23).sort((a, b) => a - b);
}

/** Defaults and validation, without Pulumi: every problem is collected and reported at once. */
export function resolveBackupJobsArgs(args: BackupJobsArgs): ResolvedBackupJobsArgs {
  const r: ResolvedBackupJobsArgs = {
    namespace: args.namespace ?? "backup",
    database: args.database,
    schedules: args.schedules,
    secretsPublicKey: args.secretsPublicKey,
    storage: args.storage,
    objectKinds: args.objectKinds ?? (Object.keys(OBJECT_KINDS) as ObjectKind[]),
    backupSecrets: args.backupSecrets ?? true,
    verification: {
      tolerancePercent: args.verification?.tolerancePercent ?? 5,
      toleranceRows: args.verification?.toleranceRows ?? 100,
      maxAgeHours: args.verification?.maxAgeHours ?? 26,
    },
    reindex: { enabled: args.reindex?.enabled ?? false, weekday: args.reindex?.weekday ?? 7 },
    reportTables: args.reportTables ?? ["patients", "encounters", "observations"],
    workVolumeSize: args.workVolumeSize ?? "20Gi",
    timeZone: args.timeZone ?? "Etc/UTC",
    businessHours: args.businessHours ?? { start: 7, end: 19 },
    postgresImage: args.postgresImage ?? images.postgres,
    postgresMajor: Number(/:(\d+)[.-]/.exec(args.postgresImage ?? images.postgres)?.[1] ?? Number.NaN),
  };
  const problems: string[] = [];
  if (!DNS_LABEL.test(r.namespace)) problems.push(`namespace must be a DNS-1123 label (got "${r.namespace}")`);
  for (const [job, schedule] of Object.entries(r.schedules)) {
    if (!CRON.test(schedule)) problems.push(`schedules.${job} must be a five-field cron schedule (got "${schedule}")`);
  }
  const { start, end } = r.businessHours;
  if (!(nonNegative(start) && nonNegative(end) && start < end && end <= 24)) {
    problems.push(`businessHours must be whole hours with 0 <= start < end <= 24 (got ${start}-${end})`);
  } else if (CRON.test(r.schedules.maintenance)) {
    const inside = cronHours(r.schedules.maintenance).filter((h) => h >= start && h < end);
    if (inside.length > 0) {
      problems.push(
        `schedules.maintenance "${r.schedules.maintenance}" runs at ${inside.join(", ")}h ${r.timeZone}, inside business hours ${start}-${end}: VACUUM and REINDEX compete with the clinics' work`,
      );
    }
  }
  if (!/^[A-Za-z]+(\/[A-Za-z0-9_+-]+)*$/.test(r.timeZone))
    problems.push(`timeZone must be an IANA name (got "${r.timeZone}")`);
  if (!isQuantity(r.workVolumeSize))
    problems.push(`workVolumeSize must be a Kubernetes quantity (got "${r.workVolumeSize}")`);
  const { tolerancePercent, toleranceRows, maxAgeHours } = r.verification;
  if (!nonNegative(tolerancePercent) || tolerancePercent > 100) {
    problems.push(`verification.tolerancePercent must be a whole number 0..100 (got ${tolerancePercent})`);
  }
  if (!nonNegative(toleranceRows))
    problems.push(`verification.toleranceRows must be a whole number >= 0 (got ${toleranceRows})`);
  if (!Number.isInteger(maxAgeHours) || maxAgeHours < 1) {
    problems.push(`verification.maxAgeHours must be a whole number >= 1 (got ${maxAgeHours})`);
  }
  if (!Number.isInteger(r.reindex.weekday) || r.reindex.weekday < 1 || r.reindex.weekday > 7) {
    problems.push(`reindex.weekday must be 1 (Monday) .. 7 (Sunday) (got ${r.reindex.weekday})`);
  }
  for (const table of r.reportTables) {
    if (!TABLE.test(table)) problems.push(`reportTables entries must be [schema.]table names (got "${table}")`);
  }
  const unknownKinds = r.objectKinds.filter((k) => !(k in OBJECT_KINDS));
  if (r.objectKinds.length === 0 || unknownKinds.length > 0 || new Set(r.objectKinds).size !== r.objectKinds.length) {
    problems.push(
      `objectKinds must be distinct kinds from ${Object.keys(OBJECT_KINDS).join(", ")} (got ${JSON.stringify(r.objectKinds)})`,
    );
  }
  if (
    r.backupSecrets &&
    !/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$/.test(r.secretsPublicKey)
  ) {
    problems.push("secretsPublicKey must be a PEM public key (-----BEGIN PUBLIC KEY-----) when backupSecrets is on");
  }
  if (!r.database.host.trim()) problems.push("database.host must not be empty");
  if (!Number.isInteger(r.database.port) || r.database.port < 1 || r.database.port > 65535) {
    problems.push(`database.port must be 1..65535 (got ${r.database.port})`);
  }
  if (!Number.isInteger(r.postgresMajor) || /:latest$/.test(r.postgresImage)) {
    problems.push(
      `postgresImage must be pinned to a PostgreSQL version tag, e.g. postgres:16.10-bookworm (got "${r.postgresImage}")`,
    );
  }
  if (problems.length > 0) throw new Error(`BackupJobs: ${problems.join("; ")}`);
  return r;
}
