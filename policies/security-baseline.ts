/**
 * The Kubernetes security baseline (Pod Security Standards "baseline" and "restricted", as mandatory and advisory
 * policies): no privileged or host-namespace pods, no host paths, host ports or runtime sockets, no added
 * capabilities, no privilege escalation, no UID 0, pinned images, and no Service exposed outside the cluster without
 * an explicit allow. The node agents are exempted by name, value by value (see exemptions.ts).
 */
import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { arr, configOf, metadataOf, num, obj, type Props, str, validateTypes } from "./common";
import { exemptionsProperty, isExempt } from "./exemptions";
import { K8S } from "./types";
import {
  ALL_WORKLOAD_TYPES,
  type ContainerRef,
  describeContainer,
  effectiveSecurity,
  type Workload,
  workloadOf,
} from "./workloads";

/** One problem found in a workload; `value` is what an exemption may allow (a host path, a capability, a port). */
export interface Finding {
  readonly message: string;
  readonly value?: string;
  /** False for a finding no exemption may waive. Default: true (when the policy is exemptable at all). */
  readonly exemptable?: boolean;
}

interface WorkloadPolicyArgs {
  readonly name: string;
  readonly description: string;
  readonly level: "mandatory" | "advisory";
  /** Whether node agents may be exempted by name (only the mandatory host-access policies). */
  readonly exemptable: boolean;
  readonly properties?: PolicyConfigSchema["properties"];
  readonly check: (workload: Workload, config: Props) => Finding[];
}

/** A resource policy over every workload kind, with the exemption list applied when the policy allows one. */
function workloadPolicy(def: WorkloadPolicyArgs): ResourceValidationPolicy {
  const schema: PolicyConfigSchema = {
    properties: { ...def.properties, ...(def.exemptable ? { exemptions: exemptionsProperty(def.name) } : {}) },
  };
  return {
    name: def.name,
    description: def.description,
    enforcementLevel: def.level,
    configSchema: schema,
    validateResource: validateTypes(ALL_WORKLOAD_TYPES, (args, report) => {
      const workload = workloadOf(args.type, args.props as Props, args.name);
      if (!workload) return;
      const config = configOf<Props>(args, schema);
      for (const finding of def.check(workload, config)) {
        if (def.exemptable && finding.exemptable !== false && isExempt(config.exemptions, workload, finding.value))
          continue;
        report(finding.message);
      }
    }),
  };
}

function forEachContainer(
  workload: Workload,
  check: (ref: ContainerRef) => Finding | Finding[] | undefined,
): Finding[] {
  const out: Finding[] = [];
  for (const ref of workload.containers) {
    const result = check(ref);
    if (Array.isArray(result)) out.push(...result);
    else if (result) out.push(result);
  }
  return out;
}

function securityContext(ref: ContainerRef): Props {
  return obj(ref.container.securityContext) ?? {};
}

function hostPathVolumes(workload: Workload): { volume: string; path: string }[] {
  const out: { volume: string; path: string }[] = [];
  for (const item of arr(workload.podSpec.volumes)) {
    const volume = obj(item);
    const hostPath = obj(volume?.hostPath);
    if (volume && hostPath) out.push({ volume: str(volume.name) ?? "?", path: str(hostPath.path) ?? "" });
  }
  return out;
}

/** "/var/run/" and "/var/run" are the same host path; "" stays "" (an invalid hostPath, still reported). */
function normalizePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** The capability name without the CAP_ prefix, upper case, as the kubelet compares them. */
export function capabilityName(value: unknown): string {
  return String(value).toUpperCase().replace(/^CAP_/, "");
}

/** Why an image reference is not pinned, or undefined when a version tag or a digest pins it. */
export function imageProblem(image: unknown): string | undefined {
  const reference = str(image)?.trim();
  if (!reference) return "has no image";
  const at = reference.indexOf("@");
  if (at !== -1) {
    return /^sha256:[a-f0-9]{64}$/.test(reference.slice(at + 1))
      ? undefined
      : `has a malformed digest in "${reference}": use @sha256:<64 hex digits>`;
  }
  const lastSlash = reference.lastIndexOf("/");
  const colon = reference.indexOf(":", lastSlash + 1);
  if (colon === -1) return `uses the untagged image "${reference}": pin a version (add it to components/k8s/images.ts)`;
  if (reference.slice(colon + 1) === "latest") {
    return `uses "${reference}": "latest" moves; pin a version or digest (components/k8s/images.ts)`;
  }
  return undefined;
}

