import type { RuleFile } from "../types";

export interface BackupRuleArgs {
  /** Namespace of the database backup CronJob. */
  readonly namespace: string;
  /** Name of the database backup CronJob. */
  readonly cronJob: string;
  /** Hours without a successful backup before DatabaseBackupTooOld fires. */
  readonly maxAgeHours: number;
}

/**
 * Backup freshness from kube-state-metrics, so the alert sees what Kubernetes saw (the CronJob's last success,
 * the Job's Failed condition) rather than trusting the backup script to report on itself.
 */
export function backupRules(a: BackupRuleArgs): RuleFile {
  const cronJob = `namespace="${a.namespace}", cronjob="${a.cronJob}"`;
  const maxAge = `${a.maxAgeHours} * 3600`;
  const lastSuccess = `kube_cronjob_status_last_successful_time{${cronJob}}`;
  return {
    file: "backups.rules.yml",
    groups: [
      {
        name: "backups",
        rules: [
          {
            name: "DatabaseBackupTooOld",
            // Three ways to have no recent backup: the last success is too old; the CronJob has never
            // succeeded (no last-success series) since it was created long enough ago; the CronJob is gone.
            expr: [
              `time() - max by (namespace, cronjob) (${lastSuccess}) > ${maxAge}`,
              "or",
              `time() - max by (namespace, cronjob) (kube_cronjob_created{${cronJob}}) > ${maxAge}`,
              `  unless on (namespace, cronjob) ${lastSuccess}`,
              "or",
              `absent(kube_cronjob_created{${cronJob}})`,
            ].join("\n"),
            for: "10m",
            // A day without a backup means an incident now loses more than a day of clinical records: page.
            severity: "critical",
            summary: `No successful database backup in the last ${a.maxAgeHours} hours`,
            description: `CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has had no successful run for more than ${a.maxAgeHours} hours (or has never succeeded, or does not exist): the newest database backup is older than the recovery point objective.`,
            inhibitGroup: "database-backup",
          },
          {
            name: "DatabaseBackupFailed",
            // kube_job_failed{condition="true"} is the Job's Failed condition (backoffLimit exhausted). The
            // issue's kube_job_status_failed counts failed *pods*, which includes a pod that failed before a
            // retry succeeded, so it would flag successful backups. A failed Job stays in the CronJob's history,
            // so it is ignored once a later run has succeeded.
            expr: [
              `max by (namespace, job_name) (kube_job_failed{namespace="${a.namespace}", condition="true"}) == 1`,
              `and on (namespace, job_name) kube_job_owner{namespace="${a.namespace}", owner_kind="CronJob", owner_name="${a.cronJob}"}`,
              "unless on (namespace, job_name) (",
              `  kube_job_status_start_time{namespace="${a.namespace}"}`,
              `  < on (namespace) group_left () max by (namespace) (${lastSuccess})`,
              ")",
            ].join("\n"),
            severity: "warning",
            summary: "Database backup job {{ $labels.job_name }} failed",
            description: `Backup Job {{ $labels.namespace }}/{{ $labels.job_name }} of CronJob ${a.cronJob} failed and no run has succeeded since. If the next run fails too, DatabaseBackupTooOld pages.`,
            inhibitGroup: "database-backup",
          },
        ],
      },
    ],
  };
}
