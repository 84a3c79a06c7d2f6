/**
 * Helpers every policy module shares: tolerant readers for resource properties (inputs may be partial, undefined or
 * unknown during a preview), config with the schema's defaults applied by the policy itself, the environment, and
 * type-filtered validations.
 */
import type {
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

// The SDK marks its proxy module internal (its .d.ts exports nothing), but this class is what a policy reading an
// unknown value during a preview throws, and what the analyzer turns into "can't run policy during preview".
const { UnknownValueError } = require("@pulumi/policy/proxy") as {
  UnknownValueError: abstract new (...args: never[]) => Error;
};

// biome-ignore lint/suspicious/noExplicitAny: resource properties are untyped JSON from the engine.
export type Props = Record<string, any>;

/** The value as a plain object, or undefined (arrays, strings, null and unknowns are not objects here). */
export function obj(value: unknown): Props | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}

/** The value as an array, or an empty array. */
export function arr(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value if it is a string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A finite number, or a numeric string ("3"), else undefined. */
export function num(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/** The default of every property of a config schema, as the Pulumi CLI fills them in. */
export function defaultsOf(schema: PolicyConfigSchema): Props {
  const out: Props = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    const value = (property as { default?: unknown }).default;
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The policy's config with the schema defaults applied here too: the CLI fills defaults in, but a test or an older
 * engine may hand the policy an empty object (or nothing at all).
 */
export function configOf<T extends object>(
  args: { getConfig?: <C extends object>() => C } | undefined,
  schema: PolicyConfigSchema,
): T {
  let given: unknown;
  try {
    given = args?.getConfig?.();
  } catch {
    given = undefined;
  }
  const merged: Props = defaultsOf(schema);
  const configured = obj(given);
  if (configured) {
    for (const [key, value] of Object.entries(configured)) if (value !== undefined) merged[key] = value;
  }
  return merged as T;
}

export type Environment = "prod" | "staging";

/** Config property that pins the environment; without it the stack name in the URN decides. */
export const ENVIRONMENT_PROPERTY: PolicyConfigJSONSchema = {
  type: "string",
  enum: ["staging", "prod"],
  description: "staging or prod; default: derived from the stack name (prod, production or prod-* is prod)",
};

/** prod for a stack named prod, production or prod-<anything>; staging for every other stack. */
export function environmentFromStack(stack: string | undefined): Environment {
  return stack !== undefined && /^prod(uction)?(-.*)?$/i.test(stack) ? "prod" : "staging";
}

/** The stack name of a resource URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackOfUrn(urn: string | undefined): string | undefined {
  if (!urn?.startsWith("urn:pulumi:")) return undefined;
  const end = urn.indexOf("::");
  return end === -1 ? undefined : urn.slice("urn:pulumi:".length, end);
}

export function environmentOf(configured: unknown, urn: string | undefined): Environment {
  if (configured === "prod" || configured === "staging") return configured;
  return environmentFromStack(stackOfUrn(urn));
}

/** Set on validations built by `validateTypes`, so the offline engine can skip other types without a call. */
export interface TypedValidation extends ResourceValidation {
  __pulumiTypes?: ReadonlySet<string>;
}

/**
 * A validation that only applies to the given type tokens. Other types are reported not applicable, as
 * `validateResourceOfType` does for one class; here several API versions of a kind share one check.
 */
export function validateTypes(
  types: readonly string[],
  validate: (args: ResourceValidationArgs, report: (message: string) => void) => void,
): TypedValidation {
  const accepted = new Set(types);
  const fn: TypedValidation = (args, reportViolation) => {
    if (!accepted.has(args.type)) return args.notApplicable(`applies to ${types.join(", ")}`);
    validate(args, (message) => reportViolation(message));
  };
  fn.__pulumiTypes = accepted;
  return fn;
}

/** True for the error the policy SDK throws when a policy reads a value that is unknown during a preview. */
export function isUnknownValueError(error: unknown): boolean {
  return error instanceof UnknownValueError || (error as object | undefined)?.constructor?.name === "UnknownValueError";
}

/**
 * Runs one item's check inside a stack policy, skipping the item when it reads a value unknown during a preview:
 * one unknown bucket name must not stop the policy for every other bucket. `pulumi up` runs the stack policies
 * again with the resolved values.
 */
export function unlessUnknown(check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!isUnknownValueError(error)) throw error;
  }
}

/**
 * The value a read returns, or undefined when it touches a value unknown during a preview: for reads that only
 * decide whether a policy applies (is this container Prometheus?), where "cannot tell yet" means "skip".
 */
export function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (isUnknownValueError(error)) return undefined;
    throw error;
  }
}

/** Resources of the given types, from a stack validation. */
export function resourcesOfTypes(args: StackValidationArgs, types: readonly string[]): PolicyResource[] {
  const accepted = new Set(types);
  return args.resources.filter((r) => accepted.has(r.type));
}

/** The Kubernetes `metadata` of a resource's properties. */
export function metadataOf(props: Props): Props {
  return obj(props.metadata) ?? {};
}

/** `namespace/name` of a Kubernetes object, for messages ("<cluster>" for cluster-scoped objects). */
export function objectRef(props: Props, fallbackName: string): string {
  const metadata = metadataOf(props);
  const name = str(metadata.name) ?? fallbackName;
  const namespace = str(metadata.namespace);
  return namespace === undefined ? name : `${namespace}/${name}`;
}
