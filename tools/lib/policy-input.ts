/**
 * Reads what `npm run policy` is given into resource sets the policy engine evaluates: each plan.json is one set
 * (one stack, evaluated on its own, its environment from its stack name), and every Kubernetes YAML file given or
 * found in a given folder joins one "manifests" set (so a NetworkPolicy in one file counts for the Namespace in
 * another). Anything that cannot be read or understood is an error naming the file: the check never passes
 * because it looked at nothing.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { kubernetesType } from "../../policies/types";
import type { PlanResource } from "./plan-output";

/** A path that cannot be read or parsed; the message starts with the file. */
export class PolicyInputError extends Error {}

export interface ResourceSet {
  /** The plan.json path, or "manifests" for the YAML files. */
  readonly label: string;
  /** A plan's stack name (absent for manifests). */
  readonly stack?: string;
  readonly resources: PlanResource[];
}

const YAML_FILE = /\.ya?ml$/i;

function fail(file: string, problem: string): never {
  throw new PolicyInputError(`${file}: ${problem}`);
}

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    return fail(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** Every YAML file under a folder, sorted, so the output is stable. */
function yamlFilesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch (error) {
    return fail(dir, `cannot read folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return entries
    .filter((entry) => YAML_FILE.test(entry))
    .map((entry) => path.join(dir, entry))
    .filter((file) => statSync(file).isFile())
    .sort();
}

function loadPlan(file: string): ResourceSet {
  const text = read(file);
  if (!text.trim()) fail(file, "is empty");
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch (error) {
    return fail(file, `is not valid JSON (${(error as Error).message})`);
  }
  const resources = (plan as { resources?: unknown } | null)?.resources;
  if (typeof plan !== "object" || plan === null || !Array.isArray(resources)) {
    fail(file, 'is not a plan.json: expected an object with a "resources" list');
  }
  if (resources.length === 0) fail(file, "has no resources");
  const out = resources.map((item: unknown, index: number): PlanResource => {
    const r = item as Partial<PlanResource> | null;
    for (const field of ["urn", "type", "name"] as const) {
      if (typeof r?.[field] !== "string") fail(file, `resources[${index}] has no "${field}" string`);
    }
    if (typeof r?.inputs !== "object" || r.inputs === null)
      fail(file, `resources[${index}] (${r?.urn}) has no "inputs" object`);
    const resource = r as PlanResource;
    return {
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      parent: resource.parent ?? null,
      dependencies: Array.isArray(resource.dependencies) ? resource.dependencies : [],
      propertyDependencies: resource.propertyDependencies ?? {},
      inputs: resource.inputs,
      protect: resource.protect === true,
    };
  });
  const stack = (plan as { stack?: unknown }).stack;
  return { label: file, stack: typeof stack === "string" ? stack : undefined, resources: out };
}

type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
};

function checkObject(file: string, where: string, value: unknown): Manifest {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(file, `${where} is not a Kubernetes object`);
  const object = value as Record<string, unknown>;
  if (typeof object.apiVersion !== "string" || !object.apiVersion) fail(file, `${where} has no apiVersion`);
  if (typeof object.kind !== "string" || !object.kind) fail(file, `${where} has no kind`);
  const metadata = object.metadata as { name?: unknown; namespace?: unknown } | undefined;
  if (typeof metadata?.name !== "string" || !metadata.name)
    fail(file, `${where} (${object.kind}) has no metadata.name`);
  return object as Manifest;
}

/** The Kubernetes objects of one YAML file: every document, and the items of a List. */
function manifestsOf(file: string): Manifest[] {
  const text = read(file);
  if (!text.trim()) fail(file, "is empty");
  let documents: unknown[];
  try {
    documents = yaml.loadAll(text, undefined, { filename: file });
  } catch (error) {
    const e = error as yaml.YAMLException;
    return fail(file, `is not valid YAML: ${e.reason ?? e.message}${e.mark ? ` (line ${e.mark.line + 1})` : ""}`);
  }
  const out: Manifest[] = [];
  documents.forEach((document, index) => {
    if (document === null || document === undefined) return; // an empty document between two "---"
    const where = `document ${index + 1}`;
    const object = document as { kind?: unknown; items?: unknown };
    if (
      typeof object === "object" &&
      typeof object.kind === "string" &&
      object.kind.endsWith("List") &&
      Array.isArray(object.items)
    ) {
      for (const [i, item] of object.items.entries()) out.push(checkObject(file, `${where} item ${i + 1}`, item));
    } else {
      out.push(checkObject(file, where, document));
    }
  });
  if (out.length === 0) fail(file, "holds no Kubernetes object");
  return out;
}

/** A resource for one manifest, with a URN in the given stack (the environment) so stack-aware policies can read it. */
export function manifestResource(manifest: Manifest, stack: string): PlanResource {
  const type = kubernetesType(manifest.apiVersion, manifest.kind);
  const { name, namespace } = manifest.metadata;
  const qualified = typeof namespace === "string" && namespace ? `${namespace}/${name}` : name;
  return {
    urn: `urn:pulumi:${stack}::manifests::${type}::${qualified}`,
    type,
    name: qualified,
    parent: null,
    dependencies: [],
    propertyDependencies: {},
    inputs: manifest,
    protect: false,
  };
}

/**
 * The resource sets of the given paths: one per plan.json (`.json` files), one for all YAML (`.yaml`/`.yml` files
 * and folders, searched recursively for YAML only). `manifestStack` names the stack in the manifests' URNs.
 */
export function loadResourceSets(paths: readonly string[], manifestStack: string): ResourceSet[] {
  const sets: ResourceSet[] = [];
  const manifests: PlanResource[] = [];
  const seen = new Map<string, string>();
  const addYaml = (file: string) => {
    manifestsOf(file).forEach((manifest) => {
      const resource = manifestResource(manifest, manifestStack);
      const previous = seen.get(resource.urn);
      if (previous !== undefined) fail(file, `${manifest.kind} ${resource.name} is already defined in ${previous}`);
      seen.set(resource.urn, file);
      manifests.push(resource);
    });
  };
  for (const given of paths) {
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(given);
    } catch (error) {
      return fail(given, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (stats.isDirectory()) {
      const files = yamlFilesUnder(given);
      if (files.length === 0) fail(given, "folder holds no .yaml or .yml file");
      files.forEach(addYaml);
    } else if (/\.json$/i.test(given)) {
      sets.push(loadPlan(given));
    } else if (YAML_FILE.test(given)) {
      addYaml(given);
    } else {
      fail(given, "is neither a plan (.json) nor Kubernetes YAML (.yaml, .yml)");
    }
  }
  if (manifests.length > 0) sets.push({ label: "manifests", resources: manifests });
  return sets;
}
