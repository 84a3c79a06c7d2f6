/**
 * Runs the real program (index.ts) for one stack under the recording mock engine: the same entry and compiler
 * settings as `pulumi up`, the stack's own config file, no cloud and no CLI.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { type RecordedResource, recordProgram, SECRET } from "./mock-engine";
import { loadStackConfig, type StackConfig } from "./stack-config";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface StackRun {
  readonly config: StackConfig;
  readonly resources: RecordedResource[];
  /** The program's exports (stack outputs), resolved; secrets are "[secret]". */
  readonly outputs: Record<string, unknown>;
}

/**
 * `overrides` replaces config values by full key (objects as JSON text), for tests of malformed config. An
 * overridden value is plain text, as if set without --secret.
 */
export async function runStack(
  stack: string,
  overrides: Record<string, string | undefined> = {},
  root = ROOT,
): Promise<StackRun> {
  const config = loadStackConfig(root, stack);
  const values = { ...config.values };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete values[key];
    else values[key] = value;
  }
  const region = values["aws:region"];
  const { resources, result } = await recordProgram(
    async () => resolveOutputs(requireFresh(path.join(root, "index.ts"), root)),
    {
      project: config.project,
      stack,
      config: { values, secretKeys: config.secretKeys.filter((k) => !(k in overrides)) },
      region,
    },
  );
  return { config: { ...config, values }, resources, outputs: await result };
}

/** Loads the entry anew, so each run executes the program (Node caches modules per process). */
function requireFresh(entry: string, root: string): Record<string, unknown> {
  for (const cached of Object.keys(require.cache)) {
    if (
      cached.startsWith(root) &&
      !cached.includes(`${path.sep}node_modules${path.sep}`) &&
      !cached.includes(`${path.sep}tools${path.sep}`)
    ) {
      delete require.cache[cached];
    }
  }
  return require(entry);
}

async function resolveOutputs(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exports)) {
    if (key === "__esModule") continue;
    const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<string>);
    const isSecret = await pulumi.isSecret(output);
    out[key] = isSecret ? SECRET : await new Promise((resolve) => output.apply(resolve));
  }
  return out;
}
