import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import * as yaml from "js-yaml";
import {
  alertRuleFiles,
  allAlertRules,
  DEFAULT_RUNBOOK_BASE_URL,
  INHIBIT_GROUPS,
  renderRuleFiles,
  resolveAlertRuleArgs,
} from "../components/monitoring/config";
import { runTool, tempDir, writeFiles } from "./promtool/check";

const ROOT = join(__dirname, "..");
const RUNBOOKS = join(ROOT, "docs", "runbooks");

interface RenderedRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function renderedRules(files: Record<string, string>): RenderedRule[] {
  return Object.values(files).flatMap((text) =>
    (yaml.load(text) as { groups: { rules: RenderedRule[] }[] }).groups.flatMap((g) => g.rules),
  );
}

test("promtool check rules accepts every rendered rule file", (t) => {
  const files = renderRuleFiles();
  const dir = writeFiles(tempDir("rules"), files);
  for (const name of Object.keys(files)) {
    const r = runTool("promtool", ["check", "rules", join(dir, name)]);
    t.is(r.status, 0, `${name}:\n${r.output}`);
  }
});

test("promtool check rules rejects a broken expression (the check can fail)", (t) => {
  const dir = writeFiles(tempDir("rules-broken"), {
    "broken.rules.yml": "groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum by (job (up)\n",
  });
  const r = runTool("promtool", ["check", "rules", join(dir, "broken.rules.yml")]);
  t.not(r.status, 0);
});

test("every alert has a unique name, a known severity, summary, description and runbook_url", (t) => {
  const rules = renderedRules(renderRuleFiles());
  const names = rules.map((r) => r.alert);
  t.deepEqual([...new Set(names)], names, "alert names must be unique");
  for (const r of rules) {
    t.true(["critical", "warning", "info"].includes(r.labels.severity), `${r.alert} severity`);
    t.truthy(r.annotations.summary, `${r.alert} summary`);
    t.truthy(r.annotations.description, `${r.alert} description`);
    t.is(r.annotations.runbook_url, `${DEFAULT_RUNBOOK_BASE_URL}/${r.alert}.md`);
  }
});

test("every alert has its runbook in docs/runbooks, and the index links it", (t) => {
  const index = readFileSync(join(RUNBOOKS, "README.md"), "utf8");
  for (const rule of allAlertRules()) {
    const file = join(RUNBOOKS, `${rule.name}.md`);
    t.true(existsSync(file), `missing runbook docs/runbooks/${rule.name}.md`);
    if (existsSync(file)) {
      const text = readFileSync(file, "utf8");
      t.true(text.startsWith(`# ${rule.name}`), `${rule.name}.md must start with "# ${rule.name}"`);
      for (const section of ["## What it means", "## Impact", "## First checks", "## Mitigation", "## Escalation"]) {
        t.true(text.includes(section), `${rule.name}.md lacks "${section}"`);
      }
    }
    t.true(index.includes(`(${rule.name}.md)`), `docs/runbooks/README.md does not link ${rule.name}.md`);
  }
  t.true(existsSync(join(RUNBOOKS, "system-outage.md")));
  t.true(index.includes("(system-outage.md)"));
});

test("runbook commands are Kubernetes commands, not the seed's host commands", (t) => {
  for (const rule of [...allAlertRules().map((r) => `${r.name}.md`), "system-outage.md"]) {
    const file = join(RUNBOOKS, rule);
    if (!existsSync(file)) continue;
    const code = [...readFileSync(file, "utf8").matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]).join("\n");
    t.notRegex(code, /\b(systemctl|journalctl)\b|\/var\/log\//, `${rule} runs host commands`);
  }
  const outage = readFileSync(join(RUNBOOKS, "system-outage.md"), "utf8");
  t.regex(outage, /kubectl -n "\$APP_NS" logs deploy\/zarish-sphere-api/);
});

test("the seed's critical and security rules keep their names, thresholds and for", (t) => {
  const byName = new Map(allAlertRules().map((r) => [r.name, r]));
  const seed: [string, RegExp, string, string][] = [
    ["HighErrorRate", />\s*0\.05$/, "2m", "critical"],
    ["HighResponseTime", /histogram_quantile\(0\.95, sum by \(le, job\) .*\)\s*>\s*1$/, "5m", "warning"],
    ["DatabaseConnectionsHigh", /^sum by \(.*\) \(pg_stat_activity_count\) > 80$/, "3m", "warning"],
    ["DiskSpaceLow", /\* 100 < 10\n/, "1m", "critical"],
    ["FailedAuthenticationAttempts", /rate\(zarish_auth_failures_total\[5m\]\)\) > 10$/, "1m", "warning"],
    ["UnauthorizedAPIAccess", /rate\(http_requests_total\{status="401"\}\[5m\]\)\) > 5$/, "2m", "critical"],
    ["SuspiciousDataAccess", /increase\(zarish_patient_access_total\[1h\]\)\) > 1000$/, "5m", "warning"],
  ];
  for (const [name, expr, forDuration, severity] of seed) {
    const rule = byName.get(name);
    if (rule === undefined) {
      t.fail(`${name} missing`);
      continue;
    }
    t.regex(rule.expr, expr, name);
    t.is(rule.for, forDuration, `${name} for`);
    t.is(rule.severity as string, severity, `${name} severity`);
  }
  // DiskSpaceLow ignores memory-backed and container filesystems.
  t.regex(byName.get("DiskSpaceLow")?.expr ?? "", /fstype!~"[^"]*tmpfs[^"]*overlay/);
});

