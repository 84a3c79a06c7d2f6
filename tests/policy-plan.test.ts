import test from "ava";
import { policies } from "../policies/pack";
import { evaluatePolicies } from "../tools/lib/policy-engine";
import { formatViolation } from "../tools/lib/violation-format";
import { renderedPlan } from "./helpers/plan";

const NODE_AGENTS = ["node-exporter", "filebeat", "falco"];

for (const stack of ["staging", "prod"] as const) {
  test(`the ${stack} plan has no mandatory policy violation, and the plan tool reports what the engine finds`, async (t) => {
    const { plan, exitCode } = await renderedPlan(stack);
    t.true(plan.resources.length > 0);
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const mandatory = plan.violations
      .filter((v) => v.level === "mandatory")
      .map((v) => formatViolation(v, byUrn.get(v.urn)));
    t.deepEqual(mandatory, []);
    t.is(exitCode, 0);
    t.deepEqual(evaluatePolicies(plan.resources, { environment: stack }), plan.violations);
  });

  test(`the ${stack} plan needs exemptions only for the named node agents`, async (t) => {
    const { plan } = await renderedPlan(stack);
    // Every exemption list emptied: whatever is refused now is what the exemptions cover.
    const config = Object.fromEntries(
      policies.filter((p) => p.configSchema?.properties.exemptions).map((p) => [p.name, { exemptions: [] }]),
    );
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const beyondAgents = evaluatePolicies(plan.resources, { environment: stack, config })
      .filter((v) => v.level === "mandatory")
      .filter((v) => {
        const resource = byUrn.get(v.urn);
        const metadata = (resource?.inputs.metadata ?? {}) as { name?: string; namespace?: string };
        const agent =
          resource?.type === "kubernetes:apps/v1:DaemonSet" &&
          metadata.namespace === "node-agents" &&
          NODE_AGENTS.includes(metadata.name ?? "");
        return !agent;
      })
      .map((v) => formatViolation(v, byUrn.get(v.urn)));
    t.deepEqual(beyondAgents, []);
  });
}
