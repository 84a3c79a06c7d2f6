import test from "ava";
import { connectionAllowed, type NetworkPolicyObject, type PodRef } from "../components/security";
import type { PlanResource } from "../tools/lib/plan-output";
import { podTemplateOf } from "../tools/lib/plan-summary";
import { renderedPlan } from "./helpers/plan";

/** The pods of the rendered plan, by workload name, with the labels their template gives them. */
function pods(resources: readonly PlanResource[]): Map<string, PodRef> {
  const out = new Map<string, PodRef>();
  for (const r of resources) {
    const owner = podTemplateOf(r);
    if (!owner) continue;
    const spec = r.inputs.spec as any;
    const template = r.inputs.kind === "CronJob" ? spec.jobTemplate.spec.template : spec.template;
    const meta = r.inputs.metadata as { name: string; namespace: string };
    out.set(meta.name, { namespace: meta.namespace, labels: template.metadata.labels });
  }
  return out;
}

function policies(resources: readonly PlanResource[]): NetworkPolicyObject[] {
  return resources
    .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    .map((r) => r.inputs as any);
}

const S3 = { ip: "52.216.8.1" }; // a public AWS address; any address outside the private ranges
const KUBE_DNS: PodRef = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } };

for (const stack of ["staging", "prod"] as const) {
  test(`${stack}: every namespace the plan creates has a default deny for ingress and egress`, async (t) => {
    const { plan } = await renderedPlan(stack);
    const all = policies(plan.resources);
    const namespaces = plan.resources
      .filter((r) => r.type === "kubernetes:core/v1:Namespace")
      .map((r) => (r.inputs.metadata as any).name);
    t.true(namespaces.length >= 5);
    for (const ns of namespaces) {
      t.true(
        all.some(
          (p) =>
            p.metadata.namespace === ns &&
            Object.keys(p.spec.podSelector ?? {}).every(
              (k) => Object.keys((p.spec.podSelector as any)[k] ?? {}).length === 0,
            ) &&
            p.spec.policyTypes?.includes("Ingress") &&
            p.spec.policyTypes?.includes("Egress") &&
            !p.spec.ingress &&
            !p.spec.egress,
        ),
        `namespace ${ns} has no default deny`,
      );
    }
  });

  test(`${stack}: each flow the platform needs is allowed, and an unlisted one is denied`, async (t) => {
    const { plan } = await renderedPlan(stack);
    const all = policies(plan.resources);
    const p = pods(plan.resources);
    const pod = (name: string) => {
      const found = p.get(name);
      if (!found) throw new Error(`no workload ${name} in the ${stack} plan (have ${[...p.keys()].join(", ")})`);
      return found;
    };
    const allowed = (
      from: string | PodRef,
      to: string | PodRef | { ip: string },
      port: number,
      protocol: "TCP" | "UDP" = "TCP",
    ) =>
      connectionAllowed(
        all,
        typeof from === "string" ? pod(from) : from,
        typeof to === "string" ? pod(to) : to,
        port,
        protocol,
      );

    // DNS from every workload.
    for (const name of p.keys()) t.true(allowed(name, KUBE_DNS, 53, "UDP"), `${name} -> kube-dns`);
    // Prometheus scraping.
    t.true(allowed("prometheus", "node-exporter", 9100), "prometheus -> node-exporter");
    t.true(allowed("prometheus", "kube-state-metrics", 8080), "prometheus -> kube-state-metrics");
    t.true(allowed("prometheus", "postgres-exporter", 9187), "prometheus -> postgres-exporter");
    t.true(allowed("prometheus", "redis-exporter", 9121), "prometheus -> redis-exporter");
    t.true(allowed("prometheus", "elasticsearch-exporter", 9114), "prometheus -> elasticsearch-exporter");
    t.true(allowed("prometheus", "alertmanager", 9093), "prometheus -> alertmanager");
    // Logging.
    t.true(allowed("filebeat", "logstash", 5044), "filebeat -> logstash");
    for (const client of ["logstash", "kibana", "grafana"])
      t.true(allowed(client, "elasticsearch", 9200), `${client} -> elasticsearch`);
    // Jaeger stores spans in Elasticsearch in production mode (prod); staging's all-in-one keeps them in memory.
    const jaegers = [...p.keys()].filter((n) => n.startsWith("jaeger"));
    t.is(
      jaegers.some((n) => allowed(n, "elasticsearch", 9200)),
      stack === "prod",
      "jaeger -> elasticsearch",
    );
    t.true(allowed("grafana", "prometheus", 9090), "grafana -> prometheus");
    t.true(allowed("elasticsearch", S3, 443), "elasticsearch -> S3 (snapshots)");
    // Backups: every backup job reaches the database, the uploaders and readers reach S3, the object backup the API.
    const database: PodRef = { namespace: "zarish-data", labels: { "app.kubernetes.io/name": "postgres" } };
    for (const job of ["database-backup", "restore-verification", "database-maintenance", "weekly-health-report"]) {
      t.true(allowed(job, database, 5432), `${job} -> postgres`);
    }
    for (const job of ["database-backup", "kubernetes-object-backup", "restore-verification"])
      t.true(allowed(job, S3, 443), `${job} -> S3`);
    t.true(allowed("kubernetes-object-backup", { ip: "10.0.1.10" }, 443), "object backup -> API server");
    t.false(allowed("kubernetes-object-backup", database, 5432), "the object backup has no business with the database");
    // Falco events page like any alert.
    t.true(allowed("falcosidekick", "alertmanager", 9093), "falcosidekick -> alertmanager");

    // Unlisted: Kibana may not reach Prometheus, Filebeat may not reach Elasticsearch directly, nothing reaches
    // the instance metadata service.
    t.false(allowed("kibana", "prometheus", 9090));
    t.false(allowed("filebeat", "elasticsearch", 9200));
    t.false(allowed("grafana", { ip: "169.254.169.254" }, 80));
    t.false(allowed("logstash", S3, 443));
  });
}