const hostNamespace = (field: "hostPID" | "hostIPC" | "hostNetwork", policy: string, what: string) =>
  workloadPolicy({
    name: policy,
    description: `Pods do not share the host's ${what} (${field}).`,
    level: "mandatory",
    exemptable: true,
    check: (w) =>
      w.podSpec[field] === true
        ? [{ message: `shares the host's ${what}: remove spec.${field} from the pod template` }]
        : [],
  });

export const noPrivilegedContainers = workloadPolicy({
  name: "no-privileged-containers",
  description: "No container runs privileged.",
  level: "mandatory",
  exemptable: true,
  check: (w) =>
    forEachContainer(w, (ref) =>
      securityContext(ref).privileged === true
        ? {
            message: `${describeContainer(ref)} runs privileged: remove securityContext.privileged and add only the capability it needs`,
          }
        : undefined,
    ),
});

export const noHostPid = hostNamespace("hostPID", "no-host-pid", "process namespace");
export const noHostIpc = hostNamespace("hostIPC", "no-host-ipc", "IPC namespace");
export const noHostNetwork = hostNamespace("hostNetwork", "no-host-network", "network namespace");

export const noHostPathVolumes = workloadPolicy({
  name: "no-host-path-volumes",
  description: "No pod mounts a path of the node (hostPath volume); an exempted one is mounted read-only.",
  level: "mandatory",
  exemptable: true,
  check: (w) => {
    const out: Finding[] = [];
    for (const { volume, path } of hostPathVolumes(w)) {
      out.push({
        message: `volume "${volume}" mounts the node's "${path}": use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume`,
        value: normalizePath(path),
      });
      // Even an exempted node agent reads the node, it never writes to it: no exemption waives this one.
      for (const ref of w.containers) {
        const writable = arr(ref.container.volumeMounts).some(
          (m) => obj(m)?.name === volume && obj(m)?.readOnly !== true,
        );
        if (writable) {
          out.push({
            message: `${describeContainer(ref)} mounts the node's "${path}" writable: set readOnly: true on its volumeMount`,
            exemptable: false,
          });
        }
      }
    }
    return out;
  },
});

export const noHostPorts = workloadPolicy({
  name: "no-host-ports",
  description: "No container binds a port of the node (hostPort).",
  level: "mandatory",
  exemptable: true,
  check: (w) =>
    forEachContainer(w, (ref) =>
      arr(ref.container.ports)
        .map((p) => num(obj(p)?.hostPort))
        .filter((port): port is number => port !== undefined && port !== 0)
        .map((port) => ({
          message: `${describeContainer(ref)} binds host port ${port}: remove hostPort and reach the pod through a Service`,
          value: String(port),
        })),
    ),
});

const DEFAULT_SOCKETS = [
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/var/run/containerd/containerd.sock",
  "/run/containerd/containerd.sock",
  "/var/run/crio/crio.sock",
  "/run/crio/crio.sock",
  "/var/run/cri-dockerd.sock",
];

export const noContainerRuntimeSocket = workloadPolicy({
  name: "no-container-runtime-socket",
  description: "No pod mounts the container runtime socket (docker, containerd, CRI-O) or a folder that holds it.",
  level: "mandatory",
  exemptable: true,
  properties: {
    sockets: {
      type: "array",
      items: { type: "string" },
      default: DEFAULT_SOCKETS,
      description: "Runtime socket paths",
    },
  },
  check: (w, config) => {
    const sockets = arr(config.sockets).map(String);
    const out: Finding[] = [];
    for (const { volume, path } of hostPathVolumes(w)) {
      const mounted = normalizePath(path);
      const prefix = mounted === "/" ? "/" : `${mounted}/`;
      const socket = sockets.find((s) => s === mounted || s.startsWith(prefix));
      if (socket !== undefined && mounted !== "") {
        out.push({
          message: `volume "${volume}" exposes the container runtime socket ${socket} (host path "${path}"): whoever holds it controls every container on the node; remove the mount`,
          value: mounted,
        });
      }
    }
    return out;
  },
});

