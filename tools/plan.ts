/**
 * `npm run plan -- --stack <stack> [--out <dir>]`: the offline plan (contract in ARCHITECTURE.md). Runs the real
 * program under the mock engine with the stack's config file, writes plan.json, manifests/ and files/, prints a
 * summary and the policy result. Exit 0: no mandatory violation; 1: mandatory violations; 2: the program or its
 * config failed (one message; the stack trace only with --debug).
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type Plan, toPlanResources, writePlan } from "./lib/plan-output";
import { renderSummary } from "./lib/plan-summary";
import { environmentConfig, evaluatePolicies } from "./lib/policy-engine";
import { ROOT, runStack } from "./lib/program";
import { formatViolation } from "./lib/violation-format";

export async function main(argv: string[]): Promise<number> {
  let args: { stack?: string; out?: string; debug?: boolean };
  try {
    args = parseArgs({
      args: argv,
      options: { stack: { type: "string" }, out: { type: "string" }, debug: { type: "boolean" } },
      strict: true,
    }).values;
  } catch (err) {
    return fail(`${(err as Error).message} (usage: npm run plan -- --stack <stack> [--out <dir>] [--debug])`);
  }
  if (!args.stack) return fail("--stack is required (usage: npm run plan -- --stack <stack> [--out <dir>])");
  const stack = args.stack;
  const out = path.resolve(args.out ?? path.join(ROOT, "out", stack));

  // A failure inside the program can surface as an unhandled rejection from the SDK's RPC queue rather than a
  // throw from the entry: catch both, and report either as one line.
  let asyncFailure: unknown;
  const onRejection = (reason: unknown) => {
    asyncFailure ??= reason;
  };
  process.on("unhandledRejection", onRejection);
  let run: Awaited<ReturnType<typeof runStack>>;
  // The SDK captures a stack trace per resource and per promise (for source positions the plan does not record),
  // and ts-node maps each through source maps: most of the plan's time. Unless --debug asks for mapped traces, the
  // program runs with traces left unformatted; error messages are unchanged. Compilation is untouched: the program
  // is still loaded exactly as `pulumi up` loads it.
  const traces = Error as { prepareStackTrace?: unknown };
  const mappedTraces = traces.prepareStackTrace;
  if (!args.debug) traces.prepareStackTrace = () => "";
  try {
    run = await runStack(stack);
    if (asyncFailure !== undefined) throw asyncFailure;
  } catch (err) {
    if (args.debug) console.error(err);
    return fail(describeFailure(err));
  } finally {
    process.off("unhandledRejection", onRejection);
    traces.prepareStackTrace = mappedTraces;
  }

  const resources = toPlanResources(run.resources);
  // The same policy config CI passes to `pulumi preview --policy-pack-config policies/config/<env>.json`.
  const environment = run.config.values["zarish-sphere-ops:environment"] === "prod" ? "prod" : "staging";
  const violations = evaluatePolicies(resources, { environment, config: environmentConfig(environment) });
  const plan: Plan = { project: run.config.project, stack, resources, violations };
  writePlan(out, plan);

  for (const key of run.config.placeholders) {
    console.log(`note: secret ${key} cannot be decrypted offline: a placeholder stands in, marked secret`);
  }
  console.log(renderSummary(plan.project, stack, resources, violations));
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const v of violations) console.log(formatViolation(v, byUrn.get(v.urn)));
  console.log(`Wrote ${path.relative(process.cwd(), out) || "."}/plan.json, manifests/ and files/`);
  return violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

function describeFailure(err: unknown): string {
  if (err instanceof Error) {
    // ConfigError lists every problem; other errors are reduced to their first line.
    if (err.name === "ConfigError" || err.name === "StackConfigError") return err.message;
    return `the program failed: ${err.message.split("\n")[0]}`;
  }
  return `the program failed: ${String(err)}`;
}

function fail(message: string): number {
  console.error(`error: ${message}`);
  return 2;
}
