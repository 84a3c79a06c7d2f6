import test from "ava";
import { renderedPlan } from "./helpers/plan";

/**
 * A first `pulumi up` on an empty cluster creates things in dependency order: the plan's dependencies are what the
 * engine waits for, so they must say that objects wait for their namespace and cert-manager objects for its CRDs.
 */
for (const stack of ["staging", "prod"] as const) {
  test(`${stack}: every namespaced object waits for its namespace`, async (t) => {
    const { plan } = await renderedPlan(stack);
    const namespaceUrns = new Map(
      plan.resources
        .filter((r) => r.type === "kubernetes:core/v1:Namespace")
        .map((r) => [(r.inputs.metadata as { name: string }).name, r.urn]),
    );
    let checked = 0;
    for (const r of plan.resources) {
      const namespace = (r.inputs.metadata as { namespace?: unknown } | undefined)?.namespace;
      if (!r.type.startsWith("kubernetes:") || typeof namespace !== "string" || !namespaceUrns.has(namespace)) continue;
      t.true(r.dependencies.includes(namespaceUrns.get(namespace)!), `${r.type} ${namespace}/${r.name}`);
      checked++;
    }
    t.true(checked > 150, `only ${checked} namespaced objects checked`);
  });
}

test("staging installs cert-manager: every cert-manager object, the logging CAs included, waits for the release", async (t) => {
  const { plan } = await renderedPlan("staging");
  const release = plan.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release");
  t.truthy(release, "staging installs cert-manager (security.certManager.install)");
  const crs = plan.resources.filter((r) => r.type.startsWith("kubernetes:cert-manager.io/"));
  t.true(crs.length >= 10);
  for (const r of crs) t.true(r.dependencies.includes(release!.urn), `${r.type} ${r.name}`);
});
