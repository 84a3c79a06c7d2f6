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
 * The node agents' needs, read from their components, where each departure is explained at the line that makes it:
 * components/monitoring/node-exporter.ts, components/logging/filebeat.ts, components/security/falco.ts. A change to
 * an agent's host access is a reviewed change in both places (a new host path fails the plan until it is listed).
 * None of them needs hostPID, hostNetwork, hostIPC, host ports, privileged or privilege escalation.
 */
export const DEFAULT_EXEMPTIONS: readonly Exemption[] = [
  {
    policy: "no-host-path-volumes",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "node-exporter",
    reason: "node-exporter reports the node: it reads the host's /proc and /sys, mounted read-only",
    values: ["/proc", "/sys"],
  },
  {
    policy: "no-host-path-volumes",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "filebeat",
    reason: "Filebeat ships the node's container log files, which the runtime writes under /var/log (read-only)",
    values: ["/var/log/containers", "/var/log/pods"],
  },
  {
    policy: "no-root-user",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "filebeat",
    reason:
      "the node's log files are root-owned with mode 0640; root reads them as owner, with every capability dropped",
  },
  {
    policy: "no-host-path-volumes",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason: "Falco reads host processes (/proc), OS and user metadata (/etc) and asks containerd for container names",
    values: ["/proc", "/etc", "/run/containerd/containerd.sock"],
  },
  {
    policy: "no-container-runtime-socket",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason: "Falco queries containerd for container and pod names to put in its events; it runs no container",
    values: ["/run/containerd/containerd.sock"],
  },
  {
    policy: "no-added-capabilities",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason:
      "the modern eBPF probe in least-privileged mode needs BPF, PERFMON, SYS_RESOURCE and SYS_PTRACE instead of privileged",
    values: ["BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"],
  },
  {
    policy: "no-root-user",
    kind: "DaemonSet",
    namespace: NODE_AGENTS,
    name: "falco",
    reason: "Kubernetes grants added capabilities only to root, and the probe needs the four above",
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
