// docs/delivery.md is what an operator follows to configure GitHub, AWS and Pulumi for the workflows: every secret
// and environment the workflows read must be documented there, the pinned-action table must match the workflows,
// and the backend and secrets provider must be stated.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${{ ... }}" are GitHub Actions expressions in fixtures
import * as fs from "node:fs";
import * as path from "node:path";
import test from "ava";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOW_DIR = path.join(ROOT, ".github", "workflows");
const DOC = fs.readFileSync(path.join(ROOT, "docs", "delivery.md"), "utf8");
/** Upper-case suffixes of per-stack secret names (`AWS_PLAN_ROLE_ARN_${SUFFIX}`). */
const STACK_SUFFIXES = ["STAGING", "PROD"];

function workflowTexts(): { file: string; text: string }[] {
  return fs
    .readdirSync(WORKFLOW_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((file) => ({ file, text: fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8") }));
}

/** Secret names a workflow reads: `secrets.NAME`, and `secrets[format('NAME_{0}', ...)]` for each stack. */
function secretNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/secrets\.([A-Za-z0-9_]+)/g)) names.add(m[1]);
  for (const m of text.matchAll(/secrets\[format\('([A-Za-z0-9_]*)\{0\}([A-Za-z0-9_]*)'/g)) {
    for (const suffix of STACK_SUFFIXES) names.add(`${m[1]}${suffix}${m[2]}`);
  }
  names.delete("GITHUB_TOKEN"); // provided by GitHub
  return [...names].sort();
}

/** Rows of the "Pinned actions" table: `action@commit # release`. */
function documentedPins(doc: string): string[] {
  const rows = doc.matchAll(/^\| `([^`]+)` +\| (v\d+\.\d+\.\d+) +\| `([0-9a-f]{40})` +\|$/gm);
  return [...rows].map((m) => `${m[1]}@${m[3]} # ${m[2]}`).sort();
}

test("secret names are found in both forms, per stack", (t) => {
  t.deepEqual(
    secretNames(
      "a: ${{ secrets.PULUMI_ACCESS_TOKEN }}\nb: ${{ secrets[format('EKS_CLUSTER_NAME_{0}', env.S)] }}\nc: ${{ secrets.GITHUB_TOKEN }}",
    ),
    ["EKS_CLUSTER_NAME_PROD", "EKS_CLUSTER_NAME_STAGING", "PULUMI_ACCESS_TOKEN"],
  );
});

test("every secret the workflows read is documented", (t) => {
  const names = [...new Set(workflowTexts().flatMap(({ text }) => secretNames(text)))].sort();
  t.deepEqual(names, [
    "AWS_DEPLOY_ROLE_ARN",
    "AWS_PLAN_ROLE_ARN_PROD",
    "AWS_PLAN_ROLE_ARN_STAGING",
    "EKS_CLUSTER_NAME_PROD",
    "EKS_CLUSTER_NAME_STAGING",
    "PULUMI_ACCESS_TOKEN",
  ]);
  for (const name of names) t.true(DOC.includes(`\`${name}\``), `docs/delivery.md does not mention ${name}`);
});

test("the environments, their reviewers and the OIDC trust subjects are documented", (t) => {
  t.regex(DOC, /^\| `staging` +\| deployment branches: `main` only +\|/m);
  t.regex(DOC, /^\| `prod` +\| \*\*required reviewers\*\*/m);
  t.regex(DOC, /repo:<org>\/<repo>:environment:staging/);
  t.regex(DOC, /repo:<org>\/<repo>:pull_request/);
});

test("the Pulumi backend and the KMS secrets provider are stated", (t) => {
  t.regex(DOC, /^## Pulumi backend: Pulumi Cloud$/m);
  t.regex(DOC, /pulumi login s3:\/\//);
  t.regex(DOC, /^## Secrets provider: AWS KMS$/m);
  t.regex(DOC, /awskms:\/\/alias\/zarish-sphere-pulumi/);
});

test("the pinned-action table lists exactly the pins in the workflows", (t) => {
  const pins = new Set<string>();
  for (const { text } of workflowTexts()) {
    for (const m of text.matchAll(/uses:\s*([^\s.][^\s@]*@[0-9a-f]{40})\s*#\s*(v[\d.]+)/g))
      pins.add(`${m[1]} # ${m[2]}`);
  }
  t.true(pins.size >= 5);
  t.deepEqual(documentedPins(DOC), [...pins].sort());
  t.deepEqual(documentedPins("| `a/b` | v1.2.3 | `0123456789012345678901234567890123456789` |\n| `a/c` | v1 | `x` |"), [
    "a/b@0123456789012345678901234567890123456789 # v1.2.3",
  ]);
});
