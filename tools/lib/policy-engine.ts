/**
 * Runs the policy pack offline, the way the CrossGuard analyzer runs it under `pulumi preview --policy-pack`: the
 * same policy objects (policies/pack.ts), the same argument shapes (ResourceValidationArgs, StackValidationArgs with
 * PolicyResource objects linked by parent, dependencies and propertyDependencies), the same config reconciliation
 * as the CLI (schema defaults, "all", per-policy values, JSON-schema validation), and the same handling of values
 * unknown during a preview (the SDK's unknown-checking proxy; a policy that reads one gives an advisory "can't run
 * during preview"). It is synchronous and allocates little, so a 2,000-resource plan evaluates well under a second.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type {
  EnforcementLevel,
  Policies,
  Policy,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import Ajv, { type ValidateFunction } from "ajv";
import { packEnforcementLevel, packName, policies as packPolicies } from "../../policies/pack";
import type { PlanResource as PlanFileResource, PlanViolation } from "./plan-output";

// The SDK's proxy module is internal (its .d.ts exports nothing); these are the functions the analyzer itself uses.
const proxy = require("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T>(value: T): T;
  UnknownValueError: abstract new (...args: never[]) => Error;
  unknownStringValue: string;
  [sentinel: string]: unknown;
};

/**
 * What the engine evaluates: a plan.json resource (tools/lib/plan-output.ts), of which hand-written fixtures and
 * YAML manifests may leave out the graph fields.
 */
export type PlanResource = Pick<PlanFileResource, "urn" | "type" | "name" | "inputs"> &
  Partial<Pick<PlanFileResource, "parent" | "dependencies" | "propertyDependencies" | "protect">>;

export type ViolationLevel = PlanViolation["level"];

/** A violation as plan.json records it; `urn` is "" for a stack policy that names no resource. */
export type Violation = PlanViolation;

export interface EvaluateOptions {
  /** "staging" or "prod": given to every policy with an `environment` setting that the config does not set. */
  readonly environment?: string;
  /** Policy pack config, as a `--policy-pack-config` file holds it: { "<policy>" | "all": level | { enforcementLevel?, ...settings } }. */
  readonly config?: Record<string, unknown>;
  /** The policies to run; default: the pack's (tests pass their own). */
  readonly policies?: Policies;
}

/** The config is malformed (unknown policy, bad level, a value the policy's schema refuses). */
export class PolicyConfigError extends Error {}

/** A policy threw: a defect in the policy or a shape it cannot handle. Never swallowed. */
export class PolicyRunError extends Error {}

class NotApplicableError extends Error {}

const LEVELS: ReadonlySet<string> = new Set(["advisory", "mandatory", "remediate", "disabled"]);

/** What the CLI hands the analyzer for one policy after reconciling the pack's defaults with the given config. */
export interface ResolvedPolicyConfig {
  readonly level: EnforcementLevel;
  readonly properties: Readonly<Record<string, unknown>>;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new WeakMap<Policy, ValidateFunction>();

function validatorFor(policy: Policy): ValidateFunction | undefined {
  if (!policy.configSchema) return undefined;
  let validate = validators.get(policy);
  if (!validate) {
    const { properties, required } = policy.configSchema;
    validate = ajv.compile({ type: "object", properties, ...(required ? { required } : {}) });
    validators.set(policy, validate);
  }
  return validate;
}

function parseLevel(value: unknown, where: string, problems: string[]): EnforcementLevel | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && LEVELS.has(value)) return value as EnforcementLevel;
  problems.push(
    `${where}: ${JSON.stringify(value)} is not an enforcement level (advisory, mandatory, remediate, disabled)`,
  );
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The pack's config as the Pulumi CLI reconciles it (pkg/resource/analyzer ReconcilePolicyPackConfig): schema
 * defaults, then "all", then each policy's entry, then JSON-schema validation. Stricter than the CLI in one way:
 * a policy name the pack does not have is an error, so a typo cannot silently leave a policy unconfigured.
 */
