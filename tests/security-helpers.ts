/**
 * Shared by the security tests (tests/security-*.test.ts): lookups over recorded Kubernetes objects, schema
 * validation (Kubernetes kinds with kubernetes-models, cert-manager kinds with @kubernetes-models/cert-manager),
 * and the invariants every security object holds. Both model packages are ES modules: loaded with import().
 */
import type { ExecutionContext } from "ava";
import { containersOf, type RecordedResource } from "./helpers/harness";
import { validateManifest } from "./helpers/schema";

export function kubernetesObjects(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.inputs.kind !== undefined);
}

export function metadataOf(r: RecordedResource): {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
} {
  return (r.inputs.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
}

export function objectsOfKind(resources: readonly RecordedResource[], kind: string): RecordedResource[] {
  return kubernetesObjects(resources).filter((r) => r.inputs.kind === kind);
}

/** The recorded object of `kind` named `name` (in `namespace`, when given); throws with the names present. */
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

export function podSpecOf(r: RecordedResource): Record<string, any> {
  return (r.inputs.spec as Record<string, any>).template.spec;
}

const CLUSTER_SCOPED = new Set(["ClusterIssuer", "ClusterRole", "ClusterRoleBinding"]);
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"]);
const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
];

/**
 * Every Kubernetes object: explicit name (and namespace unless cluster-scoped), the recommended labels, a valid
 * schema; every container: requests and limits, a pinned image.
 */
export async function assertObjectInvariants(
  t: ExecutionContext,
  resources: readonly RecordedResource[],
): Promise<void> {
  const objects = kubernetesObjects(resources);
  t.true(objects.length > 0, "no Kubernetes object recorded");
  for (const r of objects) {
    const m = metadataOf(r);
    const where = `${r.inputs.kind} ${m.name}`;
    t.is(typeof m.name, "string", `${r.name}: metadata.name`);
    if (!CLUSTER_SCOPED.has(r.inputs.kind as string)) t.is(typeof m.namespace, "string", `${where}: namespace`);
    for (const label of RECOMMENDED_LABELS) t.truthy(m.labels?.[label], `${where}: label ${label}`);
    await t.notThrowsAsync(validateManifest(r.inputs), `${where}: schema`);
    if (WORKLOAD_KINDS.has(r.inputs.kind as string)) {
      for (const c of containersOf(r) as Record<string, any>[]) {
        for (const kind of ["requests", "limits"]) {
          t.truthy(c.resources?.[kind]?.cpu, `${where} ${c.name}: ${kind}.cpu`);
          t.truthy(c.resources?.[kind]?.memory, `${where} ${c.name}: ${kind}.memory`);
        }
        t.regex(c.image, /:[^:@/]+(@sha256:[a-f0-9]{64})?$/, `${where} ${c.name}: pinned image`);
        t.notRegex(c.image, /:latest(@|$)/, `${where} ${c.name}: not latest`);
      }
    }
  }
}
