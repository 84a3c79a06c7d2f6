/**
 * The one module that reads Pulumi config. index.ts calls loadConfig() before any resource is registered; a bad
 * value fails the program there with every problem named. Components receive slices of the result.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { type ConfigSource, PROJECT, parseConfig, SECRET_KEYS } from "./parse";
import type { PlatformConfig } from "./types";

// Internal to the SDK (not in its typings), and the only way to tell a secret set with --secret from the same key
// set in plain text, which must be refused.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

export { ConfigError, type ConfigSource, PROJECT, parseConfig, SECRET_KEYS, type SecretKey } from "./parse";
export type * from "./types";

/** The project root (where Pulumi.yaml is). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Reads the running stack's config from the Pulumi runtime and validates it. */
export function loadConfig(): PlatformConfig {
  const stack = pulumi.getStack();
  const all = pulumi.runtime.allConfig();
  const values: Record<string, string> = {};
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const [key, value] of Object.entries(all)) {
    const name = key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : undefined;
    if (name !== undefined && name in SECRET_KEYS && isConfigSecret(key)) {
      secrets[key] = pulumi.secret(value);
    } else {
      values[key] = value;
    }
  }
  const source: ConfigSource = {
    project: pulumi.getProject(),
    stack,
    values,
    secrets,
    staging: stack === "staging" ? undefined : readStackValues("staging"),
  };
  return parseConfig(source);
}

/**
 * The non-secret values of another stack's file, in the runtime's form (objects as JSON text), so prod can be
 * checked against staging. Absent or unreadable files give undefined: the comparison is a guard, not a need.
 */
export function readStackValues(stack: string, root: string = PROJECT_ROOT): Record<string, string> | undefined {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) return undefined;
  try {
    const doc = yaml.load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | undefined;
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
      if (typeof value === "object" && value !== null && "secure" in value) continue;
      out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
  } catch {
    return undefined;
  }
}
