/**
 * The node agents as their components build them, against the pack: each passes with the built-in exemptions, and
 * each exemption is needed (with the lists emptied, the agent is refused by exactly the policies it is exempted
 * from), so the exemption list stays as small as the agents' real needs.
 */
import test from "ava";
import { Filebeat } from "../components/logging/filebeat";
import { NodeExporter } from "../components/monitoring";
import { Falco } from "../components/security";
import { DEFAULT_EXEMPTIONS } from "../policies/exemptions";
import { policies } from "../policies/pack";
import { toPlanResources } from "../tools/lib/plan-output";
import { evaluatePolicies } from "../tools/lib/policy-engine";
import { runComponent } from "./helpers/harness";
import { mandatoryPolicies } from "./helpers/policy";

const AGENTS: Record<string, (name: string) => unknown> = {
  "node-exporter": (name) => new NodeExporter(name, { namespace: "node-agents" }),
  filebeat: (name) =>
    new Filebeat(name, {
      namespace: "node-agents",
      environment: "prod",
      logstash: {
        namespace: "logging",
        service: "logstash",
        port: 5044,
        scheme: "tcp",
        podSelector: { "app.kubernetes.io/name": "logstash" },
      },
    }),
  falco: (name) =>
    new Falco(name, {
      namespace: "node-agents",
      sidekickNamespace: "security",
      alertmanager: {
        namespace: "monitoring",
        service: "alertmanager",
        port: 9093,
        scheme: "http",
        podSelector: { "app.kubernetes.io/name": "alertmanager" },
      },
      apiHost: "api.zarishsphere.com",
      databaseNamespace: "zarish-data",
    }),
};

const NO_EXEMPTIONS = Object.fromEntries(
  policies.filter((p) => p.configSchema?.properties.exemptions).map((p) => [p.name, { exemptions: [] }]),
);

for (const [agent, build] of Object.entries(AGENTS)) {
  test(`${agent}: passes every mandatory policy with its exemptions, and needs each of them`, async (t) => {
    const resources = toPlanResources(await runComponent(() => build(`policy-agent-${agent}`)));
    const isAgent = (urn: string) => {
      const r = resources.find((x) => x.urn === urn);
      const metadata = (r?.inputs.metadata ?? {}) as { name?: string; namespace?: string };
      return (
        r?.type === "kubernetes:apps/v1:DaemonSet" && metadata.name === agent && metadata.namespace === "node-agents"
      );
    };
    t.true(
      resources.some((r) => isAgent(r.urn)),
      "the component builds the DaemonSet the exemptions name",
    );
    for (const environment of ["staging", "prod"]) {
      t.deepEqual(mandatoryPolicies(evaluatePolicies(resources, { environment })), [], environment);
    }
    const without = evaluatePolicies(resources, { environment: "prod", config: NO_EXEMPTIONS }).filter(
      (v) => v.level === "mandatory",
    );
    t.true(
      without.every((v) => isAgent(v.urn)),
      "only the agent itself needs an exemption",
    );
    const exempted = [...new Set(DEFAULT_EXEMPTIONS.filter((e) => e.name === agent).map((e) => e.policy))].sort();
    t.deepEqual(mandatoryPolicies(without), exempted);
    // Every listed value (host path, capability) is used: without it, the agent is refused.
    for (const entry of DEFAULT_EXEMPTIONS.filter((e) => e.name === agent && e.values)) {
      for (const value of entry.values ?? []) {
        const others = DEFAULT_EXEMPTIONS.filter((e) => e.policy === entry.policy).map((e) =>
          e === entry ? { ...e, values: e.values?.filter((v) => v !== value) } : e,
        );
        const config = { [entry.policy]: { exemptions: others } };
        const refused = evaluatePolicies(resources, { environment: "prod", config }).filter(
          (v) => v.policy === entry.policy,
        );
        t.true(refused.length > 0, `${entry.policy} ${value}`);
      }
    }
  });
}
