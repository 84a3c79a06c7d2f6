import type { RuleFile } from "../types";

export interface BackupRuleArgs {
  /** Namespace of the database backup CronJob (and of the restore verification CronJob). */
  readonly namespace: string;
  /** Name of the database backup CronJob. */
  readonly cronJob: string;
  /** Hours without a successful backup (or restore verification) before the ...TooOld alerts fire. */
  readonly maxAgeHours: number;
  /** Name of the daily restore verification CronJob, in the same namespace. Default "restore-verification". */
  readonly restoreVerificationCronJob?: string;
}

/**
 * No success of the CronJob in the last `maxAgeHours`, in three ways: the last success is too old; the CronJob has
 * never succeeded (no last-success series) since it was created long enough ago; the CronJob is gone.
 */
function cronJobTooOld(namespace: string, cronJob: string, maxAgeHours: number): string {
  const selector = `namespace="${namespace}", cronjob="${cronJob}"`;
  const maxAge = `${maxAgeHours} * 3600`;
  const lastSuccess = `kube_cronjob_status_last_successful_time{${selector}}`;
  return [
    `time() - max by (namespace, cronjob) (${lastSuccess}) > ${maxAge}`,
    "or",
    `time() - max by (namespace, cronjob) (kube_cronjob_created{${selector}}) > ${maxAge}`,
    `  unless on (namespace, cronjob) ${lastSuccess}`,
    "or",
    `absent(kube_cronjob_created{${selector}})`,
  ].join("\n");
}

/**
 * A failed Job of the CronJob that no later run has superseded. kube_job_failed{condition="true"} is the Job's
 * Failed condition (backoffLimit exhausted or deadline exceeded). The kube_job_status_failed counts failed
 * *pods*, which includes a pod that failed before a retry succeeded, so it would flag successful runs. A failed Job
 * stays in the CronJob's history, so it is ignored once a run that started later has succeeded.
 */
function cronJobFailed(namespace: string, cronJob: string): string {
  const lastSuccess = `kube_cronjob_status_last_successful_time{namespace="${namespace}", cronjob="${cronJob}"}`;
  return [
    `max by (namespace, job_name) (kube_job_failed{namespace="${namespace}", condition="true"}) == 1`,
    `and on (namespace, job_name) kube_job_owner{namespace="${namespace}", owner_kind="CronJob", owner_name="${cronJob}"}`,
    "unless on (namespace, job_name) (",
    `  kube_job_status_start_time{namespace="${namespace}"}`,
    `  < on (namespace) group_left () max by (namespace) (${lastSuccess})`,
    ")",
  ].join("\n");
}

/**
 * Backup freshness from kube-state-metrics, so the alert sees what Kubernetes saw (the CronJob's last success,
 * the Job's Failed condition) rather than trusting the backup script to report on itself. The same for the
 * restore verification (components/backup/scripts/verify-restore.sh), the only proof that the backups restore.
 */
export function backupRules(a: Required<BackupRuleArgs>): RuleFile {
  const restore = a.restoreVerificationCronJob;
  return {
    file: "backups.rules.yml",
    groups: [
      {
        name: "backups",
        rules: [
          {
            name: "DatabaseBackupTooOld",
            expr: cronJobTooOld(a.namespace, a.cronJob, a.maxAgeHours),
            for: "10m",
            // A day without a backup means an incident now loses more than a day of clinical records: page.
            severity: "critical",
            summary: `No successful database backup in the last ${a.maxAgeHours} hours`,
            description: `CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has had no successful run for more than ${a.maxAgeHours} hours (or has never succeeded, or does not exist): the newest database backup is older than the recovery point objective.`,
            inhibitGroup: "database-backup",
          },
          {
            name: "DatabaseBackupFailed",
            expr: cronJobFailed(a.namespace, a.cronJob),
            severity: "warning",
            summary: "Database backup job {{ $labels.job_name }} failed",
            description: `Backup Job {{ $labels.namespace }}/{{ $labels.job_name }} of CronJob ${a.cronJob} failed and no run has succeeded since. If the next run fails too, DatabaseBackupTooOld pages.`,
            inhibitGroup: "database-backup",
          },
          {
            name: "RestoreVerificationFailed",
            expr: cronJobFailed(a.namespace, restore),
            // Unlike a failed backup (the next night's run may still make the RPO), a failed verification says
            // the newest backup did not restore, or restored with tables missing or short: a backup that cannot
            // be restored is no backup, and nobody would know until the day it is needed. Page.
            severity: "critical",
            summary: "Restore verification job {{ $labels.job_name }} failed",
            description: `Restore verification Job {{ $labels.namespace }}/{{ $labels.job_name }} of CronJob ${restore} failed and no run has succeeded since: the newest database backup could not be shown to restore (restore failed, row counts differ from the live database, or the backup is missing or too old). Until a verification passes, treat the backups as unrestorable.`,
            inhibitGroup: "restore-verification",
          },
          {
            name: "RestoreVerificationTooOld",
            // Catches what RestoreVerificationFailed cannot see: no Job that failed, because none ran (CronJob
            // suspended, deleted, never scheduled) or one is stuck. Silenced while RestoreVerificationFailed fires.
            expr: cronJobTooOld(a.namespace, restore, a.maxAgeHours),
            for: "10m",
            severity: "warning",
            summary: `No successful restore verification in the last ${a.maxAgeHours} hours`,
            description: `CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} has had no successful run for more than ${a.maxAgeHours} hours (or has never succeeded, or does not exist): nothing has proved recently that the database backups restore.`,
            inhibitGroup: "restore-verification",
          },
        ],
      },
    ],
  };
}
