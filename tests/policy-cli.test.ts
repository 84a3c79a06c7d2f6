import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import test from "ava";
import { main } from "../tools/policy";
import { fixtures } from "./fixtures/policy/generate";

const ROOT = path.join(__dirname, "..");
const FIXTURES = path.join(__dirname, "fixtures", "policy");
const BAD = path.join(FIXTURES, "bad");

/** Runs the CLI in-process; returns the exit code and both streams. */
async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "policy-cli-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

test("the committed fixtures are what tests/fixtures/policy/generate.ts produces", (t) => {
  for (const [file, expected] of fixtures()) {
    const actual = readFileSync(path.join(FIXTURES, file), "utf8");
    if (file.endsWith(".json")) t.deepEqual(JSON.parse(actual), JSON.parse(expected), file);
    else t.is(actual, expected, file);
  }
  t.is(readdirSync(BAD).length, [...fixtures().keys()].filter((f) => f.startsWith("bad")).length);
});

for (const environment of ["staging", "prod"]) {
  test(`the hardened manifest set and plan pass with exit 0 and no violation (${environment})`, async (t) => {
    const result = await run(
      "--environment",
      environment,
      path.join(FIXTURES, "hardened"),
      path.join(FIXTURES, "plan-hardened.json"),
    );
    t.is(result.code, 0, result.out.join("\n"));
    t.deepEqual(result.out, []);
    t.regex(result.err.join("\n"), /^policy: \d+ resources in .*: 0 mandatory, 0 advisory violation\(s\)$/);
  });
}

for (const file of readdirSync(BAD).sort()) {
  test(`bad/${file} is refused (exit 1), naming the resource and its rule`, async (t) => {
    const text = readFileSync(path.join(BAD, file), "utf8");
    const expected = /^# expect: (.*)$/m.exec(text)?.[1].split(", ") ?? [];
    const [, kind, ref] = /^# Refused(?: in prod)?: (\w+) (\S+):/m.exec(text) ?? [];
    t.true(expected.length > 0 && ref !== undefined, "fixture header");
    const result = await run("--environment", "prod", path.join(BAD, file));
    t.is(result.code, 1);
    const mandatory = result.out.filter((l) => l.startsWith("mandatory "));
    t.deepEqual([...new Set(mandatory.map((l) => l.split(" ")[1]))].sort(), expected);
    // Cluster-scoped objects print as "/<name>".
    for (const line of mandatory)
      t.regex(line, new RegExp(`^mandatory [a-z-]+ kubernetes:[^ ]+:${kind} /?${ref}: \\S`));
  });
}

test("the crafted plan with an open bucket and a backup bucket that expires too early is refused (exit 1)", async (t) => {
  const result = await run(path.join(FIXTURES, "plan-open-bucket.json"));
  t.is(result.code, 1);
  const lines = result.out.join("\n");
  for (const policy of [
    "s3-bucket-kms-encryption",
    "s3-bucket-public-access-block",
    "s3-bucket-tls-only",
    "s3-bucket-versioning",
    "s3-bucket-no-force-destroy",
  ]) {
    t.regex(lines, new RegExp(`^mandatory ${policy} aws:s3/bucket:Bucket /open-bucket: `, "m"));
  }
  t.regex(
    lines,
    /^mandatory s3-lifecycle-retention aws:s3\/bucket:Bucket \/database-backups: bucket database-backups expires objects after 7 days \(rule expire-backups\): keep them at least 30 days in prod$/m,
  );
});

test("a plan's environment comes from its stack name unless --environment says otherwise", async (t) => {
  const plan = JSON.parse(readFileSync(path.join(FIXTURES, "plan-hardened.json"), "utf8"));
  plan.resources[5].inputs.rules[0].noncurrentVersionExpiration.noncurrentDays = 10;
  const dir = scratch({ "plan.json": JSON.stringify(plan) });
  t.is((await run(path.join(dir, "plan.json"))).code, 1, "prod floor: 30 days");
  t.is((await run("--environment", "staging", path.join(dir, "plan.json"))).code, 0, "staging floor: 7 days");
});

test("--config takes a policy pack config file: levels and settings", async (t) => {
  const dir = scratch({
    "advisory.json": JSON.stringify({ all: "advisory" }),
    "strict.json": JSON.stringify({ "container-resources": { maxMemory: "64Mi" } }),
  });
  const relaxed = await run("--config", path.join(dir, "advisory.json"), path.join(BAD, "no-host-pid--Pod.yaml"));
  t.is(relaxed.code, 0);
  t.regex(relaxed.out[0], /^advisory no-host-pid /);
  const strict = await run("--config", path.join(dir, "strict.json"), path.join(FIXTURES, "hardened", "pod.yaml"));
  t.is(strict.code, 1);
  t.regex(strict.out.join("\n"), /container-resources .* memory limit \(128Mi\) above the ceiling/);
});