export const noAddedCapabilities = workloadPolicy({
  name: "no-added-capabilities",
  description: "Containers add no Linux capability beyond the allowed ones (NET_BIND_SERVICE).",
  level: "mandatory",
  exemptable: true,
  properties: {
    allowedCapabilities: {
      type: "array",
      items: { type: "string" },
      default: ["NET_BIND_SERVICE"],
      description: "Capabilities any container may add",
    },
  },
  check: (w, config) => {
    const allowed = new Set(arr(config.allowedCapabilities).map(capabilityName));
    return forEachContainer(w, (ref) =>
      arr(obj(securityContext(ref).capabilities)?.add)
        .map(capabilityName)
        .filter((cap) => !allowed.has(cap))
        .map((cap) => ({
          message: `${describeContainer(ref)} adds capability ${cap}: remove it from securityContext.capabilities.add`,
          value: cap,
        })),
    );
  },
});

export const noPrivilegeEscalation = workloadPolicy({
  name: "no-privilege-escalation",
  description: "Every container sets allowPrivilegeEscalation: false.",
  level: "mandatory",
  exemptable: true,
  check: (w) =>
    forEachContainer(w, (ref) =>
      securityContext(ref).allowPrivilegeEscalation === false
        ? undefined
        : {
            message: `${describeContainer(ref)} may gain privileges: set securityContext.allowPrivilegeEscalation to false`,
          },
    ),
});

export const noRootUser = workloadPolicy({
  name: "no-root-user",
  description: "No container runs as UID 0 (runAsUser: 0 on the container or the pod).",
  level: "mandatory",
  exemptable: true,
  check: (w) =>
    forEachContainer(w, (ref) =>
      num(effectiveSecurity(w, ref, "runAsUser")) === 0
        ? { message: `${describeContainer(ref)} runs as root (runAsUser: 0): run as a non-zero UID` }
        : undefined,
    ),
});

export const imagesPinned = workloadPolicy({
  name: "images-pinned",
  description: "Every container image is pinned to a version tag (not latest) or a digest.",
  level: "mandatory",
  exemptable: false,
  check: (w) =>
    forEachContainer(w, (ref) => {
      const problem = imageProblem(ref.container.image);
      return problem === undefined ? undefined : { message: `${describeContainer(ref)} ${problem}` };
    }),
});

// Advisory: the "restricted" profile and availability hints. They do not block a deploy; they show in every plan.

export const readOnlyRootFilesystem = workloadPolicy({
  name: "containers-read-only-root-filesystem",
  description: "Containers mount their root filesystem read-only.",
  level: "advisory",
  exemptable: false,
  check: (w) =>
    forEachContainer(w, (ref) =>
      ref.role === "ephemeral container" || securityContext(ref).readOnlyRootFilesystem === true
        ? undefined
        : {
            message: `${describeContainer(ref)} has a writable root filesystem: set readOnlyRootFilesystem and mount an emptyDir where it writes`,
          },
    ),
});

export const runAsNonRoot = workloadPolicy({
  name: "containers-run-as-non-root",
  description: "Containers must run as a non-root user (runAsNonRoot: true on the container or the pod).",
  level: "advisory",
  exemptable: false,
  check: (w) =>
    forEachContainer(w, (ref) =>
      effectiveSecurity(w, ref, "runAsNonRoot") === true
        ? undefined
        : {
            message: `${describeContainer(ref)} may run as root: set runAsNonRoot: true (pod or container securityContext)`,
          },
    ),
});

export const seccompRuntimeDefault = workloadPolicy({
  name: "containers-seccomp-profile",
  description: "Containers run with the RuntimeDefault (or a Localhost) seccomp profile.",
  level: "advisory",
  exemptable: false,
  check: (w) =>
    forEachContainer(w, (ref) => {
      const type = str(obj(effectiveSecurity(w, ref, "seccompProfile"))?.type);
      return type === "RuntimeDefault" || type === "Localhost"
        ? undefined
        : {
            message: `${describeContainer(ref)} has no seccomp profile: set seccompProfile.type: RuntimeDefault on the pod`,
          };
    }),
});

