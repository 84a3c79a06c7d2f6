/**
 * The shared invariants (tests/helpers/invariants.ts) and the concerns' add-ons fail on each rule they state: run
 * against synthetic recorded objects with a recording stand-in for ava's assertions, a valid set passes and each
 * single breakage is reported by the rule that names it.
 */
import { isDeepStrictEqual } from "node:util";
import test, { type ExecutionContext } from "ava";
import { type RecordedResource, SECRET } from "./helpers/harness";
import { assertObjectInvariants, RECOMMENDED_LABELS } from "./helpers/invariants";
import { assertLoggingInvariants } from "./logging-helpers";
import { assertMonitoringInvariants, PLAIN_SECRETS } from "./monitoring-workloads.helpers";

type Json = Record<string, any>;

/** The assertions the invariants use, recording each failed one's message instead of failing this test. */
function recorder(): { t: ExecutionContext; failures: string[] } {
  const failures: string[] = [];
  const check = (ok: boolean, message = "(no message)") => {
    if (!ok) failures.push(message);
  };
  const fake = {
    true: (v: unknown, m?: string) => check(v === true, m),
    false: (v: unknown, m?: string) => check(v === false, m),
    is: (a: unknown, b: unknown, m?: string) => check(Object.is(a, b), m),
    truthy: (v: unknown, m?: string) => check(Boolean(v), m),
    deepEqual: (a: unknown, b: unknown, m?: string) => check(isDeepStrictEqual(a, b), m),
    regex: (s: unknown, r: RegExp, m?: string) => check(typeof s === "string" && r.test(s), m),
    notRegex: (s: unknown, r: RegExp, m?: string) => check(typeof s === "string" && !r.test(s), m),
    notThrowsAsync: async (p: Promise<unknown>, m?: string) => {
      try {
        await p;
      } catch {
        check(false, m);
      }
    },
  };
  return { t: fake as unknown as ExecutionContext, failures };
}

const LABELS = Object.fromEntries(RECOMMENDED_LABELS.map((l) => [l, "x"]));

function object(kind: string, apiVersion: string, name: string, rest: Json = {}): RecordedResource {
  return {
    urn: `urn:pulumi:test::p::kubernetes:${apiVersion}:${kind}::${name}`,
    type: `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`,
    name,
    parent: undefined,
    custom: true,
    protect: false,
    dependencies: [],
    propertyDependencies: {},
    inputs: { apiVersion, kind, metadata: { name, namespace: "ns", labels: { ...LABELS } }, ...rest },
  };
}

function deployment(name: string): RecordedResource {
  return object("Deployment", "apps/v1", name, {
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: "main",
              image: "example/app:1.2.3",
              resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  });
}

/** A valid set: more than 30 objects (logging requires it), a workload, a ConfigMap and a Secret. */
function validSet(): RecordedResource[] {
  return [
    deployment("app"),
    object("ConfigMap", "v1", "config", { data: { "a.conf": "plain" } }),
    object("Secret", "v1", "secret", { stringData: { user: "elastic", password: SECRET } }),
    ...Array.from({ length: 30 }, (_, i) => object("ServiceAccount", "v1", `sa-${i}`)),
  ];
}

const container = (set: RecordedResource[]): Json => (set[0].inputs.spec as Json).template.spec.containers[0];

const ALL = [assertObjectInvariants, assertLoggingInvariants, assertMonitoringInvariants];

test("a valid set passes the shared invariants and every concern's add-on", async (t) => {
  for (const assert of ALL) {
    const { t: fake, failures } = recorder();
    await assert(fake, validSet());
    t.deepEqual(failures, [], assert.name);
  }
});

const breakages: [string, (set: RecordedResource[]) => void, RegExp, readonly (typeof ALL)[number][]][] = [
  ["no object", (set) => set.splice(0), /no Kubernetes object recorded/, ALL],
  ["no kind", (set) => delete set[3].inputs.kind, /sa-0: kind/, ALL],
  ["no name", (set) => delete (set[3].inputs.metadata as Json).name, /sa-0: explicit metadata.name/, ALL],
  ["no namespace", (set) => delete (set[3].inputs.metadata as Json).namespace, /sa-0: explicit namespace/, ALL],
  [
    "a label missing",
    (set) => delete (set[3].inputs.metadata as Json).labels["app.kubernetes.io/part-of"],
    /sa-0: label app.kubernetes.io\/part-of/,
    ALL,
  ],
  ["schema", (set) => ((set[1].inputs as Json).data = "text"), /ConfigMap ns\/config: schema/, ALL],
  [
    "a secret in a ConfigMap",
    (set) => ((set[1].inputs as Json).data = { password: SECRET }),
    /a ConfigMap holds a secret/,
    ALL,
  ],
  ["no memory limit", (set) => delete container(set).resources.limits.memory, /main: limits.memory/, ALL],
  ["no cpu request", (set) => delete container(set).resources.requests.cpu, /main: requests.cpu/, ALL],
  ["unpinned image", (set) => (container(set).image = "example/app"), /main: pinned image/, ALL],
  ["latest image", (set) => (container(set).image = "example/app:latest"), /main: not latest/, ALL],
  [
    "a generated password in a ConfigMap",
    (set) => ((set[1].inputs as Json).data = { x: "mock-elastic-password" }),
    /a ConfigMap holds a generated password/,
    [assertLoggingInvariants],
  ],
  [
    "a generated password in plain text in a Secret",
    (set) => ((set[2].inputs as Json).stringData = { password: "mock-password-1" }),
    /a generated password in plain text/,
    [assertLoggingInvariants],
  ],
  [
    "privilege escalation",
    (set) => (container(set).securityContext.allowPrivilegeEscalation = true),
    /main: no privilege escalation/,
    [assertLoggingInvariants],
  ],
  [
    "writable root filesystem",
    (set) => delete container(set).securityContext.readOnlyRootFilesystem,
    /main: read-only root filesystem/,
    [assertLoggingInvariants],
  ],
  [
    "a capability kept",
    (set) => (container(set).securityContext.capabilities = { drop: ["ALL"], add: ["NET_ADMIN"] }),
    /main: drops every capability/,
    [assertLoggingInvariants],
  ],
  [
    "a plain secret value",
    (set) => ((set[0].inputs.metadata as Json).annotations = { note: PLAIN_SECRETS.redisPassword }),
    /Deployment ns\/app carries a plain secret value/,
    [assertMonitoringInvariants],
  ],
];

for (const [name, breakIt, message, failing] of breakages) {
  test(`breakage reported: ${name}`, async (t) => {
    for (const assert of ALL) {
      const set = validSet();
      breakIt(set);
      const { t: fake, failures } = recorder();
      await assert(fake, set);
      if (failing.includes(assert)) {
        t.true(
          failures.some((f) => message.test(f)),
          `${assert.name}: ${message} not among ${JSON.stringify(failures)}`,
        );
      }
    }
  });
}

test("logging requires the whole component: 30 objects or fewer fail", async (t) => {
  const set = validSet().slice(0, 30);
  const { t: fake, failures } = recorder();
  await assertLoggingInvariants(fake, set);
  t.deepEqual(failures, ["only 30 Kubernetes objects recorded"]);
  const shared = recorder();
  await assertObjectInvariants(shared.t, set);
  t.deepEqual(shared.failures, []);
});
