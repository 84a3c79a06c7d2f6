import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

/** Where the scripts live: real files, so shellcheck and the round-trip test run exactly what is mounted. */
export const SCRIPTS_DIR = path.join(__dirname, "scripts");

/** Path inside the containers where the scripts ConfigMap is mounted. */
export const SCRIPTS_MOUNT_PATH = "/opt/backup/scripts";

/** The script files every job needs by name (the ConfigMap holds all of them; they source backup-common.sh). */
export const SCRIPT = {
  common: "backup-common.sh",
  backupDatabase: "backup-database.sh",
  restoreDatabase: "restore-database.sh",
  verifyRestore: "verify-restore.sh",
  backupKubernetes: "backup-kubernetes.sh",
  maintenance: "database-maintenance.sh",
  healthReport: "health-report.sh",
} as const;

export type ScriptName = (typeof SCRIPT)[keyof typeof SCRIPT];

/**
 * Every script as ConfigMap data: file name -> content, read from components/backup/scripts. The BackupJobs
 * component mounts exactly this, and the tests run exactly this (written out to a temporary directory).
 * Throws if a script the jobs call is missing, so a renamed file fails the plan rather than the 2 a.m. job.
 */
export function backupScripts(dir: string = SCRIPTS_DIR): Record<string, string> {
  const scripts: Record<string, string> = {};
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith(".sh")) scripts[file] = readFileSync(path.join(dir, file), "utf8");
  }
  const missing = Object.values(SCRIPT).filter((name) => !(name in scripts));
  if (missing.length > 0) throw new Error(`backup scripts missing from ${dir}: ${missing.join(", ")}`);
  return scripts;
}
