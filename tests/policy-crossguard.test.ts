/**
 * The offline engine must say what CrossGuard says. These tests hand the same resources to the policy SDK's own
 * analyzer functions (the gRPC handlers `pulumi preview --policy-pack` calls, from @pulumi/policy/server) and to
 * tools/lib/policy-engine.ts, and compare the violations. With no pack config the SDK gives each policy an empty
 * config, so this also proves every policy applies its schema defaults itself.
 */
import { readdirSync } from "node:fs";
import * as path from "node:path";
import test from "ava";
import { policies } from "../policies/pack";
import { evaluatePolicies, type PlanResource, type Violation } from "../tools/lib/policy-engine";
import { loadResourceSets } from "../tools/lib/policy-input";

// The SDK's internals, typed as far as these tests use them.
type Message = { [method: string]: (...args: unknown[]) => unknown };
const analyzer = require("@pulumi/pulumi/proto/analyzer_pb") as Record<string, new () => Message> & {
  EnforcementLevel: Record<string, number>;
};
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(v: unknown): unknown };
};
const server = require("@pulumi/policy/server") as {
  makeAnalyzeRpcFun(
    name: string,
    version: string,
    level: string,
    policies: unknown,
  ): (call: unknown, cb: (err: unknown, resp?: Message) => void) => Promise<void>;
  makeAnalyzeStackRpcFun(
    name: string,
    version: string,
    level: string,
    policies: unknown,
  ): (call: unknown, cb: (err: unknown, resp?: Message) => void) => Promise<void>;
};
const { unknownStringValue } = require("@pulumi/policy/proxy") as { unknownStringValue: string };

const FIXTURES = path.join(__dirname, "fixtures", "policy");
const LEVEL_NAMES = Object.fromEntries(Object.entries(analyzer.EnforcementLevel).map(([k, v]) => [v, k.toLowerCase()]));

function options(r: PlanResource): Message {
  const o = new analyzer.AnalyzerResourceOptions();
  o.setProtect(false);
  if (r.parent) o.setParent(r.parent);
  return o;
}

/** The wire form of inputs: the offline plan's "[unknown]" is the engine's unknown sentinel on the wire. */
function wire(inputs: unknown): unknown {
  return JSON.parse(JSON.stringify(inputs), (_k, v) => (v === "[unknown]" ? unknownStringValue : v));
}

/**
 * The analyzer's diagnostics as violations. The analyzer prefixes each message with the policy's description and
 * a newline (the CLI shows both); the offline check prints the message alone, one line per violation.
 */
function toViolations(resp: Message | undefined, fallbackUrn: string): Violation[] {
  return ((resp?.getDiagnosticsList() as Message[]) ?? []).map((d) => {
    const description = `${d.getDescription() as string}\n`;
    const message = d.getMessage() as string;
    return {
      policy: d.getPolicyname() as string,
      level: LEVEL_NAMES[d.getEnforcementlevel() as number] as Violation["level"],
      urn: (d.getUrn() as string) || fallbackUrn,
      message: message.startsWith(description) ? message.slice(description.length) : message,
    };
  });
}

async function crossGuard(resources: readonly PlanResource[]): Promise<Violation[]> {
  const analyze = server.makeAnalyzeRpcFun("zarish-sphere", "0.1.0", "mandatory", policies);
  const analyzeStack = server.makeAnalyzeStackRpcFun("zarish-sphere", "0.1.0", "mandatory", policies);
  const call = <T>(fn: typeof analyze, request: Message) =>
    new Promise<T>((resolve, reject) => fn({ request }, (err, resp) => (err ? reject(err) : resolve(resp as T))));
  const out: Violation[] = [];
  for (const r of resources) {
    const request = new analyzer.AnalyzeRequest();
    request.setType(r.type);
    request.setUrn(r.urn);
    request.setName(r.name);
    request.setProperties(Struct.fromJavaScript(wire(r.inputs)));
    request.setOptions(options(r));
    out.push(...toViolations(await call<Message>(analyze, request), r.urn));
  }
  const stack = new analyzer.AnalyzeStackRequest();
  stack.setResourcesList(
    resources.map((r) => {
      const resource = new analyzer.AnalyzerResource();
      resource.setType(r.type);
      resource.setUrn(r.urn);
      resource.setName(r.name);
      resource.setProperties(Struct.fromJavaScript(wire(r.inputs)));
      resource.setOptions(options(r));
      if (r.parent) resource.setParent(r.parent);
      resource.setDependenciesList([...(r.dependencies ?? [])]);
      const map = resource.getPropertydependenciesMap() as Message;
      for (const [property, urns] of Object.entries(r.propertyDependencies ?? {})) {
        const deps = new analyzer.AnalyzerPropertyDependencies();
        deps.setUrnsList([...urns]);
        map.set(property, deps);
      }
      return resource;
    }),
  );
  out.push(...toViolations(await call<Message>(analyzeStack, stack), ""));
  return out;
}

const key = (v: Violation) => `${v.level} ${v.policy} ${v.urn} ${v.message}`;
const sorted = (vs: readonly Violation[]) => vs.map(key).sort();

function set(paths: string[], stack: string): PlanResource[] {
  return loadResourceSets(paths, stack).flatMap((s) => s.resources);
}

test("CrossGuard and the offline engine agree on the hardened manifests (staging and prod)", async (t) => {
  for (const stack of ["staging", "prod"]) {
    const resources = set([path.join(FIXTURES, "hardened")], stack);
    t.deepEqual(sorted(await crossGuard(resources)), sorted(evaluatePolicies(resources)), stack);
    t.deepEqual(evaluatePolicies(resources), [], stack);
  }
});

test("CrossGuard and the offline engine agree on every bad manifest", async (t) => {
  const files = readdirSync(path.join(FIXTURES, "bad")).map((f) => path.join(FIXTURES, "bad", f));
  const resources = set(files, "prod");
  const offline = evaluatePolicies(resources);
  t.true(offline.filter((v) => v.level === "mandatory").length >= files.length);
  t.deepEqual(sorted(await crossGuard(resources)), sorted(offline));
});

test("CrossGuard and the offline engine agree on the crafted plans (bucket settings linked by propertyDependencies)", async (t) => {
  for (const file of ["plan-open-bucket.json", "plan-hardened.json"]) {
    const resources = set([path.join(FIXTURES, file)], "prod");
    t.deepEqual(sorted(await crossGuard(resources)), sorted(evaluatePolicies(resources)), file);
  }
});

test("CrossGuard and the offline engine agree on values unknown during a preview", async (t) => {
  const [deployment] = set([path.join(FIXTURES, "hardened", "deployment.yaml")], "staging");
  const inputs = JSON.parse(JSON.stringify(deployment.inputs));
  inputs.spec.template.spec.containers[0].image = "[unknown]";
  inputs.spec.template.spec.initContainers[0].resources.limits.cpu = "[unknown]";
  const unknown: PlanResource = { ...deployment, inputs };
  const offline = evaluatePolicies([unknown]);
  t.true(offline.length > 0);
  t.true(
    offline.every((v) => v.level === "advisory" && v.message.includes("can't be known during preview")),
    JSON.stringify(offline),
  );
  t.deepEqual(sorted(await crossGuard([unknown])), sorted(offline));
});
