import type { PlatformNamespaceArgs } from "../k8s/namespace";

/** The namespaces the platform creates, with their Pod Security level; node agents are isolated in one of them. */
export const NAMESPACES = {
  monitoring: { name: "monitoring", component: "monitoring" },
  logging: { name: "logging", component: "logging" },
  security: { name: "security", component: "security" },
  backup: { name: "backup", component: "backup" },
  nodeAgents: {
    name: "node-agents",
    component: "node-agents",
    podSecurity: "privileged",
    // Only the three DaemonSets that must see the node live here, so the other namespaces stay "restricted".
    podSecurityReason:
      "node-exporter reads /proc and /sys of the host, Filebeat reads node log files, Falco loads a modern eBPF probe: " +
      "each needs host access that no PSA level below privileged allows; each is exempted by name in the policy pack",
  },
} as const satisfies Record<string, PlatformNamespaceArgs>;

export type NamespaceKey = keyof typeof NAMESPACES;