const broken: [string, Record<string, string>, string, RegExp][] = [
  [
    "malformed YAML",
    { "bad.yaml": "kind: Pod\nmetadata: [\n" },
    "bad.yaml",
    /bad\.yaml: is not valid YAML: .*\(line \d+\)$/,
  ],
  ["an empty file", { "empty.yaml": "\n  \n" }, "empty.yaml", /empty\.yaml: is empty$/],
  ["only empty documents", { "dashes.yaml": "---\n---\n" }, "dashes.yaml", /dashes\.yaml: holds no Kubernetes object$/],
  [
    "a document without apiVersion",
    { "noapi.yaml": "kind: Pod\nmetadata: {name: x}\n" },
    "noapi.yaml",
    /noapi\.yaml: document 1 has no apiVersion$/,
  ],
  [
    "a document without kind",
    { "nokind.yaml": "apiVersion: v1\nmetadata: {name: x}\n---\n" },
    "nokind.yaml",
    /nokind\.yaml: document 1 has no kind$/,
  ],
  [
    "a document without a name",
    { "noname.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {}\n" },
    "noname.yaml",
    /noname\.yaml: document 1 \(Pod\) has no metadata\.name$/,
  ],
  [
    "a scalar document",
    { "scalar.yaml": "just text\n" },
    "scalar.yaml",
    /scalar\.yaml: document 1 is not a Kubernetes object$/,
  ],
  ["invalid JSON", { "plan.json": "{" }, "plan.json", /plan\.json: is not valid JSON/],
  [
    "a JSON file that is not a plan",
    { "other.json": '{"a":1}' },
    "other.json",
    /other\.json: is not a plan\.json: expected an object with a "resources" list$/,
  ],
  ["a plan without resources", { "plan.json": '{"resources":[]}' }, "plan.json", /plan\.json: has no resources$/],
  [
    "a plan resource without inputs",
    { "plan.json": '{"resources":[{"urn":"u","type":"t","name":"n"}]}' },
    "plan.json",
    /plan\.json: resources\[0\] \(u\) has no "inputs" object$/,
  ],
  [
    "an unsupported file type",
    { "notes.txt": "hello" },
    "notes.txt",
    /notes\.txt: is neither a plan \(\.json\) nor Kubernetes YAML \(\.yaml, \.yml\)$/,
  ],
  [
    "the same object twice",
    {
      "a.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\n",
    },
    "a.yaml",
    /a\.yaml: ConfigMap n\/c is already defined in .*a\.yaml$/,
  ],
];

for (const [what, files, arg, message] of broken) {
  test(`${what} exits 2 with one line naming the file`, async (t) => {
    const dir = scratch(files);
    const result = await run(path.join(dir, arg));
    t.is(result.code, 2);
    t.deepEqual(result.out, []);
    t.is(result.err.length, 1);
    t.regex(result.err[0], new RegExp(`^error: ${dir.replace(/[/\\^$.*+?()[\]{}|]/g, "\\$&")}/`));
    t.regex(result.err[0], message);
  });
}

test("an unreadable path, a folder without YAML, a bad config file or bad options exit 2", async (t) => {
  const missing = await run("/nonexistent/plan.json");
  t.deepEqual([missing.code, missing.err], [2, ["error: /nonexistent/plan.json: cannot read (ENOENT)"]]);
  const empty = scratch({ "readme.md": "# nothing" });
  t.deepEqual((await run(empty)).err, [`error: ${empty}: folder holds no .yaml or .yml file`]);
  const config = scratch({ "c.json": JSON.stringify({ "container-resourcez": "mandatory" }) });
  const badConfig = await run("--config", path.join(config, "c.json"), path.join(FIXTURES, "hardened"));
  t.is(badConfig.code, 2);
  t.regex(badConfig.err[0], /c\.json: invalid policy config: unknown policy "container-resourcez"/);
  t.is((await run("--environment", "qa", path.join(FIXTURES, "hardened"))).code, 2);
  t.is((await run("--verbose", path.join(FIXTURES, "hardened"))).code, 2);
  t.is((await run()).code, 2);
  t.is((await run("--config")).code, 2);
});

test("a List document and a folder searched recursively are read", async (t) => {
  const list = {
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "open", namespace: "apps" },
        spec: { type: "NodePort", ports: [{ port: 80 }] },
      },
    ],
  };
  const dir = scratch({ "list.yml": JSON.stringify(list) });
  const result = await run(dir);
  t.is(result.code, 1);
  t.regex(result.out[0], /^mandatory no-external-services kubernetes:core\/v1:Service apps\/open: /);
});

test("npm run policy: the real entry prints the contract's lines and exit codes", (t) => {
  const cli = (...args: string[]) => {
    try {
      return {
        code: 0,
        stdout: execFileSync(process.execPath, [path.join(ROOT, "tools", "run.js"), "policy", ...args], {
          cwd: ROOT,
          encoding: "utf8",
          stdio: "pipe",
        }),
      };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { code: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  };
  t.is(cli("tests/fixtures/policy/hardened").code, 0);
  const bad = cli("tests/fixtures/policy/bad/no-host-network--DaemonSet.yaml");
  t.is(bad.code, 1);
  t.is(
    bad.stdout,
    "mandatory no-host-network kubernetes:apps/v1:DaemonSet apps/no-host-network-daemonset: shares the host's network namespace: remove spec.hostNetwork from the pod template\n",
  );
  const malformed = cli("tests/fixtures/policy/generate.ts");
  t.is(malformed.code, 2);
  t.is(
    (malformed as { stderr: string }).stderr,
    "error: tests/fixtures/policy/generate.ts: is neither a plan (.json) nor Kubernetes YAML (.yaml, .yml)\n",
  );
});
