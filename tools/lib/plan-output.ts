/**
 * Turns recorded resources into the offline plan's outputs (the contract in ARCHITECTURE.md): plan.json,
 * manifests/<namespace or _cluster>/<Kind>-<name>.yaml and files/<namespace>/<configmap>/<key>.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { type RecordedResource, SECRET } from "./mock-engine";

export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  readonly dependencies: string[];
  readonly propertyDependencies: Record<string, string[]>;
  readonly inputs: Record<string, unknown>;
  /** Whether the engine refuses to delete it (`protect`); not in the contract's list, an addition for reviewers. */
  readonly protect: boolean;
}

export interface PlanViolation {
  readonly policy: string;
  readonly level: "mandatory" | "advisory";
  readonly urn: string;
  readonly message: string;
}

export interface Plan {
  readonly project: string;
  readonly stack: string;
  readonly resources: PlanResource[];
  readonly violations: PlanViolation[];
}

/** Types under kubernetes: that are not objects sent to the API server. */
const NOT_MANIFESTS = new Set([
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:helm.sh/v4:Chart",
  "kubernetes:yaml/v2:ConfigGroup",
]);

export function toPlanResources(resources: readonly RecordedResource[]): PlanResource[] {
  return resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent ?? null,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
    inputs: redactKubernetesSecret(r.type, r.inputs),
    protect: r.protect,
  }));
}

/** A Secret's values are never written out, even if a component forgot to make them Pulumi secrets. */
function redactKubernetesSecret(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type !== "kubernetes:core/v1:Secret") return inputs;
  const out = { ...inputs };
  for (const field of ["data", "stringData"]) {
    const values = out[field];
    if (values && typeof values === "object") {
      out[field] = Object.fromEntries(Object.keys(values).map((k) => [k, SECRET]));
    } else if (values !== undefined) {
      out[field] = SECRET;
    }
  }
  return out;
}

export function isManifest(resource: PlanResource): boolean {
  return (
    resource.type.startsWith("kubernetes:") &&
    !resource.type.startsWith("pulumi:providers:") &&
    !NOT_MANIFESTS.has(resource.type)
  );
}

export function manifestPath(resource: PlanResource): string {
  const metadata = (resource.inputs.metadata ?? {}) as { name?: string; namespace?: string };
  const kind = String(resource.inputs.kind ?? resource.type.split(":").pop());
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : "_cluster";
  return path.join("manifests", namespace, `${kind}-${safe(metadata.name ?? resource.name)}.yaml`);
}

/** Writes plan.json, manifests/ and files/ into `dir` (emptied first, so nothing stale is left behind). */
export function writePlan(dir: string, plan: Plan): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
  for (const resource of plan.resources) {
    if (!isManifest(resource)) continue;
    const file = path.join(dir, manifestPath(resource));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, yaml.dump(resource.inputs, { noRefs: true, lineWidth: -1, sortKeys: false }));
    if (resource.type === "kubernetes:core/v1:ConfigMap") writeConfigMapFiles(dir, resource);
  }
}

function writeConfigMapFiles(dir: string, resource: PlanResource): void {
  const metadata = (resource.inputs.metadata ?? {}) as { name?: string; namespace?: string };
  const base = path.join(dir, "files", safe(metadata.namespace ?? "_cluster"), safe(metadata.name ?? resource.name));
  const entries: [string, string | Buffer][] = [
    ...Object.entries((resource.inputs.data ?? {}) as Record<string, string>),
    ...Object.entries((resource.inputs.binaryData ?? {}) as Record<string, string>).map(
      ([k, v]) => [k, Buffer.from(v, "base64")] as [string, Buffer],
    ),
  ];
  for (const [key, value] of entries) {
    mkdirSync(base, { recursive: true });
    writeFileSync(path.join(base, safe(key)), value);
  }
}

/** File-name safe, without changing ordinary Kubernetes names. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_");
}
