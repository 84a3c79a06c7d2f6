/**
 * Runs Pulumi programs under the SDK's mock engine and records what is sent to it: for every resource its URN,
 * type, name, parent, dependencies (implicit and explicit), property dependencies and inputs. The offline plan
 * and the tests both use this, so the tests assert on exactly what the plan reports.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

// SDK internals (stable for years, not in the public typings): the mock monitor to extend and the settings it is
// installed with. pulumi.runtime.setMocks does the same, but offers no hook to see the raw requests.
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as {
  MockMonitor: new (mocks: pulumi.runtime.Mocks) => MockMonitorBase;
};
const settings = require("@pulumi/pulumi/runtime/settings") as {
  setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean): void;
  waitForRPCs(): Promise<void>;
};
const state = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };

interface MockMonitorBase {
  registerResource(req: RegisterRequest, callback: (err: unknown, resp?: unknown) => void): Promise<void>;
}
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/** Placeholder written wherever a value is a Pulumi secret. */
export const SECRET = "[secret]";
/** Placeholder for a value unknown at plan time. */
export const UNKNOWN = "[unknown]";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The parent's URN, if any (the stack itself is not recorded). */
  readonly parent: string | undefined;
  /** Component resources are not custom. */
  readonly custom: boolean;
  readonly protect: boolean;
  /** Every resource this one depends on, implicit (through Outputs) and explicit (dependsOn). */
  readonly dependencies: string[];
  readonly propertyDependencies: Record<string, string[]>;
  /** Inputs as sent to the engine; secrets are "[secret]". */
  readonly inputs: Record<string, unknown>;
}

/** Decodes the engine's wire form: secrets become "[secret]", resource references their URN, unknowns "[unknown]". */
export function decodeWireValue(value: unknown): unknown {
  if (value === UNKNOWN_VALUE) return UNKNOWN;
  if (Array.isArray(value)) return value.map(decodeWireValue);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  switch (obj[SIG_KEY]) {
    case SECRET_SIG:
      return redactLeaves(obj.value);
    case RESOURCE_SIG:
      return obj.urn;
    case OUTPUT_SIG:
      return obj.secret ? SECRET : "value" in obj ? decodeWireValue(obj.value) : UNKNOWN;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = decodeWireValue(v);
  return out;
}

/** A secret keeps its shape (a reviewer sees which keys a Secret has) but every value becomes "[secret]". */
function redactLeaves(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactLeaves);
  if (value !== null && typeof value === "object" && !(SIG_KEY in value)) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, redactLeaves((value as Record<string, unknown>)[k])]));
  }
  return SECRET;
}

