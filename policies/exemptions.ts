/**
 * Exemptions from the security baseline: explicit entries (workload, policy, reason), only for the node agents
 * that must see the node they run on. Each entry names one DaemonSet and one policy, and where the policy is about
 * values (host paths, capabilities, ports) it lists exactly the values that agent needs; anything else the agent
 * does is still refused. The entries are each policy's `exemptions` config default, so the Pulumi CLI shows them
 * and a stack can replace them (`--policy-pack-config`); a configured list replaces the default, it does not add.
 */
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { arr, obj, str } from "./common";
import type { Workload } from "./workloads";

export interface Exemption {
  /** The policy the workload is exempted from. */
  readonly policy: string;
  /** Kind of the workload object; any workload kind when absent. */
  readonly kind?: string;
  readonly namespace: string;
  readonly name: string;
  /** Why the workload needs it: reviewed like code. */
  readonly reason: string;
  /** The only values allowed (host paths, capabilities, host ports); every value when absent. */
  readonly values?: readonly string[];
}

const NODE_AGENTS = "node-agents";

/**
 * The node agents' needs, read from their components (components/monitoring node-exporter, components/logging
 * Filebeat, components/security Falco); keep both in step when an agent changes.
 */
export const DEFAULT_EXEMPTIONS: readonly Exemption[] = [
  {
    policy: "no-host-path-volumes",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "node-exporter",
    reason: "node-exporter reads the host's /proc and /sys (mounted read-only) to report node metrics",
    values: ["/proc", "/sys"],
  },
  {
    policy: "no-host-path-volumes",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "filebeat",
    reason: "Filebeat reads the node's container log files and keeps its read offsets (registry) on the node",
    values: ["/var/log", "/var/lib/docker/containers", "/var/lib/filebeat-data"],
  },
  {
    policy: "no-root-user",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "filebeat",
    reason: "the node's log files are readable by root only",
  },
  {
    policy: "no-host-path-volumes",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason: "Falco reads host processes, kernel and OS metadata, and the container runtime socket for container names",
    values: ["/proc", "/etc", "/boot", "/lib/modules", "/usr", "/dev", "/run/containerd/containerd.sock"],
  },
  {
    policy: "no-container-runtime-socket",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason: "Falco asks containerd for container and pod names to put in its events (read-only mount)",
    values: ["/run/containerd/containerd.sock"],
  },
  {
    policy: "no-added-capabilities",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason:
      "the modern eBPF probe needs BPF, PERFMON and SYS_RESOURCE to load, SYS_PTRACE to read /proc of other processes",
    values: ["BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"],
  },
  {
    policy: "no-root-user",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason:
      "Falco loads its eBPF probe and reads every process's /proc entries, which needs UID 0 with the capabilities above",
  },
];

/** The config schema property `exemptions` of one policy, defaulting to that policy's built-in entries. */
export function exemptionsProperty(policy: string): PolicyConfigJSONSchema {
  return {
    type: "array",
    description:
      "Workloads exempted from this policy: { kind?, namespace, name, reason, values? }; replaces the built-in list",
    items: {
      type: "object",
      additionalProperties: false,
      required: ["namespace", "name", "reason"],
      properties: {
        policy: { type: "string", const: policy },
        kind: { type: "string" },
        namespace: { type: "string", minLength: 1 },
        name: { type: "string", minLength: 1 },
        reason: { type: "string", minLength: 10 },
        values: { type: "array", items: { type: "string" } },
      },
    },
    default: DEFAULT_EXEMPTIONS.filter((e) => e.policy === policy).map((e) => ({
      ...e,
      values: e.values && [...e.values],
    })),
  };
}

/**
 * Whether a configured exemption covers this workload (and this value, for value policies). Entries without a
 * reason are ignored, so an exemption is never granted by accident.
 */
export function isExempt(
  exemptions: unknown,
  workload: Pick<Workload, "kind" | "namespace" | "name">,
  value?: string,
): boolean {
  for (const item of arr(exemptions)) {
    const entry = obj(item);
    if (!entry || !str(entry.reason)?.trim()) continue;
    if (entry.namespace !== workload.namespace || entry.name !== workload.name) continue;
    if (entry.kind !== undefined && entry.kind !== workload.kind) continue;
    const values = Array.isArray(entry.values) ? entry.values : undefined;
    if (value !== undefined && values !== undefined && !values.includes(value)) continue;
    return true;
  }
  return false;
}
