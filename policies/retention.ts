/**
 * Retention: what the platform keeps, and for how long. Backup buckets expire objects no earlier than the floor
 * (the seed's 30 days), the audit trail is kept six years in prod (HIPAA keeps required documentation six years,
 * 45 CFR 164.316(b)(2)(i)), Prometheus keeps its configured minimum, and stateful data lives on persistent volumes.
 */
import type {
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { bucketLabel, type LinkedBucket, linkBuckets } from "./buckets";
import {
  arr,
  configOf,
  ENVIRONMENT_PROPERTY,
  type Environment,
  environmentOf,
  known,
  metadataOf,
  num,
  obj,
  type Props,
  str,
  unlessUnknown,
  validateTypes,
} from "./common";
import { K8S } from "./types";
import {
  ALL_WORKLOAD_TYPES,
  type ContainerRef,
  describeContainer,
  imageBaseName,
  type Workload,
  workloadOf,
} from "./workloads";

/** A threshold that differs per environment, as a config property. */
function perEnvironment(
  type: "integer" | "string",
  defaults: Record<Environment, number | string>,
  description: string,
): PolicyConfigJSONSchema {
  return {
    type: "object",
    additionalProperties: false,
    properties: { staging: { type }, prod: { type } },
    default: defaults,
    description,
  };
}

function thresholdFor<T>(value: unknown, defaults: Record<Environment, T>, environment: Environment): T {
  const configured = obj(value)?.[environment] as T | undefined;
  return configured ?? defaults[environment];
}

// ---------------------------------------------------------------------------------------------------------------
// S3 lifecycle

const MIN_EXPIRATION = { staging: 30, prod: 30 };
const MIN_NONCURRENT = { staging: 7, prod: 30 };

const lifecycleSchema: PolicyConfigSchema = {
  properties: {
    environment: ENVIRONMENT_PROPERTY,
    minExpirationDays: perEnvironment(
      "integer",
      MIN_EXPIRATION,
      "Fewest days a lifecycle rule may keep current objects",
    ),
    minNoncurrentDays: perEnvironment(
      "integer",
      MIN_NONCURRENT,
      "Fewest days a lifecycle rule may keep noncurrent versions",
    ),
    backupTag: { type: "string", default: "zarish.health/backup", description: "Tag key that marks a backup bucket" },
    backupNamePattern: {
      type: "string",
      default: "backup",
      description: "Case-insensitive regular expression on the bucket's name that also marks a backup bucket",
    },
  },
};

interface LifecycleRule {
  readonly id: string;
  readonly expirationDays: number | undefined;
  readonly expirationDate: string | undefined;
  readonly noncurrentDays: number | undefined;
}

/** Enabled lifecycle rules of a bucket: from linked configurations and the deprecated inline `lifecycleRules`. */
function lifecycleRules(linked: LinkedBucket): LifecycleRule[] {
  const out: LifecycleRule[] = [];
  for (const config of linked.settings.lifecycle) {
    arr((config.props as Props).rules).forEach((item, index) => {
      const rule = obj(item);
      if (rule?.status !== "Enabled") return;
      out.push({
        id: str(rule.id) ?? `#${index}`,
        expirationDays: num(obj(rule.expiration)?.days),
        expirationDate: str(obj(rule.expiration)?.date),
        noncurrentDays: num(obj(rule.noncurrentVersionExpiration)?.noncurrentDays),
      });
    });
  }
  arr((linked.bucket.props as Props).lifecycleRules).forEach((item, index) => {
    const rule = obj(item);
    if (rule?.enabled !== true) return;
    out.push({
      id: str(rule.id) ?? `inline #${index}`,
      expirationDays: num(obj(rule.expiration)?.days),
      expirationDate: str(obj(rule.expiration)?.date),
      noncurrentDays: num(obj(rule.noncurrentVersionExpiration)?.days),
    });
  });
  return out;
}

function isBackupBucket(bucket: PolicyResource, config: Props): boolean {
  const p = bucket.props as Props;
  const tag = str(config.backupTag);
  const tagValue = tag === undefined ? undefined : obj(p.tags)?.[tag];
  if (tagValue !== undefined) return tagValue !== "false";
  let pattern: RegExp;
  try {
    pattern = new RegExp(str(config.backupNamePattern) ?? "backup", "i");
  } catch {
    pattern = /backup/i;
  }
  return [bucket.name, str(p.bucket), str(p.bucketPrefix)].some((n) => n !== undefined && pattern.test(n));
}

export const s3LifecycleRetention: StackValidationPolicy = {
  name: "s3-lifecycle-retention",
  description:
    "Backup buckets expire current objects after at least the minimum (30 days), and no lifecycle rule deletes objects or noncurrent versions before the minimum.",
  enforcementLevel: "mandatory",
  configSchema: lifecycleSchema,
  validateStack: (args, reportViolation) => {
    const config = configOf<Props>(args, lifecycleSchema);
    const environment = environmentOf(config.environment, args.resources[0]?.urn);
    const minExpiration = thresholdFor<number>(config.minExpirationDays, MIN_EXPIRATION, environment);
    const minNoncurrent = thresholdFor<number>(config.minNoncurrentDays, MIN_NONCURRENT, environment);
    for (const linked of linkBuckets(args).buckets) {
      unlessUnknown(() => {
        const report = (message: string) =>
          reportViolation(`bucket ${bucketLabel(linked.bucket)} ${message}`, linked.bucket.urn);
        const rules = lifecycleRules(linked);
        for (const rule of rules) {
          if (rule.expirationDays !== undefined && rule.expirationDays < minExpiration) {
            report(
              `expires objects after ${rule.expirationDays} days (rule ${rule.id}): keep them at least ${minExpiration} days in ${environment}`,
            );
          }
          if (rule.expirationDate !== undefined) {
            report(
              `expires objects on a fixed date (rule ${rule.id}): use expiration.days (at least ${minExpiration})`,
            );
          }
          if (rule.noncurrentDays !== undefined && rule.noncurrentDays < minNoncurrent) {
            report(
              `deletes noncurrent versions after ${rule.noncurrentDays} days (rule ${rule.id}): keep them at least ${minNoncurrent} days in ${environment}`,
            );
          }
        }
        if (isBackupBucket(linked.bucket, config) && !rules.some((r) => r.expirationDays !== undefined)) {
          report(
            "holds backups but no enabled lifecycle rule expires them: add an aws.s3.BucketLifecycleConfiguration (bucket: <bucket>.id) " +
              `with expiration.days >= ${minExpiration}; retention is enforced by S3, not by scripts`,
          );
        }
      });
    }
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Elasticsearch audit indices

const MIN_AUDIT_DAYS = { staging: 0, prod: 2192 };

const auditSchema: PolicyConfigSchema = {
  properties: {
    environment: ENVIRONMENT_PROPERTY,
    minDays: perEnvironment(
      "integer",
      MIN_AUDIT_DAYS,
      "Fewest days the audit ILM policy keeps an index (six years in prod)",
    ),
  },
};

const ES_UNITS: Record<string, number> = { d: 1, h: 1 / 24, m: 1 / 1440, s: 1 / 86400, ms: 1 / 86_400_000 };

/** An Elasticsearch time value ("2192d", "36h") in days; micros and nanos round to 0. */
export function elasticsearchDays(value: unknown): number | undefined {
  const match = /^(\d+)(d|h|m|s|ms|micros|nanos)$/.exec(String(value ?? "").trim());
  if (!match) return undefined;
  return Number(match[1]) * (ES_UNITS[match[2]] ?? 0);
}

/** The ILM policies of one ConfigMap entry: `{ "policy": { "phases": ... } }` bodies, as PUT _ilm/policy takes them. */
function ilmPolicies(key: string, value: string): { name: string; phases: Props }[] {
  if (!value.includes("phases")) return [];
  let document: unknown;
  try {
    document = JSON.parse(value);
  } catch {
    return [];
  }
  const direct = obj(obj(obj(document)?.policy)?.phases);
  if (direct) return [{ name: key, phases: direct }];
  // A file of several named bodies: { "<policy-name>": { "policy": { "phases": ... } } }.
  return Object.entries(obj(document) ?? {})
    .map(([name, body]) => ({ name, phases: obj(obj(obj(body)?.policy)?.phases) }))
    .filter((p): p is { name: string; phases: Props } => p.phases !== undefined);
}

export const elasticsearchAuditRetention: ResourceValidationPolicy = {
  name: "elasticsearch-audit-retention",
  description:
    "The audit indices' ILM policy keeps them at least the minimum before deleting (2192 days, six years, in prod).",
  enforcementLevel: "mandatory",
  configSchema: auditSchema,
  validateResource: validateTypes([K8S.configMap], (args, report) => {
    const config = configOf<Props>(args, auditSchema);
    const environment = environmentOf(config.environment, args.urn);
    const minDays = thresholdFor<number>(config.minDays, MIN_AUDIT_DAYS, environment);
    const props = args.props as Props;
    const configMapName = str(metadataOf(props).name) ?? args.name;
    for (const [key, value] of Object.entries(obj(props.data) ?? {})) {
      if (typeof value !== "string") continue;
      for (const policy of ilmPolicies(key, value)) {
        if (!/audit/i.test(`${configMapName} ${policy.name}`)) continue;
        const deletePhase = obj(policy.phases.delete);
        if (!deletePhase) continue; // no delete phase: the audit indices are never deleted
        const days = elasticsearchDays(deletePhase.min_age ?? "0d");
        if (days === undefined) {
          report(
            `ILM policy ${policy.name} (key ${key}) has an unreadable delete min_age ${JSON.stringify(deletePhase.min_age)}: use days, e.g. "${minDays}d"`,
          );
        } else if (days < minDays) {
          report(
            `ILM policy ${policy.name} (key ${key}) deletes audit indices after ${deletePhase.min_age ?? "0d"}: keep them at least ${minDays} days in ${environment} (delete phase min_age >= "${minDays}d")`,
          );
        }
      }
    }
  }),
};

// ---------------------------------------------------------------------------------------------------------------
// Prometheus

const MIN_PROMETHEUS = { staging: "7d", prod: "30d" };

const prometheusSchema: PolicyConfigSchema = {
  properties: {
    environment: ENVIRONMENT_PROPERTY,
    minRetention: perEnvironment(
      "string",
      MIN_PROMETHEUS,
      "Shortest --storage.tsdb.retention.time (Prometheus duration)",
    ),
  },
};

const PROM_UNITS: Record<string, number> = { y: 365 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** A Prometheus duration ("30d", "1w2d", "12h") in seconds, or undefined when malformed. */
export function prometheusSeconds(value: unknown): number | undefined {
  const text = String(value ?? "").trim();
  if (!/^(\d+(ms|y|w|d|h|m|s))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(match[1]) * PROM_UNITS[match[2]];
  return total;
}

/** The value of a `--flag=value` or `--flag value` command-line option. */
export function flagValue(tokens: readonly unknown[], flag: string): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const token = String(tokens[i]);
    if (token.startsWith(`${flag}=`)) return token.slice(flag.length + 1);
    if (token === flag && i + 1 < tokens.length) return String(tokens[i + 1]);
  }
  return undefined;
}

function commandLine(ref: ContainerRef): unknown[] {
  return [...arr(ref.container.command), ...arr(ref.container.args)];
}

export const prometheusRetention: ResourceValidationPolicy = {
  name: "prometheus-retention",
  description: "Prometheus sets --storage.tsdb.retention.time explicitly, to at least the minimum for the environment.",
  enforcementLevel: "mandatory",
  configSchema: prometheusSchema,
  validateResource: validateTypes(ALL_WORKLOAD_TYPES, (args, report) => {
    const workload = workloadOf(args.type, args.props as Props, args.name);
    const servers =
      workload?.containers.filter((c) => known(() => imageBaseName(str(c.container.image) ?? "")) === "prometheus") ??
      [];
    if (servers.length === 0) return;
    const config = configOf<Props>(args, prometheusSchema);
    const environment = environmentOf(config.environment, args.urn);
    const minimum = thresholdFor<string>(config.minRetention, MIN_PROMETHEUS, environment);
    const minimumSeconds = prometheusSeconds(minimum) ?? 0;
    for (const ref of servers) {
      const tokens = commandLine(ref);
      const retention =
        flagValue(tokens, "--storage.tsdb.retention.time") ?? flagValue(tokens, "--storage.tsdb.retention");
      const seconds = prometheusSeconds(retention);
      if (retention === undefined) {
        report(
          `${describeContainer(ref)} leaves the retention to Prometheus's default: pass --storage.tsdb.retention.time=${minimum} or more`,
        );
      } else if (seconds === undefined) {
        report(
          `${describeContainer(ref)} has a malformed --storage.tsdb.retention.time "${retention}": use a duration such as ${minimum}`,
        );
      } else if (seconds < minimumSeconds) {
        report(`${describeContainer(ref)} keeps metrics ${retention}: keep them at least ${minimum} in ${environment}`);
      }
    }
  }),
};

// ---------------------------------------------------------------------------------------------------------------
// Stateful data on persistent volumes

/** Where each stateful application keeps its data, by image name (the official images' defaults). */
const DATA_PATHS: Record<string, (ref: ContainerRef) => string> = {
  elasticsearch: () => "/usr/share/elasticsearch/data",
  prometheus: (ref) => flagValue(commandLine(ref), "--storage.tsdb.path") ?? "/prometheus",
  alertmanager: (ref) => flagValue(commandLine(ref), "--storage.path") ?? "/alertmanager",
  grafana: (ref) =>
    str(
      arr(ref.container.env)
        .map(obj)
        .find((e) => e?.name === "GF_PATHS_DATA")?.value,
    ) ?? "/var/lib/grafana",
};

function statefulApp(workload: Workload, ref: ContainerRef): string | undefined {
  const byImage = known(() => imageBaseName(str(ref.container.image) ?? ""));
  if (byImage !== undefined && byImage in DATA_PATHS) return byImage;
  const label = str(obj(workload.podMetadata.labels)?.["app.kubernetes.io/name"]);
  return label !== undefined && label in DATA_PATHS && ref.name === label ? label : undefined;
}

/** The volume mounted at the deepest mount path that contains `path`, if any. */
function mountFor(ref: ContainerRef, path: string): string | undefined {
  let best: { name: string; length: number } | undefined;
  for (const item of arr(ref.container.volumeMounts)) {
    const mount = obj(item);
    const raw = str(mount?.mountPath);
    if (!mount || !raw) continue;
    const mountPath = raw.replace(/\/+$/, ""); // "/" becomes "", which contains every path
    const contains = path === mountPath || path.startsWith(`${mountPath}/`);
    if (contains && (best === undefined || mountPath.length > best.length)) {
      best = { name: str(mount.name) ?? "", length: mountPath.length };
    }
  }
  return best?.name;
}

/** What backs a pod volume: "pvc", "template" (a StatefulSet claim), or the volume source's field name. */
function volumeSource(workload: Workload, name: string): string {
  if (workload.volumeClaimTemplates.some((t) => str(metadataOf(t).name) === name)) return "pvc";
  const volume = arr(workload.podSpec.volumes)
    .map(obj)
    .find((v) => v?.name === name);
  if (!volume) return "missing";
  if (obj(volume.persistentVolumeClaim)) return "pvc";
  return Object.keys(volume).find((k) => k !== "name") ?? "missing";
}

export const statefulDataOnPersistentVolumes: ResourceValidationPolicy = {
  name: "stateful-data-on-persistent-volumes",
  description:
    "Elasticsearch, Prometheus, Alertmanager and Grafana keep their data on a PersistentVolumeClaim, not emptyDir.",
  enforcementLevel: "mandatory",
  validateResource: validateTypes(ALL_WORKLOAD_TYPES, (args, report) => {
    const workload = workloadOf(args.type, args.props as Props, args.name);
    if (!workload) return;
    for (const ref of workload.containers) {
      if (ref.role !== "container") continue;
      const app = statefulApp(workload, ref);
      if (app === undefined) continue;
      const path = DATA_PATHS[app](ref).replace(/\/+$/, "");
      const volume = mountFor(ref, path);
      const source = volume === undefined ? "none" : volumeSource(workload, volume);
      if (source === "pvc") continue;
      const where = volume === undefined ? "the container's own filesystem" : `volume "${volume}" (${source})`;
      report(
        `${describeContainer(ref)} (${app}) keeps its data at ${path} on ${where}, lost when the pod goes: mount a ` +
          "PersistentVolumeClaim there (volumeClaimTemplates for a StatefulSet)",
      );
    }
  }),
};

export const retentionPolicies = [
  s3LifecycleRetention,
  elasticsearchAuditRetention,
  prometheusRetention,
  statefulDataOnPersistentVolumes,
];