/** Outputs the mocks return for a new resource: the inputs, plus what providers compute that the program reads. */
function mockState(args: pulumi.runtime.MockResourceArgs, accountId: string, region: string): Record<string, unknown> {
  const inputs = args.inputs as Record<string, unknown>;
  const [pkg, module] = args.type.split(":");
  const service = (module ?? "").split("/")[0];
  const shortHash = createHash("sha256").update(`${args.type}/${args.name}`).digest("hex").slice(0, 8);
  switch (args.type) {
    case "random:index/randomPassword:RandomPassword":
      // The provider marks `result` secret; the mock engine does not, so do it here.
      return { ...inputs, result: pulumi.secret(`mock-${args.name}-${shortHash}`) };
    case "aws:s3/bucket:Bucket": {
      const bucket = (inputs.bucket as string | undefined) ?? `${args.name}-${shortHash}`;
      return { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}`, bucketDomainName: `${bucket}.s3.amazonaws.com` };
    }
    case "aws:kms/key:Key":
      return { ...inputs, arn: `arn:aws:kms:${region}:${accountId}:key/${shortHash}`, keyId: shortHash };
  }
  if (pkg === "aws") {
    const resourceName = (inputs.name as string | undefined) ?? args.name;
    return { ...inputs, name: resourceName, arn: `arn:aws:${service}::${accountId}:${service}/${resourceName}` };
  }
  return inputs;
}

export interface RecordOptions {
  readonly project: string;
  readonly stack: string;
  /** The AWS account and region the mocks put into ARNs. */
  readonly accountId?: string;
  readonly region?: string;
  /** Config as the CLI would pass it: values by full key (objects as JSON text) and the keys that are secret. */
  readonly config?: { readonly values: Record<string, string>; readonly secretKeys: readonly string[] };
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `program` under mocks and returns every resource it registered. Runs are serialized: the SDK's runtime
 * state is global to the process, so two concurrent programs would record into each other.
 */
export function recordProgram<T>(
  program: () => T | Promise<T>,
  options: RecordOptions,
): Promise<{ resources: RecordedResource[]; result: T }> {
  const run = queue.then(() => recordNow(program, options));
  queue = run.catch(() => undefined);
  return run;
}

async function recordNow<T>(
  program: () => T | Promise<T>,
  options: RecordOptions,
): Promise<{ resources: RecordedResource[]; result: T }> {
  const resources: RecordedResource[] = [];
  const accountId = options.accountId ?? "123456789012";
  const region = options.region ?? "us-east-1";
  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => ({ id: `${args.name}-id`, state: mockState(args, accountId, region) }),
    call: (args) => {
      // No program code may depend on a cloud lookup the plan cannot answer: fail loudly instead of inventing data.
      const message = `unmocked invoke ${args.token}: the program must not call provider functions (pass the value through config)`;
      // The SDK rebuilds invoke errors from the gRPC `details` field, so the message must travel there too.
      throw Object.assign(new Error(message), { details: message });
    },
  };
  class RecordingMonitor extends MockMonitor {
    override async registerResource(
      req: RegisterRequest,
      callback: (err: unknown, resp?: unknown) => void,
    ): Promise<void> {
      const propertyDependencies: Record<string, string[]> = {};
      req.getPropertydependenciesMap().forEach((value, key) => {
        const urns = value.getUrnsList();
        if (urns.length > 0) propertyDependencies[key] = [...urns];
      });
      const type = req.getType();
      const name = req.getName();
      const parent = req.getParent() || undefined;
      resources.push({
        urn: urnOf(options, parent, type, name),
        type,
        name,
        parent: parent?.includes("::pulumi:pulumi:Stack::") ? undefined : parent,
        custom: req.getCustom(),
        protect: req.getProtect() ?? false,
        dependencies: [...new Set(req.getDependenciesList())],
        propertyDependencies,
        inputs: decodeWireValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
      });
      return super.registerResource(req, callback);
    }
  }
  settings.setMockOptions(new RecordingMonitor(mocks), options.project, options.stack, false);
  pulumi.runtime.setAllConfig(options.config?.values ?? {}, [...(options.config?.secretKeys ?? [])]);
  const store = state.getStore();
  Object.assign(store, {
    supportsSecrets: true,
    supportsResourceReferences: true,
    supportsOutputValues: false,
    supportsDeletedWith: true,
    supportsAliasSpecs: true,
    supportsTransforms: false,
    supportsInvokeTransforms: false,
  });
  let result: T;
  try {
    result = await program();
    await settings.waitForRPCs();
  } catch (err) {
    // Tests prove that a bad config fails before anything is registered: give them what was.
    if (err instanceof Error)
      Object.defineProperty(err, "recordedResources", { value: [...resources], enumerable: false });
    throw err;
  }
  return { resources: resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), result };
}

/** The URN the mock monitor assigns (same rule as MockMonitor.newUrn). */
function urnOf(options: RecordOptions, parent: string | undefined, type: string, name: string): string {
  let qualified = type;
  if (parent) {
    const parentType = parent.split("::")[2].split("$").pop();
    qualified = `${parentType}$${type}`;
  }
  return `urn:pulumi:${options.stack}::${options.project}::${qualified}::${name}`;
}
