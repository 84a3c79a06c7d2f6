/** The offline plan's printed summary: resources per component and type, and the CPU, memory and storage asked for. */
import { formatBytes, parseQuantity } from "../../components/k8s/quantity";
import type { PlanResource, PlanViolation } from "./plan-output";

interface PodTemplateOwner {
  replicas: number | "per node" | "per run";
  pod: Record<string, unknown> | undefined;
}

/** Where a workload keeps its pod spec and how many pods it runs. */
export function podTemplateOf(resource: PlanResource): PodTemplateOwner | undefined {
  const spec = (resource.inputs.spec ?? {}) as Record<string, unknown>;
  const template = (s: Record<string, unknown> | undefined) =>
    ((s?.template as Record<string, unknown> | undefined)?.spec as Record<string, unknown> | undefined) ?? undefined;
  switch (resource.type) {
    case "kubernetes:apps/v1:Deployment":
    case "kubernetes:apps/v1:StatefulSet":
    case "kubernetes:apps/v1:ReplicaSet":
      return { replicas: typeof spec.replicas === "number" ? spec.replicas : 1, pod: template(spec) };
    case "kubernetes:apps/v1:DaemonSet":
      return { replicas: "per node", pod: template(spec) };
    case "kubernetes:batch/v1:Job":
      return { replicas: "per run", pod: template(spec) };
    case "kubernetes:batch/v1:CronJob":
      return {
        replicas: "per run",
        pod: template((spec.jobTemplate as Record<string, unknown> | undefined)?.spec as Record<string, unknown>),
      };
    case "kubernetes:core/v1:Pod":
      return { replicas: 1, pod: spec };
  }
  return undefined;
}

interface Totals {
  cpu: number;
  memory: number;
}

function podRequests(pod: Record<string, unknown> | undefined): Totals {
  const totals = { cpu: 0, memory: 0 };
  for (const c of (pod?.containers ?? []) as { resources?: { requests?: Record<string, string> } }[]) {
    totals.cpu += parseQuantity(c.resources?.requests?.cpu) ?? 0;
    totals.memory += parseQuantity(c.resources?.requests?.memory) ?? 0;
  }
  return totals;
}

function storageOf(resource: PlanResource, replicas: number): number {
  const spec = (resource.inputs.spec ?? {}) as Record<string, unknown>;
  if (resource.type === "kubernetes:core/v1:PersistentVolumeClaim") {
    return parseQuantity((spec.resources as { requests?: { storage?: string } })?.requests?.storage) ?? 0;
  }
  const templates = (spec.volumeClaimTemplates ?? []) as {
    spec?: { resources?: { requests?: { storage?: string } } };
  }[];
  return templates.reduce((sum, t) => sum + (parseQuantity(t.spec?.resources?.requests?.storage) ?? 0), 0) * replicas;
}

/** The component under the platform that a resource belongs to ("zarish:monitoring:Monitoring zarish-monitoring"). */
function componentOf(resource: PlanResource, byUrn: Map<string, PlanResource>): string {
  let current = resource;
  for (;;) {
    const parent = current.parent ? byUrn.get(current.parent) : undefined;
    if (!parent || parent.type === "zarish:platform:Platform") {
      return current === resource && !resource.type.startsWith("zarish:")
        ? "(top level)"
        : `${current.type} ${current.name}`;
    }
    current = parent;
  }
}

export function renderSummary(
  project: string,
  stack: string,
  resources: readonly PlanResource[],
  violations: readonly PlanViolation[],
): string {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const groups = new Map<string, Map<string, number>>();
  const steady = { cpu: 0, memory: 0 };
  const perNode = { cpu: 0, memory: 0 };
  const perRun = { cpu: 0, memory: 0 };
  let storage = 0;
  for (const r of resources) {
    if (!r.type.startsWith("zarish:")) {
      const group = componentOf(r, byUrn);
      const counts = groups.get(group) ?? new Map<string, number>();
      counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
      groups.set(group, counts);
    }
    const owner = podTemplateOf(r);
    if (owner) {
      const req = podRequests(owner.pod);
      const target = owner.replicas === "per node" ? perNode : owner.replicas === "per run" ? perRun : steady;
      const n = typeof owner.replicas === "number" ? owner.replicas : 1;
      target.cpu += req.cpu * n;
      target.memory += req.memory * n;
      storage += storageOf(r, n);
    } else {
      storage += storageOf(r, 1);
    }
  }
  const lines = [`Offline plan of ${project}/${stack}: ${resources.length} resources`, ""];
  for (const [group, counts] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    lines.push(`${group} (${total})`);
    for (const [type, n] of [...counts].sort(([a], [b]) => a.localeCompare(b)))
      lines.push(`  ${String(n).padStart(3)}  ${type}`);
  }
  const cpu = (n: number) => `${Number(n.toFixed(2))} CPU`;
  lines.push(
    "",
    "Requested:",
    `  workloads     ${cpu(steady.cpu)}, ${formatBytes(steady.memory)} memory`,
    `  per node      ${cpu(perNode.cpu)}, ${formatBytes(perNode.memory)} memory (DaemonSets, on every node)`,
    `  per job run   ${cpu(perRun.cpu)}, ${formatBytes(perRun.memory)} memory (Jobs and CronJobs, while they run)`,
    `  storage       ${formatBytes(storage)} in persistent volumes`,
    "",
  );
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  lines.push(`Policy: ${mandatory} mandatory, ${violations.length - mandatory} advisory violation(s)`);
  return lines.join("\n");
}
