/**
 * Lookups over the Kubernetes objects a component sent to the engine (recorded by tests/helpers/harness.ts), shared
 * by the concern tests: which objects there are, their metadata, one object by kind and name, a workload's pod spec
 * and containers, and every string of a value for leak checks.
 */
import { containersOf, type RecordedResource } from "./harness";

/** Kinds that are workloads: they carry a pod spec (directly for a Pod). */
export const WORKLOAD_KINDS: ReadonlySet<string> = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "CronJob",
  "Job",
  "Pod",
]);

/** Every recorded Kubernetes object (custom resources of the kubernetes provider). */
export function kubernetesObjects(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
}

export function objectsOfKind(resources: readonly RecordedResource[], kind: string): RecordedResource[] {
  return kubernetesObjects(resources).filter((r) => r.inputs.kind === kind);
}

export function workloads(resources: readonly RecordedResource[]): RecordedResource[] {
  return kubernetesObjects(resources).filter((r) => WORKLOAD_KINDS.has(r.inputs.kind as string));
}

export function metadataOf(r: RecordedResource): {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
} {
  return (r.inputs.metadata ?? {}) as ReturnType<typeof metadataOf>;
}

/** The recorded object of `kind` named `name` (in `namespace`, when given); throws with the objects present. */
export function objectNamed(
  resources: readonly RecordedResource[],
  kind: string,
  name: string,
  namespace?: string,
): RecordedResource {
  const all = objectsOfKind(resources, kind);
  const found = all.find(
    (r) => metadataOf(r).name === name && (namespace === undefined || metadataOf(r).namespace === namespace),
  );
  if (found === undefined) {
    throw new Error(
      `no ${kind} ${namespace ?? "*"}/${name} (have: ${all.map((r) => `${metadataOf(r).namespace}/${metadataOf(r).name}`).join(", ")})`,
    );
  }
  return found;
}

/** The pod spec of a workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob). */
export function podSpecOf(r: RecordedResource): Record<string, any> {
  const spec = (r.inputs.spec ?? {}) as Record<string, any>;
  if (r.inputs.kind === "Pod") return spec;
  return r.inputs.kind === "CronJob" ? spec.jobTemplate.spec.template.spec : spec.template.spec;
}

/** The container (or init container) `name` of a workload; throws if it has none of that name. */
export function containerNamed(r: RecordedResource, name: string): Record<string, any> {
  const found = containersOf(r).find((c) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name} in ${r.inputs.kind} ${metadataOf(r).name}`);
  return found as Record<string, any>;
}

/** Every string anywhere in a value (object keys included), for leak checks. */
export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
  }
  return [];
}