export function resolvePolicyConfig(
  config: Record<string, unknown> | undefined,
  policies: Policies = packPolicies,
  environment?: string,
): Map<string, ResolvedPolicyConfig> {
  const problems: string[] = [];
  const given = config ?? {};
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new PolicyConfigError("policy config must be a JSON object keyed by policy name");
  }
  const names = new Set(policies.map((p) => p.name));
  const entries = new Map<string, { level?: EnforcementLevel; properties: Record<string, unknown> }>();
  for (const [key, value] of Object.entries(given)) {
    if (key !== "all" && !names.has(key)) {
      problems.push(`unknown policy "${key}" (the pack has: ${[...names].join(", ")})`);
      continue;
    }
    if (typeof value === "string") {
      entries.set(key, { level: parseLevel(value, key, problems), properties: {} });
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const { enforcementLevel, ...properties } = value as Record<string, unknown>;
      entries.set(key, { level: parseLevel(enforcementLevel, `${key}.enforcementLevel`, problems), properties });
    } else {
      problems.push(`${key}: ${JSON.stringify(value)} is not valid; use an enforcement level or an object`);
    }
  }
  const all = entries.get("all")?.level;
  const resolved = new Map<string, ResolvedPolicyConfig>();
  for (const policy of policies) {
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
      if (schema.default !== undefined) properties[key] = structuredClone(schema.default);
    }
    const entry = entries.get(policy.name);
    Object.assign(properties, entry?.properties);
    if (
      environment !== undefined &&
      policy.configSchema?.properties.environment &&
      entry?.properties.environment === undefined
    ) {
      properties.environment = environment;
    }
    const validate = validatorFor(policy);
    if (validate && !validate(properties)) {
      for (const error of validate.errors ?? []) {
        problems.push(`${policy.name}${error.instancePath.replace(/\//g, ".")}: ${error.message ?? "is invalid"}`);
      }
    }
    const level = entry?.level ?? all ?? policy.enforcementLevel ?? packEnforcementLevel;
    resolved.set(policy.name, { level, properties: deepFreeze(properties) });
  }
  if (problems.length > 0) throw new PolicyConfigError(`invalid policy config: ${problems.join("; ")}`);
  return resolved;
}

// ---------------------------------------------------------------------------------------------------------------
// Unknown values

const SENTINELS: ReadonlySet<string> = new Set(
  Object.entries(proxy)
    .filter(([key, value]) => key.startsWith("unknown") && key.endsWith("Value") && typeof value === "string")
    .map(([, value]) => value as string),
);
/** How the offline plan writes a value unknown at plan time (tools/lib/mock-engine.ts). */
const PLAN_UNKNOWN = "[unknown]";

function containsUnknown(value: unknown): boolean {
  if (typeof value === "string") return value === PLAN_UNKNOWN || SENTINELS.has(value);
  if (typeof value !== "object" || value === null) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (containsUnknown(v)) return true;
  return false;
}

function withSentinels(value: unknown): unknown {
  if (value === PLAN_UNKNOWN) return proxy.unknownStringValue;
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(withSentinels);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withSentinels(v)]));
}

/** The properties a policy sees: the inputs themselves, or behind the SDK's proxy when something is unknown. */
function propsOf(inputs: Record<string, unknown>): Record<string, unknown> {
  const value = inputs ?? {};
  return containsUnknown(value) ? proxy.unknownCheckingProxy(withSentinels(value) as Record<string, unknown>) : value;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

function isTypeOf(type: string, resourceClass: unknown): boolean {
  const cls = resourceClass as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean } | undefined;
  if (typeof cls?.__pulumiType === "string" && cls.__pulumiType.length > 0) return type === cls.__pulumiType;
  return typeof cls?.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicableError(reason ?? "Policy does not apply");
}

