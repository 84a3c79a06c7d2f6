import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import Ajv from "ajv";
import test from "ava";
import * as yaml from "js-yaml";
import { listFiles, renderedPlan } from "./helpers/plan";

const ROOT = path.resolve(__dirname, "..");
const schema = JSON.parse(readFileSync(path.join(ROOT, "tools", "plan.schema.json"), "utf8"));

/** Runs the plan tool as a user would, from `cwd` (a copy of the project for broken stack files). */
function plan(args: string[], cwd = ROOT): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [path.join(cwd, "tools", "run.js"), "plan", ...args], {
      cwd,
      encoding: "utf8",
      stdio: "pipe",
    });
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A throw-away copy of the project (sources only; node_modules linked) whose stack files a test may break. */
function projectCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "zarish-plan-"));
  for (const entry of [
    "index.ts",
    "config",
    "components",
    "tools",
    "policies",
    "tsconfig.json",
    "package.json",
    "Pulumi.yaml",
    "Pulumi.staging.yaml",
    "Pulumi.prod.yaml",
  ]) {
    if (existsSync(path.join(ROOT, entry))) cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  execFileSync("ln", ["-s", path.join(ROOT, "node_modules"), path.join(dir, "node_modules")]);
  return dir;
}

for (const stack of ["staging", "prod"] as const) {
  test(`${stack}: plan.json matches the contract's schema`, async (t) => {
    const { plan } = await renderedPlan(stack);
    const validate = new Ajv({ allErrors: true }).compile(schema);
    t.true(validate(plan), JSON.stringify(validate.errors, null, 2));
    t.is(plan.project, "zarish-sphere-ops");
    t.is(plan.stack, stack);
  });

  test(`${stack}: every dependency and parent names a resource of the plan`, async (t) => {
    const { plan } = await renderedPlan(stack);
    const urns = new Set(plan.resources.map((r) => r.urn));
    t.is(urns.size, plan.resources.length, "URNs are unique");
    for (const r of plan.resources) {
      for (const dep of [...r.dependencies, ...Object.values(r.propertyDependencies).flat()])
        t.true(urns.has(dep), `${r.urn} -> ${dep}`);
      if (r.parent !== null) t.true(urns.has(r.parent), `${r.urn} parent ${r.parent}`);
      for (const deps of Object.values(r.propertyDependencies))
        for (const d of deps) t.true(r.dependencies.includes(d));
    }
  });

  test(`${stack}: every Kubernetes object has a manifest and every ConfigMap key a file`, async (t) => {
    const { dir, plan } = await renderedPlan(stack);
    const manifests = new Set(listFiles(path.join(dir, "manifests")));
    const files = new Set(listFiles(path.join(dir, "files")));
    for (const r of plan.resources) {
      if (!r.type.startsWith("kubernetes:") || r.type.startsWith("kubernetes:helm.sh")) continue;
      const m = r.inputs.metadata as { name: string; namespace?: string };
      const rel = path.join(m.namespace ?? "_cluster", `${r.inputs.kind}-${m.name}.yaml`);
      t.true(manifests.has(rel), rel);
      const doc = yaml.load(readFileSync(path.join(dir, "manifests", rel), "utf8")) as Record<string, unknown>;
      t.deepEqual(doc, r.inputs);
      if (r.inputs.kind === "ConfigMap") {
        for (const [key, value] of Object.entries((r.inputs.data ?? {}) as Record<string, string>)) {
          const f = path.join(m.namespace!, m.name, key);
          t.true(files.has(f), f);
          t.is(readFileSync(path.join(dir, "files", f), "utf8"), value);
        }
      }
    }
  });

  test(`${stack}: no secret value appears anywhere in the output`, async (t) => {
    const { dir, plan, stdout } = await renderedPlan(stack);
    const everything = [stdout, readFileSync(path.join(dir, "plan.json"), "utf8")];
    for (const f of listFiles(dir)) everything.push(readFileSync(path.join(dir, f), "utf8"));
    const text = everything.join("\n");
    // The offline placeholders of the secret config keys and of random passwords must never leak.
    t.false(text.includes("offline-placeholder-"), "a secret config placeholder leaked");
    t.false(/mock-[a-z0-9-]+-[0-9a-f]{8}/.test(text), "a random password leaked");
    for (const secret of plan.resources.filter((r) => r.type === "kubernetes:core/v1:Secret")) {
      for (const field of ["data", "stringData"]) {
        const values = secret.inputs[field] ?? {};
        if (typeof values === "string") t.is(values, "[secret]");
        else for (const v of Object.values(values as Record<string, unknown>)) t.is(v, "[secret]");
      }
    }
  });
}

test("an unknown stack exits 2 with one line naming it", (t) => {
  const r = plan(["--stack", "qa", "--out", mkdtempSync(path.join(tmpdir(), "p-"))]);
  t.is(r.code, 2);
  t.is(r.stderr.trim(), 'error: unknown stack "qa": no Pulumi.qa.yaml (stacks: prod, staging)');
});

test("a malformed stack file exits 2 with one line naming the file and the line", (t) => {
  const dir = projectCopy();
  writeFileSync(path.join(dir, "Pulumi.staging.yaml"), "config:\n  aws:region: us-east-1\n   bad: [indent\n");
  const r = plan(["--stack", "staging", "--out", path.join(dir, "out")], dir);
  t.is(r.code, 2);
  t.is(r.stderr.trim().split("\n").length, 1);
  t.regex(r.stderr, /^error: .*Pulumi\.staging\.yaml:\d+: malformed YAML/);
});

test("a missing required key exits 2 with one line naming the key", (t) => {
  const dir = projectCopy();
  const file = path.join(dir, "Pulumi.staging.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace(/^ {2}zarish-sphere-ops:domain: .*\n/m, ""));
  const r = plan(["--stack", "staging", "--out", path.join(dir, "out")], dir);
  t.is(r.code, 2);
  t.is(
    r.stderr.trim(),
    'error: invalid configuration for stack "staging": zarish-sphere-ops:domain: required key is missing (for example zarishsphere.com)',
  );
  t.false(existsSync(path.join(dir, "out", "plan.json")), "nothing is written for a failed program");
});

test("--stack is required", (t) => {
  const r = plan([]);
  t.is(r.code, 2);
  t.regex(r.stderr, /^error: --stack is required/);
});
