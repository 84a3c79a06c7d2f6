import test from "ava";
import type { PlanResource } from "../tools/lib/policy-engine";
import {
  disruptionBudget,
  evaluate,
  hardenedPodSpec,
  type Json,
  k8s,
  mandatoryPolicies,
  of,
  selectorOf,
  workload,
} from "./helpers/policy";

const namespace = (name: string): Json => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
const policy = (ns: string, spec: Json, name = "default-deny"): Json => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace: ns },
  spec,
});
const DENY_ALL = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };

const denyViolations = (objects: Json[]) => of(evaluate(objects.map((o) => k8s(o))), "namespace-default-deny");

test("namespace-default-deny: a namespace with podSelector {} and both policy types passes", (t) => {
  t.deepEqual(denyViolations([namespace("dd-ok"), policy("dd-ok", DENY_ALL)]), []);
  // Two policies, one per direction, close it as well.
  t.deepEqual(
    denyViolations([
      namespace("dd-split"),
      policy("dd-split", { podSelector: {}, policyTypes: ["Ingress"] }, "in"),
      policy("dd-split", { podSelector: {}, policyTypes: ["Egress"] }, "out"),
    ]),
    [],
  );
});

test("namespace-default-deny: a namespace without one is refused, naming it", (t) => {
  const v = denyViolations([namespace("dd-none"), policy("other", DENY_ALL)]);
  t.deepEqual(
    v.map((x) => x.message),
    [
      "namespace dd-none does not deny ingress and egress by default: add a NetworkPolicy with podSelector: {}, policyTypes: [Ingress, Egress] and no rules, then allow each needed flow by name",
    ],
  );
  t.regex(v[0].urn, /kubernetes:core\/v1:Namespace::dd-none$/);
});

test("namespace-default-deny: a policy that selects some pods, allows traffic, or omits Egress is not a default deny", (t) => {
  const cases: [Json, string][] = [
    [{ podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress", "Egress"] }, "ingress and egress"],
    [{ podSelector: {}, policyTypes: ["Ingress", "Egress"], egress: [{ to: [{ podSelector: {} }] }] }, "egress"],
    [{ podSelector: {}, policyTypes: ["Ingress"] }, "egress"],
    [{ podSelector: {} }, "egress"],
  ];
  cases.forEach(([spec, missing], i) => {
    const v = denyViolations([namespace(`dd-case-${i}`), policy(`dd-case-${i}`, spec)]);
    t.is(v.length, 1, JSON.stringify(spec));
    t.true(v[0].message.startsWith(`namespace dd-case-${i} does not deny ${missing} by default`), v[0].message);
  });
});

test("namespace-default-deny: a policy whose namespace is an unknown Output is linked through its metadata dependency", (t) => {
  const ns = k8s(namespace("dd-linked"));
  const netpol = k8s(policy("[unknown]", DENY_ALL));
  const linked: PlanResource = { ...netpol, urn: `${netpol.urn}-linked`, propertyDependencies: { metadata: [ns.urn] } };
  t.deepEqual(of(evaluate([ns, linked]), "namespace-default-deny"), []);
  // The same policy without the link belongs to no namespace we can tell: the namespace is still refused.
  t.is(of(evaluate([ns, netpol]), "namespace-default-deny").length, 1);
});

// ---------------------------------------------------------------------------------------------------------------

function statefulSet(name: string, replicas: number): Json {
  const object = workload("StatefulSet", name, "logging", hardenedPodSpec(name));
  object.spec.replicas = replicas;
  return object;
}

const pdbViolations = (objects: Json[], stack = "prod", config?: Json) =>
  of(
    evaluate(
      objects.map((o) => k8s(o, stack)),
      { config },
    ),
    "statefulset-disruption-budget",
  );

test("statefulset-disruption-budget: a replicated StatefulSet with a matching PDB passes in prod", (t) => {
  const es = statefulSet("es-ok", 3);
  const pdb = disruptionBudget("es-ok", "logging");
  pdb.metadata.namespace = "logging";
  t.deepEqual(pdbViolations([es, pdb]), []);
});

test("statefulset-disruption-budget: without a PDB, with one in another namespace or selecting other pods, it is refused in prod", (t) => {
  const message =
    "StatefulSet logging/es-none runs 3 replicas in prod without a PodDisruptionBudget: add one whose selector matches its pod labels (e.g. maxUnavailable: 1)";
  t.deepEqual(
    pdbViolations([statefulSet("es-none", 3)]).map((x) => x.message),
    [message],
  );
  const elsewhere = disruptionBudget("es-elsewhere", "monitoring");
  t.is(pdbViolations([statefulSet("es-elsewhere", 3), elsewhere]).length, 1);
  const other = disruptionBudget("es-other", "logging");
  other.spec.selector = { matchLabels: selectorOf("kibana") };
  t.is(pdbViolations([statefulSet("es-other", 3), other]).length, 1);
});

test("statefulset-disruption-budget: staging and single-replica StatefulSets need none, unless config says so", (t) => {
  t.deepEqual(pdbViolations([statefulSet("es-staging", 3)], "staging"), []);
  t.deepEqual(pdbViolations([statefulSet("es-single", 1)]), []);
  t.is(
    pdbViolations([statefulSet("es-staging-cfg", 2)], "staging", {
      "statefulset-disruption-budget": { environments: ["staging", "prod"] },
    }).length,
    1,
  );
});

test("statefulset-disruption-budget: matchExpressions selectors are evaluated", (t) => {
  const pdb = disruptionBudget("es-expr", "logging");
  pdb.spec.selector = {
    matchExpressions: [
      { key: "app.kubernetes.io/name", operator: "In", values: ["es-expr"] },
      { key: "tier", operator: "DoesNotExist" },
    ],
  };
  t.deepEqual(pdbViolations([statefulSet("es-expr", 3), pdb]), []);
  pdb.spec.selector.matchExpressions[1].operator = "Exists";
  t.is(pdbViolations([statefulSet("es-expr", 3), pdb]).length, 1);
});

test("stack policies stay quiet when their resources are absent", (t) => {
  t.deepEqual(mandatoryPolicies(evaluate([k8s(statefulSet("es-quiet", 1))])), []);
});
