/**
 * Reads a stack's configuration the way the Pulumi CLI hands it to the program: Pulumi.yaml's project-level
 * defaults, overlaid by Pulumi.<stack>.yaml, objects as JSON text. Encrypted (`secure:`) values cannot be decrypted
 * offline, so they, and declared secrets the file does not set, become placeholders that stay marked secret.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { SECRET_KEYS } from "../../config/parse";

export interface StackConfig {
  readonly project: string;
  readonly stack: string;
  /** Every config value by full key ("project:key"), as the runtime stores it. */
  readonly values: Record<string, string>;
  /** Keys whose value is secret. */
  readonly secretKeys: string[];
  /** Secrets replaced by placeholders (the plan says so). */
  readonly placeholders: string[];
}

/** A stack that cannot be read: the message names the file and the problem. */
export class StackConfigError extends Error {
  override readonly name = "StackConfigError";
}

export function availableStacks(root: string): string[] {
  return readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function loadStackConfig(root: string, stack: string): StackConfig {
  const projectFile = path.join(root, "Pulumi.yaml");
  const project = readYaml(projectFile) as { name?: unknown; config?: Record<string, unknown> };
  if (typeof project?.name !== "string") throw new StackConfigError(`${projectFile}: has no project name`);
  const name = project.name;
  const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
  if (!existsSync(stackFile)) {
    throw new StackConfigError(
      `unknown stack "${stack}": no ${path.basename(stackFile)} (stacks: ${availableStacks(root).join(", ")})`,
    );
  }
  const doc = readYaml(stackFile) as { config?: unknown } | null;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new StackConfigError(`${stackFile}: must be a YAML mapping with a "config" section`);
  }
  if (
    doc.config !== undefined &&
    (typeof doc.config !== "object" || doc.config === null || Array.isArray(doc.config))
  ) {
    throw new StackConfigError(`${stackFile}: "config" must be a mapping of keys to values`);
  }
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  const qualify = (key: string) => (key.includes(":") ? key : `${name}:${key}`);

  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    const d = declaration as { default?: unknown; value?: unknown } | null;
    const fallback = typeof d === "object" && d !== null ? (d.value ?? d.default) : declaration;
    if (fallback !== undefined && (typeof d !== "object" || d === null || "default" in d || "value" in d)) {
      values[qualify(key)] = encode(fallback);
    }
  }
  for (const [key, value] of Object.entries((doc.config ?? {}) as Record<string, unknown>)) {
    const full = qualify(key);
    if (containsSecure(value)) {
      values[full] = `offline-placeholder-${full.replace(/[^a-zA-Z0-9]/g, "-")}`;
      secretKeys.push(full);
      placeholders.push(full);
    } else {
      values[full] = encode(value);
    }
  }
  for (const key of Object.keys(SECRET_KEYS)) {
    const full = `${name}:${key}`;
    if (!(full in values)) {
      values[full] = `offline-placeholder-${key}`;
      secretKeys.push(full);
      placeholders.push(full);
    }
  }
  return { project: name, stack, values, secretKeys, placeholders };
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new StackConfigError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return yaml.load(text);
  } catch (err) {
    const reason = (err as { reason?: string; mark?: { line: number } }).reason ?? String(err);
    const line = (err as { mark?: { line: number } }).mark?.line;
    throw new StackConfigError(`${file}${line === undefined ? "" : `:${line + 1}`}: malformed YAML (${reason})`);
  }
}

/** The runtime keeps every value as text: strings as they are, everything else as JSON. */
function encode(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function containsSecure(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (!Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) return true;
  return Object.values(value).some(containsSecure);
}
