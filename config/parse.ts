import * as pulumi from "@pulumi/pulumi";
import { parseQuantity } from "../components/k8s/quantity";
import { readBackup } from "./backup";
import { formats, jvmHeapBytes, promDurationDays, promSizeBytes } from "./formats";
import { readLogging } from "./logging";
import { readMonitoring } from "./monitoring";
import { isPlainObject, ObjectReader, Problems, show } from "./reader";
import { readSecurity } from "./security";
import type { Environment, PlatformConfig } from "./types";

export const PROJECT = "zarish-sphere-ops";

/**
 * Secret keys: set with `pulumi config set --secret <key>`; they stay Pulumi secrets end to end. The offline
 * plan supplies placeholders for them (it cannot decrypt), so it imports this list rather than copying it.
 */
export const SECRET_KEYS = {
  slackWebhookUrl: "Slack incoming-webhook URL for alerts",
  pagerDutyRoutingKey: "PagerDuty Events v2 routing key for critical alerts",
  smtpPassword: "password of alerting.smtpUsername on the SMTP relay",
  postgresExporterPassword: "password of the postgres-exporter database role",
  redisPassword: "Redis AUTH password for the redis-exporter",
  backupDatabasePassword: "password of backup.database.user",
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

/** The sections of the project namespace; anything else there is a typo. */
const SECTIONS = [
  "environment",
  "domain",
  "drRegion",
  "eksOidcProviderArn",
  "kubernetes",
  "monitoring",
  "logging",
  "security",
  "backup",
];

/** Everything parseConfig reads: raw config as Pulumi stores it, already split into plain and secret values. */
export interface ConfigSource {
  readonly project: string;
  readonly stack: string;
  /** Non-secret values by full key ("zarish-sphere-ops:logging", "aws:region"): strings, objects as JSON text. */
  readonly values: Readonly<Record<string, string>>;
  /** Secret values by full key, as Pulumi secret Outputs. */
  readonly secrets: Readonly<Record<string, pulumi.Output<string>>>;
  /** Non-secret values of the staging stack, so prod can be checked against it; absent for staging. */
  readonly staging?: Readonly<Record<string, string>>;
}

export class ConfigError extends pulumi.RunError {
  constructor(
    readonly stack: string,
    readonly problems: readonly string[],
  ) {
    super(
      problems.length === 1
        ? `invalid configuration for stack "${stack}": ${problems[0]}`
        : `invalid configuration for stack "${stack}" (${problems.length} problems):\n  - ${problems.join("\n  - ")}`,
    );
    this.name = "ConfigError";
  }
}

/** Validates raw config into one frozen PlatformConfig, or throws one ConfigError listing every problem. */
export function parseConfig(source: ConfigSource): PlatformConfig {
  const problems = new Problems();
  const root = new ObjectReader(problems, `${PROJECT}:`, projectValues(source.values, problems));
  const environment = root.string("environment", { oneOf: ["staging", "prod"] }) as Environment;
  if ((source.stack === "staging" || source.stack === "prod") && environment && environment !== source.stack) {
    problems.add(
      `${PROJECT}:environment`,
      `must be "${source.stack}" in stack "${source.stack}" (got ${show(environment)})`,
    );
  }
  const env: Environment = environment === "prod" ? "prod" : "staging";
  const domain = root.string("domain", { ...formats.domain, example: "zarishsphere.com" });

  const region = source.values["aws:region"];
  if (region === undefined) problems.add("aws:region", "required key is missing (for example us-east-1)");
  else if (!formats.awsRegion.pattern.test(region)) {
    problems.add("aws:region", `must be ${formats.awsRegion.describe} (got ${show(region)})`);
  }
  const drRegion = root.string("drRegion", { ...formats.awsRegion, example: "us-west-2" });
  if (drRegion && drRegion === region) {
    problems.add(
      `${PROJECT}:drRegion`,
      `must differ from aws:region, or a regional outage takes the copies too (got ${show(drRegion)})`,
    );
  }
  const eksOidcProviderArn = root.string("eksOidcProviderArn", formats.oidcProviderArn);
  const issuer = /:oidc-provider\/(.+)$/.exec(eksOidcProviderArn)?.[1] ?? "";
  const issuerRegion = /^oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com/.exec(issuer)?.[1];
  if (issuerRegion && region && issuerRegion !== region) {
    problems.add(
      `${PROJECT}:eksOidcProviderArn`,
      `must be the provider of a cluster in aws:region ${region} (got one in ${issuerRegion})`,
    );
  }

  const k = root.object("kubernetes");
  const kubernetes = {
    storageClass: k.string("storageClass", { ...formats.dnsLabel, example: "gp3" }),
    ingressClass: k.string("ingressClass", { ...formats.dnsLabel, default: "nginx" }),
    applicationNamespace: k.string("applicationNamespace", { ...formats.dnsLabel, default: "zarish-sphere" }),
    databaseNamespace: k.string("databaseNamespace", { ...formats.dnsLabel, default: "zarish-data" }),
  };
  k.done();

  const monitoring = readMonitoring(root.object("monitoring"), env);
  const logging = readLogging(root.object("logging"), env);
  const security = readSecurity(root.object("security"), env);
  const backup = readBackup(root.object("backup"), env);
  root.done();

  const secret = (key: SecretKey): pulumi.Output<string> => {
    const value = source.secrets[`${PROJECT}:${key}`];
    if (value === undefined) {
      problems.add(
        `${PROJECT}:${key}`,
        `required secret is missing: set it with \`pulumi config set --secret ${key}\` (${SECRET_KEYS[key]})`,
      );
      return pulumi.secret("");
    }
    return value;
  };
  const config: PlatformConfig = {
    project: source.project,
    stack: source.stack,
    environment: env,
    domain,
    aws: {
      region: region ?? "",
      drRegion,
      eksOidcProviderArn,
      accountId: /::(\d{12}):/.exec(eksOidcProviderArn)?.[1] ?? "",
      eksOidcIssuer: issuer,
    },
    kubernetes,
    monitoring: {
      ...monitoring,
      secrets: {
        slackWebhookUrl: secret("slackWebhookUrl"),
        pagerDutyRoutingKey: secret("pagerDutyRoutingKey"),
        smtpPassword: secret("smtpPassword"),
        postgresExporterPassword: secret("postgresExporterPassword"),
        redisPassword: secret("redisPassword"),
      },
    },
    logging,
    security,
    backup: { ...backup, database: { ...backup.database, password: secret("backupDatabasePassword") } },
  };
  checkCrossFieldRules(config, problems);
  if (env === "prod" && source.staging) checkProdNotBelowStaging(config, source.staging, problems);
  if (!problems.empty) throw new ConfigError(source.stack, problems.messages);
  return deepFreeze(config);
}

/** Rules that relate several keys. Each names the key to change. */
export function checkCrossFieldRules(c: PlatformConfig, problems: Problems): void {
  const key = (k: string) => `${PROJECT}:${k}`;
  const prod = c.environment === "prod";
  const es = c.logging.elasticsearch;
  if (prod && es.replicas < 3) {
    problems.add(
      key("logging.elasticsearch.replicas"),
      `must be >= 3 in prod for a quorum of master-eligible nodes (got ${es.replicas})`,
    );
  }
  const heap = jvmHeapBytes(es.heapSize);
  const limit = parseQuantity(es.memoryLimit);
  if (heap && limit && limit < 2 * heap) {
    problems.add(
      key("logging.elasticsearch.memoryLimit"),
      `must be at least twice heapSize ${es.heapSize} (Lucene needs the rest as page cache) (got ${es.memoryLimit})`,
    );
  }
  if (parseQuantity(es.cpuRequest)! > parseQuantity(es.cpuLimit)!) {
    problems.add(key("logging.elasticsearch.cpuLimit"), `must be >= cpuRequest ${es.cpuRequest} (got ${es.cpuLimit})`);
  }
  if (prod && c.logging.auditRetentionDays < 2192) {
    problems.add(
      key("logging.auditRetentionDays"),
      `must be >= 2192 (six years, HIPAA 45 CFR 164.316(b)(2)) in prod (got ${c.logging.auditRetentionDays})`,
    );
  }
  if (c.logging.auditRetentionDays < c.logging.logRetentionDays) {
    problems.add(
      key("logging.auditRetentionDays"),
      `must be >= logging.logRetentionDays ${c.logging.logRetentionDays}: the audit trail outlives ordinary logs (got ${c.logging.auditRetentionDays})`,
    );
  }
  const p = c.monitoring.prometheus;
  const retentionBytes = promSizeBytes(p.retentionSize);
  const volumeBytes = parseQuantity(p.storageSize);
  if (retentionBytes && volumeBytes && retentionBytes >= volumeBytes * 0.9) {
    problems.add(
      key("monitoring.prometheus.retentionSize"),
      `must stay below 90% of storageSize ${p.storageSize}, or the volume fills before retention frees it (got ${p.retentionSize})`,
    );
  }
  if (prod && c.security.acme.server !== "production") {
    problems.add(
      key("security.acme.server"),
      `must be "production" in prod: staging certificates are not publicly trusted (got "${c.security.acme.server}")`,
    );
  }
  const domainValid = formats.domain.pattern.test(c.domain);
  const hosts: [string, readonly string[]][] = [
    ["security.certificateHosts", c.security.certificateHosts],
    ["security.apiHost", [c.security.apiHost]],
    ["monitoring.grafana.host", [c.monitoring.grafana.host]],
    ["logging.kibana.host", [c.logging.kibana.host]],
  ];
  for (const [hostKey, values] of domainValid ? hosts : []) {
    for (const host of values) {
      if (host && host !== c.domain && !host.endsWith(`.${c.domain}`)) {
        problems.add(key(hostKey), `every host must be within domain ${c.domain} (got "${host}")`);
      }
    }
  }
  const b = c.backup;
  if (prod && !b.objectLock) {
    problems.add(
      key("backup.objectLock"),
      "is required in prod (mode GOVERNANCE or COMPLIANCE and days), so backups cannot be deleted or overwritten",
    );
  }
  if (b.objectLock && b.objectLock.days > b.retentionDays) {
    problems.add(
      key("backup.objectLock.days"),
      `must be <= backup.retentionDays ${b.retentionDays}, or lifecycle expiry cannot remove locked backups (got ${b.objectLock.days})`,
    );
  }
  if (prod && !b.replication) {
    problems.add(
      key("backup.replication"),
      "must be true in prod: backups are replicated to drRegion for disaster recovery (got false)",
    );
  }
}

/** Retention keys whose prod value may not be below staging's: prod keeps at least what staging keeps. */
const RETENTION_KEYS: readonly {
  section: string;
  path: readonly string[];
  days: (v: unknown) => number | undefined;
}[] = [
  { section: "logging", path: ["logRetentionDays"], days: (v) => (typeof v === "number" ? v : undefined) },
  { section: "logging", path: ["auditRetentionDays"], days: (v) => (typeof v === "number" ? v : undefined) },
  { section: "backup", path: ["retentionDays"], days: (v) => (typeof v === "number" ? v : undefined) },
  { section: "backup", path: ["noncurrentRetentionDays"], days: (v) => (typeof v === "number" ? v : undefined) },
  {
    section: "monitoring",
    path: ["prometheus", "retentionTime"],
    days: (v) => (typeof v === "string" ? promDurationDays(v) : undefined),
  },
];

export function checkProdNotBelowStaging(
  prod: PlatformConfig,
  staging: Readonly<Record<string, string>>,
  problems: Problems,
): void {
  for (const rule of RETENTION_KEYS) {
    let stagingValue: unknown = parseJson(staging[`${PROJECT}:${rule.section}`]);
    let prodValue: unknown = prod[rule.section as "logging"];
    for (const part of rule.path) {
      stagingValue = isPlainObject(stagingValue) ? stagingValue[part] : undefined;
      prodValue = isPlainObject(prodValue) ? prodValue[part] : undefined;
    }
    const s = rule.days(stagingValue);
    const p = rule.days(prodValue);
    if (s !== undefined && p !== undefined && p < s) {
      problems.add(
        `${PROJECT}:${rule.section}.${rule.path.join(".")}`,
        `prod retention may not be below staging's ${show(stagingValue)} (got ${show(prodValue)})`,
      );
    }
  }
}

/** The project's own keys as one object, JSON values parsed; an unparsable value is a problem, not a crash. */
function projectValues(values: Readonly<Record<string, string>>, problems: Problems): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [fullKey, raw] of Object.entries(values)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const name = fullKey.slice(PROJECT.length + 1);
    if (name in SECRET_KEYS) {
      problems.add(
        fullKey,
        `is a secret and must be set with \`pulumi config set --secret ${name}\`, not in plain text`,
      );
      continue;
    }
    if (!SECTIONS.includes(name)) {
      out[name] = raw;
      continue;
    }
    out[name] = parseJson(raw);
  }
  return out;
}

/** Pulumi stores structured values as JSON text and scalars as plain text; numbers and booleans come back typed. */
function parseJson(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !pulumi.Output.isInstance(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
