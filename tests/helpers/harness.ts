/**
 * The one test harness: runs a component or the whole program under the recording mock engine and returns what
 * was sent to the engine. Unmocked invokes throw (see tools/lib/mock-engine.ts). Runs are serialized per worker.
 */
import { type RecordedResource, recordProgram } from "../../tools/lib/mock-engine";
import { runStack, type StackRun } from "../../tools/lib/program";

export type { RecordedResource } from "../../tools/lib/mock-engine";
export { SECRET } from "../../tools/lib/mock-engine";

/** Runs `build` (which constructs components) as a program of the given stack and returns the recorded resources. */
export async function runComponent(
  build: () => unknown,
  options: { stack?: string } = {},
): Promise<RecordedResource[]> {
  const { resources } = await recordProgram(build, { project: "zarish-sphere-ops", stack: options.stack ?? "test" });
  return resources;
}

/** Runs index.ts with a stack's config file, `overrides` replacing values by full key (undefined removes a key). */
export function runProgram(stack: string, overrides: Record<string, string | undefined> = {}): Promise<StackRun> {
  return runStack(stack, overrides);
}

export function resourcesOfType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type);
}

/** The one resource of `type` named `name` (the Pulumi name); throws with the candidates if absent. */
export function findResource(resources: readonly RecordedResource[], type: string, name: string): RecordedResource {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = resourcesOfType(resources, type).map((r) => r.name);
    throw new Error(`no ${type} named ${name} (have: ${names.join(", ") || "none"})`);
  }
  return found;
}

/** The Kubernetes object of `kind` whose metadata.name is `name` (and namespace, when given). */
export function findObject(
  resources: readonly RecordedResource[],
  kind: string,
  name: string,
  namespace?: string,
): RecordedResource {
  const found = resources.find((r) => {
    const m = (r.inputs.metadata ?? {}) as { name?: string; namespace?: string };
    return r.inputs.kind === kind && m.name === name && (namespace === undefined || m.namespace === namespace);
  });
  if (!found) throw new Error(`no ${kind} ${namespace ?? "*"}/${name} recorded`);
  return found;
}

/** Every container and init container of a recorded workload (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob). */
export function containersOf(resource: RecordedResource): Record<string, unknown>[] {
  const spec = (resource.inputs.spec ?? {}) as Record<string, any>;
  const pod =
    resource.inputs.kind === "Pod"
      ? spec
      : resource.inputs.kind === "CronJob"
        ? spec.jobTemplate?.spec?.template?.spec
        : spec.template?.spec;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}
