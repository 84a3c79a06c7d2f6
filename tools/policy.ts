/**
 * `npm run policy -- [--environment staging|prod] [--config <policy-config.json>] <plan.json|yaml file|folder>...`
 *
 * Evaluates the policy pack against plan.json files and Kubernetes YAML (files, or folders searched recursively for
 * .yaml/.yml) and prints one line per violation: `<level> <policy> <type> <namespace>/<name>: <message>`.
 * Exit 0: no mandatory violation; 1: at least one; 2: a path, the config or the options could not be used (one line
 * naming the file and the problem), or a policy failed. Each plan.json is evaluated on its own (its environment from
 * its stack name unless --environment says otherwise); all YAML together, as staging unless --environment says so.
 * `--config` takes the same JSON as `pulumi preview --policy-pack-config`; without it, the environment's own
 * policies/config/<environment>.json is used, the file CI passes to `pulumi preview`.
 */
import { readFileSync } from "node:fs";
import { environmentFromStack } from "../policies/common";
import {
  environmentConfig,
  evaluatePolicies,
  PolicyConfigError,
  PolicyRunError,
  resolvePolicyConfig,
  type Violation,
} from "./lib/policy-engine";
import { loadResourceSets, PolicyInputError } from "./lib/policy-input";
import { formatViolation } from "./lib/violation-format";

const USAGE =
  "usage: npm run policy -- [--environment staging|prod] [--config <policy-config.json>] <plan.json | file.yaml | folder>...";

interface Options {
  environment?: "staging" | "prod";
  configFile?: string;
  paths: string[];
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Options | "help" {
  const options: Options = { paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "--help" || flag === "-h") return "help";
    if (flag === "--environment") {
      const environment = value();
      if (environment !== "staging" && environment !== "prod") {
        throw new UsageError(`--environment must be staging or prod (got "${environment}")`);
      }
      options.environment = environment;
    } else if (flag === "--config") {
      options.configFile = value();
    } else if (flag === "--") {
      options.paths.push(...argv.slice(i + 1));
      break;
    } else if (flag.startsWith("-") && flag !== "-") {
      throw new UsageError(`unknown option ${flag}`);
    } else {
      options.paths.push(arg);
    }
  }
  if (options.paths.length === 0) throw new UsageError("no plan.json, YAML file or folder given");
  return options;
}

function readConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new PolicyInputError(
      `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new PolicyInputError(`${file}: is not valid JSON (${(error as Error).message})`);
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new PolicyInputError(`${file}: policy config must be a JSON object keyed by policy name`);
  }
  // Validate once up front, so a bad config is reported against its file before any path is read.
  try {
    resolvePolicyConfig(config as Record<string, unknown>);
  } catch (error) {
    if (error instanceof PolicyConfigError) throw new PolicyInputError(`${file}: ${error.message}`);
    throw error;
  }
  return config as Record<string, unknown>;
}

/** Where main writes: stdout for violation lines, stderr for the summary and errors (tests capture both). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const CONSOLE: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };

export async function main(argv: readonly string[], io: Output = CONSOLE): Promise<number> {
  let options: Options | "help";
  try {
    options = parseArgs(argv);
  } catch (error) {
    io.err(`error: ${(error as Error).message}`);
    io.err(USAGE);
    return 2;
  }
  if (options === "help") {
    io.out(USAGE);
    return 0;
  }
  try {
    const config = options.configFile === undefined ? undefined : readConfig(options.configFile);
    const sets = loadResourceSets(options.paths, options.environment ?? "staging");
    const lines: string[] = [];
    const all: Violation[] = [];
    let count = 0;
    for (const set of sets) {
      const environment =
        options.environment ?? (set.stack === undefined ? "staging" : environmentFromStack(set.stack));
      const violations = evaluatePolicies(set.resources, {
        environment,
        config: config ?? environmentConfig(environment),
      });
      const byUrn = new Map(set.resources.map((r) => [r.urn, r]));
      for (const v of violations) lines.push(formatViolation(v, byUrn.get(v.urn)));
      all.push(...violations);
      count += set.resources.length;
    }
    for (const line of lines) io.out(line);
    const mandatory = all.filter((v) => v.level === "mandatory").length;
    io.err(
      `policy: ${count} resources in ${sets.map((s) => s.label).join(", ")}: ${mandatory} mandatory, ${all.length - mandatory} advisory violation(s)`,
    );
    return mandatory > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof PolicyInputError || error instanceof PolicyConfigError || error instanceof PolicyRunError) {
      io.err(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
