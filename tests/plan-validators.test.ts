/**
 * The rendered plan of each stack, proven by the tools that will run it: what the containers will read (files/)
 * and what the API server will receive (manifests/). Builder-level tests live beside each component; these run
 * on the plan's own output, so a wiring mistake between the builders and the workloads is caught too.
 */

import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import * as yaml from "js-yaml";
import { backupScripts } from "../components/backup/scripts";
import { falcoRulesProblems } from "../components/security";
import { listFiles, renderedPlan } from "./helpers/plan";
import { schemaModel } from "./helpers/schema";
import { requireTool } from "./helpers/tools";
import { promtoolCheckableConfig, runTool, tempDir, writeFiles } from "./promtool/check";

const PROMTOOL_TESTS = join(__dirname, "promtool");

for (const stack of ["staging", "prod"] as const) {
  test(`${stack}: every manifest passes Kubernetes or cert-manager schema validation`, async (t) => {
    const { dir } = await renderedPlan(stack);
    const manifests = listFiles(join(dir, "manifests"));
    t.true(manifests.length > 100, `only ${manifests.length} manifests`);
    for (const file of manifests) {
      const doc = yaml.load(readFileSync(join(dir, "manifests", file), "utf8")) as { apiVersion: string; kind: string };
      const Model = await schemaModel(doc.apiVersion, doc.kind);
      if (!Model) {
        t.fail(`${file}: no schema for ${doc.apiVersion} ${doc.kind}`);
        continue;
      }
      // Secrets carry "[secret]" placeholders, which are valid strings for stringData.
      t.notThrows(() => new Model(doc).validate(), file);
    }
  });

  test(`${stack}: promtool accepts the rendered prometheus.yml and every rule file`, async (t) => {
    const { dir } = await renderedPlan(stack);
    const rulesDir = join(dir, "files", "monitoring", "prometheus-rules");
    const ruleFiles = readdirSync(rulesDir);
    t.true(ruleFiles.length >= 5);
    for (const f of ruleFiles) {
      const r = runTool("promtool", ["check", "rules", join(rulesDir, f)]);
      t.is(r.status, 0, `${f}: ${r.output}`);
    }
    const work = tempDir(`plan-${stack}-prometheus`);
    const sa = writeFiles(join(work, "sa"), { token: "dummy\n", "ca.crt": "dummy\n" });
    const yml = readFileSync(join(dir, "files", "monitoring", "prometheus-config", "prometheus.yml"), "utf8");
    writeFiles(work, {
      "prometheus.yml": promtoolCheckableConfig(yml, { serviceAccountDir: sa, ruleFilesGlob: `${rulesDir}/*.yml` }),
    });
    const r = runTool("promtool", ["check", "config", join(work, "prometheus.yml")]);
    t.is(r.status, 0, r.output);
    t.regex(r.output, new RegExp(`SUCCESS: ${ruleFiles.length} rule files found`));
  });

  test(`${stack}: promtool test rules passes on the rendered rule files`, async (t) => {
    const { dir } = await renderedPlan(stack);
    const work = tempDir(`plan-${stack}-promtool-tests`);
    const rulesDir = join(dir, "files", "monitoring", "prometheus-rules");
    for (const f of readdirSync(rulesDir)) copyFileSync(join(rulesDir, f), join(work, f));
    const tests = readdirSync(PROMTOOL_TESTS).filter((f) => f.endsWith(".test.yml"));
    t.true(tests.length >= 5);
    for (const f of tests) copyFileSync(join(PROMTOOL_TESTS, f), join(work, f));
    const r = runTool("promtool", ["test", "rules", ...tests], work);
    t.is(r.status, 0, r.output);
  });

  test(`${stack}: amtool accepts the rendered alertmanager.yml and routes critical to the pager and more`, async (t) => {
    const { dir } = await renderedPlan(stack);
    const text = readFileSync(join(dir, "files", "monitoring", "alertmanager-config", "alertmanager.yml"), "utf8");
    const work = tempDir(`plan-${stack}-alertmanager`);
    // The credential files come from a Secret mounted in the pod; stand dummies in at a local path.
    const secretsDir = join(work, "secrets");
    const paths = [...text.matchAll(/_file: (\S+)/g)].map((m) => m[1]);
    t.true(paths.length >= 3, "credentials are read from files");
    writeFiles(secretsDir, Object.fromEntries(paths.map((p) => [p.split("/").pop()!, "dummy\n"])));
    const local = paths.reduce((acc, p) => acc.replaceAll(p, join(secretsDir, p.split("/").pop()!)), text);
    writeFiles(work, { "alertmanager.yml": local });
    const file = join(work, "alertmanager.yml");
    const check = runTool("amtool", ["check-config", file]);
    t.is(check.status, 0, check.output);
    const routes = (severity: string) =>
      runTool("amtool", ["config", "routes", "test", `--config.file=${file}`, `severity=${severity}`])
        .stdout.trim()
        .split(",");
    t.true(routes("critical").includes("pager"));
    t.true(routes("critical").length >= 2);
    t.deepEqual(routes("warning").sort(), ["email", "slack"]);
    t.deepEqual(routes("info"), ["email"]);
  });

  test(`${stack}: the rendered Falco rules load as Falco reads a rules file`, async (t) => {
    const { dir } = await renderedPlan(stack);
    const rulesDir = join(dir, "files", "node-agents", "falco-rules");
    const files = readdirSync(rulesDir);
    t.true(files.length >= 1);
    for (const f of files) {
      const text = readFileSync(join(rulesDir, f), "utf8");
      t.deepEqual(falcoRulesProblems(text), [], f);
      t.false(text.includes("alert("), `${f} uses the seed's alert(...) output`);
    }
  });

  test(`${stack}: the mounted backup scripts are the tested ones, and shellcheck-clean as rendered`, async (t) => {
    const { dir } = await renderedPlan(stack);
    const scriptsDir = join(dir, "files", "backup", "backup-scripts");
    const rendered = Object.fromEntries(
      readdirSync(scriptsDir).map((f) => [f, readFileSync(join(scriptsDir, f), "utf8")]),
    );
    t.deepEqual(
      rendered,
      backupScripts(),
      "the round-trip test runs backupScripts(); the ConfigMap must hold the same",
    );
    t.truthy(rendered["backup-database.sh"]);
    t.truthy(rendered["restore-database.sh"]);
    const shellcheck = requireTool("shellcheck", "shellcheck");
    const r = spawnSync(shellcheck, ["-x", ...Object.keys(rendered)], { cwd: scriptsDir, encoding: "utf8" });
    t.is(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  test(`${stack}: no ConfigMap holds a secret`, async (t) => {
    const { plan } = await renderedPlan(stack);
    for (const r of plan.resources.filter((x) => x.type === "kubernetes:core/v1:ConfigMap")) {
      const text = JSON.stringify(r.inputs);
      t.false(text.includes("[secret]"), `${r.name} holds a secret value`);
    }
  });
}
