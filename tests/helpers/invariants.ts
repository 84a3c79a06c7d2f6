/**
 * The invariants every recorded Kubernetes object holds, whatever its concern (ARCHITECTURE: explicit names,
 * recommended labels, secrets never in ConfigMaps, sized and pinned containers). A concern with checks of its own
 * (logging's hardened containers, monitoring's fixture secrets) calls this first and adds them in its helper.
 */
import type { ExecutionContext } from "ava";
import { containersOf, type RecordedResource, SECRET } from "./harness";
import { allStrings, kubernetesObjects, metadataOf, workloads } from "./objects";
import { validateManifest } from "./schema";

/** Kinds without a namespace among those the components create. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  "ClusterIssuer",
  "ClusterRole",
  "ClusterRoleBinding",
]);

export const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
] as const;

/** `Kind namespace/name`, to say in a message which object broke a rule. */
export function describeObject(r: RecordedResource): string {
  const m = metadataOf(r);
  return `${r.inputs.kind} ${m.namespace ?? "-"}/${m.name}`;
}

/**
 * Every Kubernetes object: a kind, an explicit name (and namespace unless cluster-scoped), the recommended
 * labels, a valid schema, no secret in a ConfigMap; every container of every workload (init containers
 * included): cpu and memory requests and limits, an image pinned to a tag (optionally with a digest), not latest.
 */
export async function assertObjectInvariants(
  t: ExecutionContext,
  resources: readonly RecordedResource[],
): Promise<void> {
  const objects = kubernetesObjects(resources);
  t.true(objects.length > 0, "no Kubernetes object recorded");
  for (const r of objects) {
    const m = metadataOf(r);
    const where = describeObject(r);
    t.is(typeof r.inputs.kind, "string", `${r.name}: kind`);
    t.is(typeof m.name, "string", `${r.name}: explicit metadata.name`);
    if (!CLUSTER_SCOPED_KINDS.has(r.inputs.kind as string)) {
      t.is(typeof m.namespace, "string", `${where}: explicit namespace`);
    }
    for (const label of RECOMMENDED_LABELS) t.truthy(m.labels?.[label], `${where}: label ${label}`);
    await t.notThrowsAsync(validateManifest(r.inputs), `${where}: schema`);
    if (r.inputs.kind === "ConfigMap") {
      t.false(allStrings(r.inputs).includes(SECRET), `${where}: a ConfigMap holds a secret`);
    }
  }
  for (const w of workloads(resources)) {
    for (const c of containersOf(w) as Record<string, any>[]) {
      const where = `${describeObject(w)} container ${c.name}`;
      for (const kind of ["requests", "limits"]) {
        t.truthy(c.resources?.[kind]?.cpu, `${where}: ${kind}.cpu`);
        t.truthy(c.resources?.[kind]?.memory, `${where}: ${kind}.memory`);
      }
      t.regex(c.image, /:[^:@/]+(@sha256:[a-f0-9]{64})?$/, `${where}: pinned image`);
      t.notRegex(c.image, /:latest(@|$)/, `${where}: not latest`);
    }
  }
}
