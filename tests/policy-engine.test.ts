import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as k8sSdk from "@pulumi/kubernetes";
import { type Policies, type PolicyResource, type StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import test from "ava";
import { policies as packPolicies } from "../policies/pack";
import {
  environmentConfig,
  evaluatePolicies,
  type PlanResource,
  PolicyConfigError,
  PolicyRunError,
  resolvePolicyConfig,
} from "../tools/lib/policy-engine";
import { awsResource, evaluate, hardenedPodSpec, type Json, k8s, mandatoryPolicies, workload } from "./helpers/policy";

const pod = (name: string, stack = "staging") => k8s(workload("Pod", name, "apps", hardenedPodSpec(name)), stack);
const deployment = (name: string) => k8s(workload("Deployment", name, "apps", hardenedPodSpec(name)));

/** A policy that records the arguments it was called with. */
function recorder(name: string, calls: Json[], extra: Json = {}): Policies[number] {
  return {
    name,
    description: "records its arguments",
    enforcementLevel: "advisory",
    configSchema: {
      properties: {
        threshold: { type: "integer", default: 5 },
        environment: { type: "string", enum: ["staging", "prod"] },
      },
    },
    validateResource: (args, report) => {
      calls.push({
        type: args.type,
        config: args.getConfig(),
        isPod: args.isType(k8sSdk.core.v1.Pod),
        asPod: args.asType(k8sSdk.core.v1.Pod),
        args,
      });
      report(`saw ${args.name}`);
    },
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The pack itself

test("every policy has a unique kebab-case name, a one-line description, a level, and config defaults its schema accepts", (t) => {
  const names = packPolicies.map((p) => p.name);
  t.is(new Set(names).size, names.length);
  for (const policy of packPolicies) {
    t.regex(policy.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    t.true(policy.description.length > 10 && !policy.description.includes("\n"), policy.name);
    t.true(policy.enforcementLevel === "mandatory" || policy.enforcementLevel === "advisory", policy.name);
  }
  // Resolving an empty config validates every schema default against its own schema.
  const resolved = resolvePolicyConfig({});
  t.is(resolved.size, packPolicies.length);
});

test("the pack's advisory policies are exactly the hardening hints; everything else blocks", (t) => {
  const advisory = packPolicies
    .filter((p) => p.enforcementLevel === "advisory")
    .map((p) => p.name)
    .sort();
  t.deepEqual(advisory, [
    "containers-drop-all-capabilities",
    "containers-probes",
    "containers-read-only-root-filesystem",
    "containers-run-as-non-root",
    "containers-seccomp-profile",
    "multi-replica-anti-affinity",
  ]);
});

test("policies/index.ts constructs the PolicyPack and nothing else (the offline check imports pack.ts)", (t) => {
  const source = readFileSync(path.join(__dirname, "..", "policies", "index.ts"), "utf8");
  const code = source.split("\n").filter((l) => l.trim() && !l.trim().startsWith("//"));
  t.deepEqual(code, [
    'import { PolicyPack } from "@pulumi/policy";',
    'import { packEnforcementLevel, packName, policies } from "./pack";',
    "new PolicyPack(packName, { policies, enforcementLevel: packEnforcementLevel });",
  ]);
  const manifest = JSON.parse(readFileSync(path.join(__dirname, "..", "policies", "package.json"), "utf8"));
  const root = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
  t.is(manifest.main, "index.ts");
  t.truthy(manifest.version, "PolicyPack reads the version from the pack's package.json");
  for (const dep of ["@pulumi/policy", "@pulumi/pulumi"]) t.is(manifest.dependencies[dep], root.dependencies[dep], dep);
});

// ---------------------------------------------------------------------------------------------------------------
// Arguments

test("resource arguments have CrossGuard's shape; isType and asType honour the class given", (t) => {
  const calls: Json[] = [];
  const resources = [pod("args-pod"), deployment("args-deploy")];
  evaluatePolicies(resources, { policies: [recorder("rec", calls)] });
  t.is(calls.length, 2);
  t.deepEqual(
    calls.map((c) => [c.type, c.isPod, c.asPod === undefined]),
    [
      ["kubernetes:core/v1:Pod", true, false],
      ["kubernetes:apps/v1:Deployment", false, true],
    ],
  );
  const args = calls[0].args;
  t.is(args.urn, resources[0].urn);
  t.is(args.name, resources[0].name);
  t.is(args.props.metadata.name, "args-pod");
  t.deepEqual(args.opts, {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
  });
  t.is(args.stackTags.size, 0);
  t.throws(() => args.notApplicable("because"));
});

test("a class without __pulumiType is matched through its isInstance, as the analyzer does", (t) => {
  const calls: Json[] = [];
  const policy = recorder("rec-instance", calls, {
    validateResource: (args: Json) => {
      calls.push({ hit: args.isType({ isInstance: (o: Json) => o.__pulumiType === "kubernetes:core/v1:Pod" }) });
    },
  });
  evaluatePolicies([pod("inst-pod"), deployment("inst-deploy")], { policies: [policy] });
  t.deepEqual(calls, [{ hit: true }, { hit: false }]);
});

test("validateResourceOfType from the SDK runs only on its type", (t) => {
  const seen: string[] = [];
  const policy = {
    name: "only-pods",
    description: "sees pods",
    enforcementLevel: "mandatory" as const,
    validateResource: validateResourceOfType(k8sSdk.core.v1.Pod, (_pod, args) => {
      seen.push(args.name);
    }),
  };
  evaluatePolicies([pod("of-type-pod"), deployment("of-type-deploy")], { policies: [policy] });
  t.deepEqual(seen, ["apps/of-type-pod"]);
});

test("stack arguments link parent, dependencies and propertyDependencies to resource objects", (t) => {
  let seen: PolicyResource[] = [];
  const stackPolicy: StackValidationPolicy = {
    name: "links",
    description: "records resources",
    enforcementLevel: "advisory",
    validateStack: (args) => {
      seen = args.resources;
    },
  };
  const bucket = awsResource("aws:s3/bucket:Bucket", "links-bucket", {});
  const versioning = awsResource(
    "aws:s3/bucketVersioning:BucketVersioning",
    "links-versioning",
    {},
    { bucketOf: bucket },
  );
  const child: PlanResource = {
    ...versioning,
    urn: `${versioning.urn}-child`,
    parent: bucket.urn,
    dependencies: [bucket.urn, "urn:pulumi:x::y::not:in:plan::z"],
  };
  evaluatePolicies([bucket, versioning, child], { policies: [stackPolicy] });
  t.is(seen.length, 3);
  t.is(seen[1].propertyDependencies.bucket[0], seen[0]);
  t.is(seen[2].parent, seen[0]);
  t.deepEqual(seen[2].dependencies, [seen[0]]);
  t.true(seen[0].isType(require("@pulumi/aws").s3.Bucket));
  t.false(seen[1].isType(require("@pulumi/aws").s3.Bucket));
});

// ---------------------------------------------------------------------------------------------------------------
// Config, as the Pulumi CLI reconciles it

test("config: schema defaults reach getConfig; values and the environment option are merged over them", (t) => {
  const calls: Json[] = [];
  evaluatePolicies([pod("cfg-defaults")], { policies: [recorder("rec", calls)] });
  evaluatePolicies([pod("cfg-values")], {
    policies: [recorder("rec", calls)],
    config: { rec: { threshold: 9 } },
    environment: "prod",
  });
  evaluatePolicies([pod("cfg-env")], {
    policies: [recorder("rec", calls)],
    config: { rec: { environment: "staging" } },
    environment: "prod",
  });
  t.deepEqual(
    calls.map((c) => c.config),
    [{ threshold: 5 }, { threshold: 9, environment: "prod" }, { threshold: 5, environment: "staging" }],
  );
});

test('config: levels from the policy, from "all", and per policy (string or object form); disabled policies do not run', (t) => {
  const resources = [pod("cfg-levels")];
  const level = (config?: Json) =>
    evaluatePolicies(resources, { policies: [recorder("rec", [])], config }).map((v) => v.level);
  t.deepEqual(level(), ["advisory"]);
  t.deepEqual(level({ all: "mandatory" }), ["mandatory"]);
  t.deepEqual(level({ all: "mandatory", rec: "advisory" }), ["advisory"]);
  t.deepEqual(level({ rec: { enforcementLevel: "remediate" } }), ["mandatory"]);
  t.deepEqual(level({ rec: "disabled" }), []);
});

test("config: an unknown policy, a bad level or a value the schema refuses is one error naming each problem", (t) => {
  const error = t.throws(
    () =>
      evaluatePolicies([pod("cfg-bad")], {
        config: {
          "no-such-policy": "mandatory",
          "container-resources": { enforcementLevel: "strict", maxCpu: 8 },
          "prometheus-retention": 3,
        },
      }),
    { instanceOf: PolicyConfigError },
  );
  t.regex(error.message, /unknown policy "no-such-policy"/);
  t.regex(error.message, /container-resources\.enforcementLevel: "strict" is not an enforcement level/);
  t.regex(error.message, /container-resources\.maxCpu: must be string/);
  t.regex(error.message, /prometheus-retention: 3 is not valid/);
  t.throws(() => evaluatePolicies([pod("cfg-env-bad")], { environment: "dev" }), {
    message: /environment: must be equal to one of the allowed values/,
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Robustness

test("unknown values during a preview: the pack reports 'can't run during preview' (advisory) and does not crash", (t) => {
  const object = workload("CronJob", "unknown-cron", "apps", hardenedPodSpec("unknown-cron"));
  object.spec.jobTemplate.spec.template.spec.initContainers[0].image = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
  object.spec.jobTemplate.spec.template.spec.containers[0].securityContext = "[unknown]";
  const v = evaluate([k8s(object)]);
  t.deepEqual(mandatoryPolicies(v), []);
  t.true(v.length > 0);
  for (const violation of v)
    t.regex(violation.message, /^can't run policy '[a-z-]+' from policy pack 'zarish-sphere@v[\d.]+' during preview: /);
});

test("inputs with undefined, null or odd shapes do not crash any policy", (t) => {
  const odd: Json[] = [
    {},
    { metadata: undefined, spec: undefined },
    { spec: null },
    {
      spec: {
        template: {
          spec: {
            containers: [
              undefined,
              null,
              "x",
              3,
              { name: "c", securityContext: null, resources: "big", ports: [null] },
            ],
          },
        },
      },
    },
    {
      spec: { template: { spec: { initContainers: {}, volumes: [{ hostPath: null }, { name: "v", hostPath: {} }] } } },
    },
    { spec: { jobTemplate: null, replicas: "many" } },
    { data: { "audit.json": "{ not json with phases" }, metadata: { name: 7 } },
    { policy: 42, rules: [null], versioningConfiguration: null, tags: null },
  ];
  const types = [
    ...[
      "core/v1:Pod",
      "apps/v1:Deployment",
      "apps/v1:StatefulSet",
      "apps/v1:DaemonSet",
      "apps/v1:ReplicaSet",
      "batch/v1:Job",
      "batch/v1:CronJob",
    ].map((t) => `kubernetes:${t}`),
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Namespace",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:policy/v1:PodDisruptionBudget",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
  ];
  const resources: PlanResource[] = [];
  for (const type of types) {
    for (const [i, inputs] of odd.entries()) {
      resources.push({ urn: `urn:pulumi:prod::p::${type}::odd-${i}`, type, name: `odd-${i}`, inputs });
    }
  }
  t.notThrows(() => evaluatePolicies(resources, { environment: "prod" }));
});

test("a policy that throws fails the run, naming the policy and the resource; async policies are refused", (t) => {
  const broken = {
    name: "broken",
    description: "throws",
    enforcementLevel: "mandatory" as const,
    validateResource: () => {
      throw new Error("boom");
    },
  };
  const error = t.throws(() => evaluatePolicies([pod("throws")], { policies: [broken] }), {
    instanceOf: PolicyRunError,
  });
  t.is(error.message, `policy broken failed on ${pod("throws").urn}: boom`);
  const async = {
    name: "async",
    description: "async",
    enforcementLevel: "mandatory" as const,
    validateResource: async () => {},
  };
  t.throws(() => evaluatePolicies([pod("async")], { policies: [async] }), {
    message: /asynchronous validations are not supported offline/,
  });
});

test("notApplicable and a stack violation without a URN are handled as the analyzer does", (t) => {
  const notApplicable = {
    name: "na",
    description: "not applicable",
    enforcementLevel: "mandatory" as const,
    validateResource: (args: Json) => args.notApplicable("no"),
  };
  t.deepEqual(evaluatePolicies([pod("na")], { policies: [notApplicable] }), []);
  const stack: StackValidationPolicy = {
    name: "whole",
    description: "stack",
    enforcementLevel: "mandatory",
    validateStack: (_a, report) => report("the stack"),
  };
  t.deepEqual(evaluatePolicies([pod("whole")], { policies: [stack] }), [
    { policy: "whole", level: "mandatory", urn: "", message: "the stack" },
  ]);
});

test("the environment of a resource comes from its stack name when no option or config sets it", (t) => {
  const object = workload("StatefulSet", "env-es", "logging", hardenedPodSpec("env-es"));
  const inStack = (stack: string) => mandatoryPolicies(evaluatePolicies([k8s(object, stack)]));
  t.deepEqual(inStack("staging"), []);
  t.deepEqual(inStack("prod"), ["statefulset-disruption-budget"]);
  t.deepEqual(inStack("prod-eu"), ["statefulset-disruption-budget"]);
  t.deepEqual(inStack("production"), ["statefulset-disruption-budget"]);
  t.deepEqual(inStack("dev"), []);
  t.deepEqual(mandatoryPolicies(evaluatePolicies([k8s(object, "dev")], { environment: "prod" })), [
    "statefulset-disruption-budget",
  ]);
});

test("policies/config/<environment>.json are valid pack configs pinning every environment-aware policy", (t) => {
  const aware = packPolicies.filter((p) => p.configSchema?.properties.environment).map((p) => p.name);
  t.true(aware.length > 0);
  for (const environment of ["staging", "prod"] as const) {
    const config = environmentConfig(environment);
    t.notThrows(() => resolvePolicyConfig(config));
    t.deepEqual(Object.keys(config).sort(), [...aware].sort(), environment);
    for (const name of aware) t.is((config[name] as Json).environment, environment);
  }
  // A stack named otherwise is still held to prod's rules with prod's file.
  const es = k8s(workload("StatefulSet", "env-file-es", "logging", hardenedPodSpec("env-file-es")), "eu-west");
  t.deepEqual(mandatoryPolicies(evaluatePolicies([es], { config: environmentConfig("prod") })), [
    "statefulset-disruption-budget",
  ]);
});
