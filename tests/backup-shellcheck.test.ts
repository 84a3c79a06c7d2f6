/** The backup scripts, as the ConfigMap mounts them, pass shellcheck and keep the conventions their jobs rely on. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import test from "ava";
import { backupScripts, SCRIPT } from "../components/backup/scripts";
import { requireTool } from "./helpers/tools";

test("every backup script passes shellcheck (sourced files followed)", async (t) => {
  const shellcheck = requireTool("shellcheck", "shellcheck");
  const dir = mkdtempSync(path.join(tmpdir(), "zarish-shellcheck-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const scripts = backupScripts();
  for (const [name, content] of Object.entries(scripts)) writeFileSync(path.join(dir, name), content);
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      shellcheck,
      ["--external-sources", "--severity=style", "--format=gcc", ...Object.keys(scripts)],
      { cwd: dir },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
  t.is(result.output, "");
  t.is(result.code, 0);
});

test("the ConfigMap holds every script the jobs call, each strict bash", (t) => {
  const scripts = backupScripts();
  t.deepEqual(Object.keys(scripts).sort(), Object.values(SCRIPT).sort());
  for (const [name, content] of Object.entries(scripts)) {
    if (name === SCRIPT.common) {
      t.true(content.startsWith("# shellcheck shell=bash"), `${name} is sourced, not run`);
      continue;
    }
    t.true(content.startsWith("#!/usr/bin/env bash\n"), `${name}: shebang`);
    t.regex(content, /^set -euo pipefail$/m, `${name}: strict mode`);
    t.regex(
      content,
      /^source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/backup-common\.sh"$/m,
      `${name}: shared helpers`,
    );
  }
});

test("no script deletes backups or sends mail: retention is the bucket's lifecycle, reports go to the logs", (t) => {
  for (const [name, content] of Object.entries(backupScripts())) {
    const code = content
      .split("\n")
      .filter((line) => !line.trim().startsWith("#"))
      .join("\n");
    t.notRegex(code, /\bfind\b[^\n]*-delete/, name);
    t.notRegex(code, /\b(s3 rm|delete-object|rb s3)\b/, name);
    t.notRegex(code, /^\s*(mail|sendmail|mailx)\b/m, name);
    t.notRegex(code, /REINDEX DATABASE(?! CONCURRENTLY)/, name);
  }
});

test("backupScripts fails, naming the file, when a script the jobs call is missing", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "zarish-scripts-missing-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, SCRIPT.backupDatabase), "#!/usr/bin/env bash\n");
  const error = t.throws(() => backupScripts(dir));
  t.regex(error.message, /backup scripts missing from .*: backup-common\.sh, restore-database\.sh/);
});
