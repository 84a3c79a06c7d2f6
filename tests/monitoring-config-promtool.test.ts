import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import * as yaml from "js-yaml";
import { allAlertRules, renderRuleFiles } from "../components/monitoring/config";
import { runTool, tempDir, writeFiles } from "./promtool/check";

/**
 * The alert rules' unit tests (tests/promtool/*.test.yml) run by `promtool test rules` against the rule files
 * as rendered now, so a change to the typed rules that breaks an expectation fails here.
 */

const PROMTOOL_TESTS = join(__dirname, "promtool");
/** Alerts that fire by design whatever the input: they have no quiet case. */
const ALWAYS_FIRING = new Set(["Watchdog"]);

interface UnitTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

function testFiles(): string[] {
  return readdirSync(PROMTOOL_TESTS)
    .filter((f) => f.endsWith(".test.yml"))
    .sort();
}

function load(file: string): UnitTestFile {
  return yaml.load(readFileSync(join(PROMTOOL_TESTS, file), "utf8")) as UnitTestFile;
}

/** The rendered rule files and the unit tests side by side, as promtool resolves rule_files relative to the test. */
function stage(): string {
  const dir = writeFiles(tempDir("promtool-test"), renderRuleFiles());
  for (const f of testFiles()) copyFileSync(join(PROMTOOL_TESTS, f), join(dir, f));
  return dir;
}

test("promtool test rules passes every unit test in tests/promtool", (t) => {
  const dir = stage();
  const files = testFiles();
  t.true(files.length >= 7, `expected one unit test file per rule file, found ${files.join(", ")}`);
  const r = runTool("promtool", ["test", "rules", ...files], dir);
  t.is(r.status, 0, r.output);
  t.notRegex(r.output, /FAILED/);
});

test("every alert has a unit test where it fires and one where it stays quiet", (t) => {
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const file of testFiles()) {
    for (const group of load(file).tests) {
      for (const c of group.alert_rule_test ?? []) {
        ((c.exp_alerts ?? []).length > 0 ? fires : quiet).add(c.alertname);
      }
    }
  }
  const alerts = allAlertRules().map((r) => r.name);
  const untestedFiring = alerts.filter((a) => !fires.has(a));
  const untestedQuiet = alerts.filter((a) => !quiet.has(a) && !ALWAYS_FIRING.has(a));
  t.deepEqual(untestedFiring, [], "alerts without a promtool case where they fire");
  t.deepEqual(untestedQuiet, [], "alerts without a promtool case where they stay quiet");
  const unknown = [...fires, ...quiet].filter((a) => !alerts.includes(a));
  t.deepEqual(unknown, [], "unit tests name alerts that no longer exist");
});

test("every unit test file loads rule files that are rendered", (t) => {
  const rendered = new Set(Object.keys(renderRuleFiles()));
  for (const file of testFiles()) {
    for (const ruleFile of load(file).rule_files) t.true(rendered.has(ruleFile), `${file} loads ${ruleFile}`);
  }
});

test("a wrong expectation makes promtool test rules fail (the harness can fail)", (t) => {
  const dir = stage();
  const original = readFileSync(join(dir, "application.test.yml"), "utf8");
  const broken = original.replace(
    "severity: critical\n              inhibit_group: http-slo",
    "severity: warning\n              inhibit_group: http-slo",
  );
  t.not(broken, original);
  writeFileSync(join(dir, "application.test.yml"), broken);
  const r = runTool("promtool", ["test", "rules", "application.test.yml"], dir);
  t.not(r.status, 0);
  t.regex(r.output, /HighErrorRate/);
});
