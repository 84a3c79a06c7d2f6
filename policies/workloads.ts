/**
 * Finds the pod template of every workload kind and every container in it: regular, init and ephemeral. A rule
 * written against `Workload` covers a Pod, a Deployment and a CronJob's job template alike, so a container hidden
 * in an init container or a CronJob cannot slip past a check.
 */
import { arr, metadataOf, num, obj, type Props, str } from "./common";
import { ALL_WORKLOAD_TYPES, kubernetesKind, WORKLOAD_TYPES, type WorkloadKind } from "./types";

export type ContainerRole = "container" | "init container" | "ephemeral container";

export interface ContainerRef {
  readonly container: Props;
  readonly role: ContainerRole;
  /** The container's name, or "#<index>" when it has none. */
  readonly name: string;
}

export interface Workload {
  readonly kind: WorkloadKind;
  /** metadata.namespace of the workload object (undefined when not set). */
  readonly namespace: string | undefined;
  /** metadata.name, or the Pulumi resource name when the object is auto-named. */
  readonly name: string;
  /** The object's own metadata (labels and annotations of the Deployment, not of its pods). */
  readonly metadata: Props;
  /** The pod template's metadata (for a Pod: its own metadata). */
  readonly podMetadata: Props;
  readonly podSpec: Props;
  /** spec.replicas for Deployment, StatefulSet, ReplicaSet and ReplicationController (default 1); else undefined. */
  readonly replicas: number | undefined;
  /** spec.volumeClaimTemplates of a StatefulSet. */
  readonly volumeClaimTemplates: readonly Props[];
  readonly containers: readonly ContainerRef[];
  /** Long-running pods (everything but Job, CronJob, and Pods that never restart): probes make sense for them. */
  readonly longRunning: boolean;
}

const KIND_BY_TYPE = new Map<string, WorkloadKind>();
for (const [kind, types] of Object.entries(WORKLOAD_TYPES)) {
  for (const type of types) KIND_BY_TYPE.set(type, kind as WorkloadKind);
}

export { ALL_WORKLOAD_TYPES };

const REPLICATED: ReadonlySet<WorkloadKind> = new Set([
  "Deployment",
  "StatefulSet",
  "ReplicaSet",
  "ReplicationController",
]);

/** The pod template (metadata and spec) of a workload object's properties. */
function podTemplate(kind: WorkloadKind, props: Props): { metadata: Props; spec: Props } {
  const spec = obj(props.spec) ?? {};
  if (kind === "Pod") return { metadata: metadataOf(props), spec };
  const template = kind === "CronJob" ? obj(obj(obj(spec.jobTemplate)?.spec)?.template) : obj(spec.template);
  return { metadata: obj(template?.metadata) ?? {}, spec: obj(template?.spec) ?? {} };
}

function containersOf(podSpec: Props): ContainerRef[] {
  const out: ContainerRef[] = [];
  const lists: [string, ContainerRole][] = [
    ["initContainers", "init container"],
    ["containers", "container"],
    ["ephemeralContainers", "ephemeral container"],
  ];
  for (const [field, role] of lists) {
    arr(podSpec[field]).forEach((value, index) => {
      const container = obj(value);
      if (container) out.push({ container, role, name: str(container.name) ?? `#${index}` });
    });
  }
  return out;
}

/** The workload view of a resource, or undefined when the type is not a workload kind. */
export function workloadOf(type: string, props: Props, resourceName: string): Workload | undefined {
  const kind = KIND_BY_TYPE.get(type) ?? undefined;
  if (kind === undefined) return undefined;
  const metadata = metadataOf(props);
  const template = podTemplate(kind, props);
  const spec = obj(props.spec) ?? {};
  const restartPolicy = str(template.spec.restartPolicy);
  return {
    kind,
    namespace: str(metadata.namespace),
    name: str(metadata.name) ?? resourceName,
    metadata,
    podMetadata: template.metadata,
    podSpec: template.spec,
    replicas: REPLICATED.has(kind) ? (num(spec.replicas) ?? 1) : undefined,
    volumeClaimTemplates:
      kind === "StatefulSet" ? (arr(spec.volumeClaimTemplates).map(obj).filter(Boolean) as Props[]) : [],
    containers: containersOf(template.spec),
    longRunning:
      kind !== "Job" &&
      kind !== "CronJob" &&
      !(kind === "Pod" && restartPolicy !== undefined && restartPolicy !== "Always"),
  };
}

/** "init container \"setup\"", for messages. */
export function describeContainer(ref: ContainerRef): string {
  return `${ref.role} "${ref.name}"`;
}

/** The effective securityContext field of a container: the container's own value, else the pod's. */
export function effectiveSecurity(workload: Workload, ref: ContainerRef, field: string): unknown {
  const own = obj(ref.container.securityContext)?.[field];
  return own !== undefined ? own : obj(workload.podSpec.securityContext)?.[field];
}

/** The Kind of a type token when it is a workload kind. */
export function workloadKindOf(type: string): WorkloadKind | undefined {
  const kind = kubernetesKind(type);
  return kind !== undefined && KIND_BY_TYPE.has(type) ? (kind as WorkloadKind) : undefined;
}

/** The repository of an image reference, without registry-port confusion, tag or digest ("quay.io/prometheus/prometheus"). */
export function imageRepository(image: string): string {
  const withoutDigest = image.split("@")[0];
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** The last path segment of an image's repository ("prometheus" for "quay.io/prometheus/prometheus:v2.53.3"). */
export function imageBaseName(image: string): string {
  const repository = imageRepository(image);
  return repository.slice(repository.lastIndexOf("/") + 1);
}