/** The types a validation declares it applies to (validateResourceOfType's __pulumiType, validateTypes' set). */
function declaredTypes(fn: unknown): ReadonlySet<string> | string | undefined {
  const f = fn as { __pulumiTypes?: ReadonlySet<string>; __pulumiType?: unknown };
  if (f.__pulumiTypes instanceof Set) return f.__pulumiTypes;
  return typeof f.__pulumiType === "string" && f.__pulumiType ? f.__pulumiType : undefined;
}

function applies(declared: ReadonlySet<string> | string | undefined, type: string): boolean {
  return declared === undefined || (typeof declared === "string" ? declared === type : declared.has(type));
}

let packVersion: string | undefined;
function version(): string {
  packVersion ??= String(
    JSON.parse(readFileSync(path.join(__dirname, "..", "..", "policies", "package.json"), "utf8")).version,
  );
  return packVersion;
}

function reportLevel(level: EnforcementLevel): ViolationLevel {
  // As the analyzer does: a remediation that still violates is mandatory.
  return level === "advisory" ? "advisory" : "mandatory";
}

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | undefined)?.then === "function";
}

const EMPTY_TAGS: ReadonlyMap<string, string> = new Map();

function optionsOf(resource: PlanResource): PolicyResourceOptions {
  return {
    protect: resource.protect ?? false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(resource.parent ? { parent: resource.parent } : {}),
  };
}

/**
 * Evaluates every enabled policy of the pack (or `options.policies`) against the resources and returns the
 * violations in resource order, then the stack policies'. Throws PolicyConfigError for a bad config and
 * PolicyRunError when a policy throws.
 */
export function evaluatePolicies(resources: readonly PlanResource[], options: EvaluateOptions = {}): Violation[] {
  const policies = options.policies ?? packPolicies;
  const config = resolvePolicyConfig(options.config, policies, options.environment);
  const violations: Violation[] = [];
  const props = resources.map((r) => propsOf(r.inputs));

  const active = policies
    .map((policy) => ({ policy, resolved: config.get(policy.name)! }))
    .filter(({ resolved }) => resolved.level !== "disabled");

  const failed = (policy: Policy, urn: string, error: unknown): never => {
    const message = error instanceof Error ? error.message : String(error);
    throw new PolicyRunError(`policy ${policy.name} failed on ${urn || "the stack"}: ${message}`);
  };
  const cantRun = (policy: Policy, urn: string, error: Error) =>
    violations.push({
      policy: policy.name,
      level: "advisory",
      urn,
      message: `can't run policy '${policy.name}' from policy pack '${packName}@v${version()}' during preview: ${error.message}`,
    });

  // Resource policies, resource by resource (the order the engine analyzes registrations in).
  const resourcePolicies = active
    .filter(({ policy }) => (policy as ResourceValidationPolicy).validateResource !== undefined)
    .map(({ policy, resolved }) => {
      const validate = (policy as ResourceValidationPolicy).validateResource!;
      const validations: ResourceValidation[] = Array.isArray(validate) ? validate : [validate];
      return {
        policy,
        resolved,
        validations: validations.map((fn) => ({ fn, types: declaredTypes(fn) })),
        getConfig: <T extends object>() => resolved.properties as T,
      };
    });
  resources.forEach((resource, index) => {
    for (const { policy, resolved, validations, getConfig } of resourcePolicies) {
      for (const { fn, types } of validations) {
        if (!applies(types, resource.type)) continue;
        const resourceProps = props[index];
        const args: ResourceValidationArgs = {
          type: resource.type,
          props: resourceProps,
          urn: resource.urn,
          name: resource.name,
          opts: optionsOf(resource),
          stackTags: EMPTY_TAGS,
          isType: (cls) => isTypeOf(resource.type, cls),
          asType: ((cls: unknown) =>
            isTypeOf(resource.type, cls) ? resourceProps : undefined) as ResourceValidationArgs["asType"],
          getConfig,
          notApplicable: throwNotApplicable,
        };
        try {
          const result = fn(args, (message) =>
            violations.push({
              policy: policy.name,
              level: reportLevel(resolved.level),
              urn: resource.urn,
              message: String(message),
            }),
          );
          if (isThenable(result))
            failed(policy, resource.urn, new Error("asynchronous validations are not supported offline"));
        } catch (error) {
          if (error instanceof NotApplicableError) continue;
          if (error instanceof PolicyRunError) throw error;
          if (error instanceof proxy.UnknownValueError) cantRun(policy, resource.urn, error);
          else failed(policy, resource.urn, error);
        }
      }
    }
  });

  // Stack policies, over PolicyResource objects linked to each other as the analyzer links them.
  const stackPolicies = active.filter(
    ({ policy }) => typeof (policy as StackValidationPolicy).validateStack === "function",
  );
  if (stackPolicies.length > 0) {
    const stackResources = linkStackResources(resources, props);
    const presentTypes = new Set(resources.map((r) => r.type));
    for (const { policy, resolved } of stackPolicies) {
      const validateStack = (policy as StackValidationPolicy).validateStack;
      const declared = declaredTypes(validateStack);
      if (typeof declared === "string" && !presentTypes.has(declared)) continue;
      const args: StackValidationArgs = {
        resources: stackResources,
        stackTags: EMPTY_TAGS,
        getConfig: <T extends object>() => resolved.properties as T,
        notApplicable: throwNotApplicable,
      };
      try {
        const result = validateStack(args, (message, urn) =>
          violations.push({
            policy: policy.name,
            level: reportLevel(resolved.level),
            urn: urn ?? "",
            message: String(message),
          }),
        );
        if (isThenable(result)) failed(policy, "", new Error("asynchronous validations are not supported offline"));
      } catch (error) {
        if (error instanceof NotApplicableError) continue;
        if (error instanceof PolicyRunError) throw error;
        if (error instanceof proxy.UnknownValueError) cantRun(policy, "", error);
        else failed(policy, "", error);
      }
    }
  }
  return violations;
}