export const dropAllCapabilities = workloadPolicy({
  name: "containers-drop-all-capabilities",
  description: "Containers drop every Linux capability (capabilities.drop: [ALL]) and add back only what they need.",
  level: "advisory",
  exemptable: false,
  check: (w) =>
    forEachContainer(w, (ref) =>
      arr(obj(securityContext(ref).capabilities)?.drop)
        .map(capabilityName)
        .includes("ALL")
        ? undefined
        : {
            message: `${describeContainer(ref)} keeps the default capabilities: set securityContext.capabilities.drop: [ALL]`,
          },
    ),
});

export const containerProbes = workloadPolicy({
  name: "containers-probes",
  description: "Long-running containers declare liveness and readiness probes.",
  level: "advisory",
  exemptable: false,
  check: (w) =>
    w.longRunning
      ? forEachContainer(w, (ref) => {
          if (ref.role !== "container") return undefined;
          const missing = ["livenessProbe", "readinessProbe"].filter((p) => obj(ref.container[p]) === undefined);
          return missing.length === 0
            ? undefined
            : { message: `${describeContainer(ref)} has no ${missing.join(" or ")}: add one` };
        })
      : [],
});

export const multiReplicaAntiAffinity = workloadPolicy({
  name: "multi-replica-anti-affinity",
  description: "Workloads with more than one replica spread them across nodes (pod anti-affinity or topology spread).",
  level: "advisory",
  exemptable: false,
  check: (w) => {
    if (w.replicas === undefined || w.replicas <= 1) return [];
    const antiAffinity = obj(obj(w.podSpec.affinity)?.podAntiAffinity);
    const spread =
      arr(antiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).length > 0 ||
      arr(antiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).length > 0 ||
      arr(w.podSpec.topologySpreadConstraints).length > 0;
    return spread
      ? []
      : [
          {
            message: `${w.replicas} replicas may land on one node: add podAntiAffinity or topologySpreadConstraints on kubernetes.io/hostname`,
          },
        ];
  },
});

/** Annotation that allows a LoadBalancer or NodePort Service; its value is the reason, reviewed like code. */
export const ALLOW_EXTERNAL_SERVICE_ANNOTATION = "zarish.health/allow-external-service";

const externalServiceSchema: PolicyConfigSchema = {
  properties: {
    allowed: {
      type: "array",
      default: [],
      description: "Services allowed to be LoadBalancer or NodePort: { namespace, name, reason }",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["namespace", "name", "reason"],
        properties: {
          namespace: { type: "string", minLength: 1 },
          name: { type: "string", minLength: 1 },
          reason: { type: "string", minLength: 10 },
        },
      },
    },
  },
};

export const noExternalServices: ResourceValidationPolicy = {
  name: "no-external-services",
  description: `No LoadBalancer or NodePort Service without an explicit allow (annotation ${ALLOW_EXTERNAL_SERVICE_ANNOTATION} or config).`,
  enforcementLevel: "mandatory",
  configSchema: externalServiceSchema,
  validateResource: validateTypes([K8S.service], (args, report) => {
    const props = args.props as Props;
    const type = str(obj(props.spec)?.type);
    if (type !== "LoadBalancer" && type !== "NodePort") return;
    const metadata = metadataOf(props);
    if (str(obj(metadata.annotations)?.[ALLOW_EXTERNAL_SERVICE_ANNOTATION])?.trim()) return;
    const config = configOf<Props>(args, externalServiceSchema);
    const name = str(metadata.name) ?? args.name;
    const namespace = str(metadata.namespace);
    const allowed = arr(config.allowed).some((item) => {
      const entry = obj(item);
      return entry?.namespace === namespace && entry?.name === name && Boolean(str(entry?.reason)?.trim());
    });
    if (!allowed) {
      report(
        `is a ${type} Service, reachable from outside the cluster: use ClusterIP behind the ingress, or annotate ` +
          `${ALLOW_EXTERNAL_SERVICE_ANNOTATION}: "<reason>"`,
      );
    }
  }),
};

export const securityBaselinePolicies = [
  noPrivilegedContainers,
  noHostPid,
  noHostIpc,
  noHostNetwork,
  noHostPathVolumes,
  noHostPorts,
  noContainerRuntimeSocket,
  noAddedCapabilities,
  noPrivilegeEscalation,
  noRootUser,
  imagesPinned,
  noExternalServices,
  readOnlyRootFilesystem,
  runAsNonRoot,
  seccompRuntimeDefault,
  dropAllCapabilities,
  containerProbes,
  multiReplicaAntiAffinity,
];