test("inhibition groups pair a critical alert with at least one warning", (t) => {
  const rules = allAlertRules();
  for (const group of INHIBIT_GROUPS) {
    const members = rules.filter((r) => r.inhibitGroup === group.name);
    t.true(
      members.some((r) => r.severity === "critical"),
      `${group.name} has no critical alert`,
    );
    t.true(
      members.some((r) => r.severity === "warning"),
      `${group.name} has no warning alert`,
    );
    t.true(group.equal.length > 0, `${group.name} has no equal labels`);
  }
  const known = new Set(INHIBIT_GROUPS.map((g) => g.name));
  for (const r of rules) if (r.inhibitGroup !== undefined) t.true(known.has(r.inhibitGroup), r.name);
});

test("rule files are split by domain and every group name is unique", (t) => {
  const files = alertRuleFiles();
  t.deepEqual(
    files.map((f) => f.file),
    [
      "application.rules.yml",
      "security.rules.yml",
      "certificates.rules.yml",
      "backups.rules.yml",
      "platform.rules.yml",
      "nodes.rules.yml",
      "elasticsearch.rules.yml",
    ],
  );
  const groups = files.flatMap((f) => f.groups.map((g) => g.name));
  t.deepEqual([...new Set(groups)], groups);
});

test("defaults: runbook base URL, CronJobs backup/database-backup and backup/restore-verification, 26 hours", (t) => {
  t.deepEqual(resolveAlertRuleArgs(), {
    runbookBaseUrl: "https://github.com/zarish-sphere/zarish-sphere-ops/blob/main/docs/runbooks",
    databaseBackup: {
      namespace: "backup",
      cronJob: "database-backup",
      maxAgeHours: 26,
      restoreVerificationCronJob: "restore-verification",
    },
  });
});

test("custom runbook URL and backup CronJob reach the rendered rules", (t) => {
  const files = renderRuleFiles({
    runbookBaseUrl: "https://git.example.org/ops/runbooks/",
    databaseBackup: { namespace: "dr", cronJob: "pg-backup", maxAgeHours: 30 },
  });
  const rules = renderedRules(files);
  const tooOld = rules.find((r) => r.alert === "DatabaseBackupTooOld");
  t.is(tooOld?.annotations.runbook_url, "https://git.example.org/ops/runbooks/DatabaseBackupTooOld.md");
  t.regex(
    tooOld?.expr ?? "",
    /kube_cronjob_status_last_successful_time\{namespace="dr", cronjob="pg-backup"\}\) > 30 \* 3600/,
  );
  const failed = rules.find((r) => r.alert === "DatabaseBackupFailed");
  t.regex(failed?.expr ?? "", /owner_name="pg-backup"/);
  t.regex(files["backups.rules.yml"], /30 hours/);
  // The restore verification keeps its default name, in the backup's namespace.
  const verification = rules.find((r) => r.alert === "RestoreVerificationFailed");
  t.regex(verification?.expr ?? "", /owner_name="restore-verification"/);
  t.regex(verification?.expr ?? "", /cronjob="restore-verification"\}/);
  t.regex(verification?.expr ?? "", /kube_job_failed\{namespace="dr"/);
});

test("a custom restore verification CronJob reaches its alerts, and only its alerts", (t) => {
  const rules = renderedRules(renderRuleFiles({ databaseBackup: { restoreVerificationCronJob: "pg-verify" } }));
  const expr = (name: string) => rules.find((r) => r.alert === name)?.expr ?? "";
  t.regex(expr("RestoreVerificationFailed"), /owner_name="pg-verify"/);
  t.regex(
    expr("RestoreVerificationFailed"),
    /kube_cronjob_status_last_successful_time\{namespace="backup", cronjob="pg-verify"\}/,
  );
  t.regex(
    expr("RestoreVerificationTooOld"),
    /absent\(kube_cronjob_created\{namespace="backup", cronjob="pg-verify"\}\)/,
  );
  t.notRegex(expr("DatabaseBackupFailed"), /pg-verify/);
  t.notRegex(expr("DatabaseBackupTooOld"), /pg-verify/);
});

test("a runbook base URL that is not http(s) is refused", (t) => {
  t.throws(() => renderRuleFiles({ runbookBaseUrl: "docs/runbooks" }), {
    message: /runbookBaseUrl must be an http\(s\) URL \(got "docs\/runbooks"\)/,
  });
});

test("a backup namespace that is not a DNS label is refused", (t) => {
  t.throws(() => renderRuleFiles({ databaseBackup: { namespace: "Backup_NS" } }), {
    message: /databaseBackup.namespace must be a DNS-1123 label \(got "Backup_NS"\)/,
  });
});

test("a backup CronJob name that is not a DNS label is refused", (t) => {
  t.throws(() => renderRuleFiles({ databaseBackup: { cronJob: "db backup" } }), {
    message: /databaseBackup.cronJob must be a DNS-1123 label \(got "db backup"\)/,
  });
});

test("a restore verification CronJob name that is not a DNS label is refused", (t) => {
  t.throws(() => renderRuleFiles({ databaseBackup: { restoreVerificationCronJob: "Restore_Verify" } }), {
    message: /databaseBackup.restoreVerificationCronJob must be a DNS-1123 label \(got "Restore_Verify"\)/,
  });
});

test("a backup age that is not a whole number of hours >= 1 is refused", (t) => {
  t.throws(() => renderRuleFiles({ databaseBackup: { maxAgeHours: 0.5 } }), {
    message: /databaseBackup.maxAgeHours must be an integer >= 1 \(got 0.5\)/,
  });
});

test("every problem is reported at once", (t) => {
  const error = t.throws(() =>
    renderRuleFiles({ runbookBaseUrl: "x", databaseBackup: { cronJob: "A", maxAgeHours: 0 } }),
  );
  t.regex(error?.message ?? "", /runbookBaseUrl.*cronJob.*maxAgeHours/);
});
