/**
 * Runs the backup scripts exactly as the BackupJobs ConfigMap mounts them: `backupScripts()` written out to a
 * temporary folder, each run with `bash` and a clean environment (nothing inherited but PATH's system folders).
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { backupScripts } from "../../components/backup/scripts";
import { awsCli } from "./s3";
import { requireTool } from "./tools";

export interface ScriptResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** What the script left in its BACKUP_WORK_DIR (a fresh directory per run); it must clean up after itself. */
  readonly leftovers: string[];
}

/** The last non-empty line of stdout (the scripts print their result key there). */
export function lastLine(output: string): string {
  const lines = output.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

export interface RenderedScripts {
  readonly dir: string;
  run(
    script: string,
    env: Record<string, string>,
    options?: { pathPrepend?: readonly string[] },
  ): Promise<ScriptResult>;
  remove(): void;
}

/** Writes the rendered scripts to a temporary folder; `pgBinDir` puts the server's own client tools first. */
export function renderScripts(pgBinDir: string): RenderedScripts {
  const tools = ["bash", "gzip", "sha256sum", "awk", "sed", "openssl", "tar"].map((t) =>
    path.dirname(requireTool(t, t === "sha256sum" ? "coreutils" : t === "awk" ? "mawk" : t)),
  );
  const awsDir = path.dirname(awsCli());
  requireTool("pg_dump", "postgresql");
  const root = mkdtempSync(path.join(tmpdir(), "zarish-scripts-"));
  const dir = path.join(root, "scripts");
  const home = path.join(root, "home");
  for (const d of [dir, home]) mkdirSync(d);
  for (const [name, content] of Object.entries(backupScripts())) {
    writeFileSync(path.join(dir, name), content);
    chmodSync(path.join(dir, name), 0o755);
  }
  const basePath = [...new Set([pgBinDir, awsDir, ...tools, "/usr/bin", "/bin"])];
  return {
    dir,
    run(script, env, options = {}) {
      const workDir = mkdtempSync(path.join(root, "work-"));
      return new Promise((resolve) => {
        execFile(
          "bash",
          [path.join(dir, script)],
          {
            env: {
              PATH: [...(options.pathPrepend ?? []), ...basePath].join(":"),
              HOME: home,
              LANG: "C.UTF-8",
              BACKUP_WORK_DIR: workDir,
              ...env,
            },
            timeout: 120_000,
            maxBuffer: 64 * 1024 * 1024,
          },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
            resolve({ code, stdout, stderr, leftovers: readdirSync(workDir) });
          },
        );
      });
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