/**
 * PolicyResource objects for a stack validation: parent, dependencies and propertyDependencies resolved from URNs to
 * the resource objects, URNs that name no resource of the plan dropped, as the analyzer does. The list is shared by
 * every stack policy of one evaluation (the analyzer builds one per policy; ours are not mutated by the pack).
 */
function linkStackResources(
  resources: readonly PlanResource[],
  props: readonly Record<string, unknown>[],
): PolicyResource[] {
  const out: PolicyResource[] = resources.map((r, index) => {
    const resourceProps = props[index];
    return {
      type: r.type,
      props: resourceProps,
      urn: r.urn,
      name: r.name,
      opts: optionsOf(r),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? resourceProps : undefined)) as PolicyResource["asType"],
    };
  });
  const byUrn = new Map(out.map((r) => [r.urn, r]));
  const lookup = (urns: readonly string[] | undefined) =>
    (urns ?? []).map((u) => byUrn.get(u)).filter((r): r is PolicyResource => r !== undefined);
  resources.forEach((r, index) => {
    const resource = out[index];
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) resource.parent = parent;
    resource.dependencies = lookup(r.dependencies);
    for (const [property, urns] of Object.entries(r.propertyDependencies ?? {})) {
      resource.propertyDependencies[property] = lookup(urns);
    }
  });
  return out;
}

/**
 * The pack config of an environment, policies/config/<environment>.json: the file CI passes to `pulumi preview
 * --policy-pack policies --policy-pack-config`, so the offline check and the CLI evaluate a stack alike. It pins the
 * environment of the environment-aware policies (whatever the stack is called) and is where per-environment
 * enforcement levels and thresholds go.
 */
export function environmentConfig(environment: "staging" | "prod"): Record<string, unknown> {
  const file = path.join(__dirname, "..", "..", "policies", "config", `${environment}.json`);
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** Whether any violation blocks a deploy. */
export function hasMandatory(violations: readonly Violation[]): boolean {
  return violations.some((v) => v.level === "mandatory");
}
