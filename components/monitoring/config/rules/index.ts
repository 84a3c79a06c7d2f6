import type { AlertRule, InhibitGroup, RuleFile } from "../types";
import { toYaml } from "../yaml";
import { applicationRules } from "./application";
import { type BackupRuleArgs, backupRules } from "./backups";
import { certificateRules } from "./certificates";
import { elasticsearchRules } from "./elasticsearch";
import { nodeRules } from "./nodes";
import { platformRules } from "./platform";
import { securityRules } from "./security";

export type { BackupRuleArgs } from "./backups";

/** Where docs/runbooks/ is published; every alert's runbook_url is `<base>/<AlertName>.md`. */
export const DEFAULT_RUNBOOK_BASE_URL = "https://github.com/zarish-sphere/zarish-sphere-ops/blob/main/docs/runbooks";

/**
 * The backup helper's CronJobs (components/backup): `database-backup` and `restore-verification` in namespace
 * `backup`, both daily.
 */
export const DEFAULT_DATABASE_BACKUP: Required<BackupRuleArgs> = {
  namespace: "backup",
  cronJob: "database-backup",
  maxAgeHours: 26,
  restoreVerificationCronJob: "restore-verification",
};

export interface AlertRuleArgs {
  /** Base URL of the runbooks (no trailing slash needed). Default: DEFAULT_RUNBOOK_BASE_URL. */
  readonly runbookBaseUrl?: string;
  /**
   * The backup and restore verification CronJobs the backup alerts watch. Default: DEFAULT_DATABASE_BACKUP, field
   * by field.
   */
  readonly databaseBackup?: Partial<BackupRuleArgs>;
}

export interface ResolvedAlertRuleArgs {
  readonly runbookBaseUrl: string;
  readonly databaseBackup: Required<BackupRuleArgs>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Defaults and validation (all problems in one error). */
export function resolveAlertRuleArgs(args: AlertRuleArgs = {}): ResolvedAlertRuleArgs {
  const runbookBaseUrl = (args.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL).replace(/\/+$/, "");
  const databaseBackup: Required<BackupRuleArgs> = {
    namespace: args.databaseBackup?.namespace ?? DEFAULT_DATABASE_BACKUP.namespace,
    cronJob: args.databaseBackup?.cronJob ?? DEFAULT_DATABASE_BACKUP.cronJob,
    maxAgeHours: args.databaseBackup?.maxAgeHours ?? DEFAULT_DATABASE_BACKUP.maxAgeHours,
    restoreVerificationCronJob:
      args.databaseBackup?.restoreVerificationCronJob ?? DEFAULT_DATABASE_BACKUP.restoreVerificationCronJob,
  };
  const problems: string[] = [];
  if (!/^https?:\/\/[^\s"']+$/.test(runbookBaseUrl)) {
    problems.push(`runbookBaseUrl must be an http(s) URL (got "${runbookBaseUrl}")`);
  }
  if (!DNS_LABEL.test(databaseBackup.namespace)) {
    problems.push(`databaseBackup.namespace must be a DNS-1123 label (got "${databaseBackup.namespace}")`);
  }
  if (!DNS_LABEL.test(databaseBackup.cronJob)) {
    problems.push(`databaseBackup.cronJob must be a DNS-1123 label (got "${databaseBackup.cronJob}")`);
  }
  if (!DNS_LABEL.test(databaseBackup.restoreVerificationCronJob)) {
    problems.push(
      `databaseBackup.restoreVerificationCronJob must be a DNS-1123 label (got "${databaseBackup.restoreVerificationCronJob}")`,
    );
  }
  if (!Number.isInteger(databaseBackup.maxAgeHours) || databaseBackup.maxAgeHours < 1) {
    problems.push(`databaseBackup.maxAgeHours must be an integer >= 1 (got ${databaseBackup.maxAgeHours})`);
  }
  if (problems.length > 0) throw new Error(`alert rules: ${problems.join("; ")}`);
  return { runbookBaseUrl, databaseBackup };
}

/** Every rule file, by domain. */
export function alertRuleFiles(args: AlertRuleArgs = {}): readonly RuleFile[] {
  const r = resolveAlertRuleArgs(args);
  return [
    applicationRules,
    securityRules,
    certificateRules,
    backupRules(r.databaseBackup),
    platformRules,
    nodeRules,
    elasticsearchRules,
  ];
}

/** Every alert of every file, flattened (for tests, runbook checks and the docs index). */
export function allAlertRules(args: AlertRuleArgs = {}): readonly AlertRule[] {
  return alertRuleFiles(args).flatMap((f) => f.groups.flatMap((g) => g.rules));
}

/**
 * How each inhibition group decides that two alerts are about the same thing. Alertmanager treats a label that
 * is missing on both alerts as equal, so each list names only labels both alerts of the group carry.
 */
export const INHIBIT_GROUPS: readonly InhibitGroup[] = [
  { name: "http-slo", equal: ["job"] },
  { name: "authentication", equal: ["job"] },
  { name: "filesystem", equal: ["instance", "mountpoint", "device"] },
  { name: "certificate-expiry", equal: ["namespace", "name"] },
  { name: "database-backup", equal: ["namespace"] },
  { name: "restore-verification", equal: ["namespace"] },
  { name: "elasticsearch-health", equal: ["cluster"] },
  { name: "service-availability", equal: ["job"] },
];

/** The alert label that carries the inhibition group. */
export const INHIBIT_GROUP_LABEL = "inhibit_group";

export function runbookUrl(baseUrl: string, alertName: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/${alertName}.md`;
}

function renderRule(rule: AlertRule, baseUrl: string): Record<string, unknown> {
  return {
    alert: rule.name,
    expr: rule.expr,
    ...(rule.for === undefined ? {} : { for: rule.for }),
    labels: {
      severity: rule.severity,
      ...(rule.inhibitGroup === undefined ? {} : { [INHIBIT_GROUP_LABEL]: rule.inhibitGroup }),
    },
    annotations: {
      summary: rule.summary,
      description: rule.description,
      runbook_url: runbookUrl(baseUrl, rule.name),
    },
  };
}

/**
 * The Prometheus rule files, by file name (keys of the rules ConfigMap; prometheus.yml loads them with a glob).
 */
export function renderRuleFiles(args: AlertRuleArgs = {}): Record<string, string> {
  const r = resolveAlertRuleArgs(args);
  const files: Record<string, string> = {};
  for (const file of alertRuleFiles(r)) {
    files[file.file] = toYaml(
      {
        groups: file.groups.map((g) => ({
          name: g.name,
          rules: g.rules.map((rule) => renderRule(rule, r.runbookBaseUrl)),
        })),
      },
      "components/monitoring/config/rules",
    );
  }
  return files;
}
