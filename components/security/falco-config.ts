import * as yaml from "js-yaml";
import type { FalcoPriority } from "./falco-rules";

/**
 * falco.yaml as typed data (Falco 0.39, https://falco.org/docs/reference/daemon/config-options/). Only the keys
 * the platform sets; Falco applies its defaults to the rest.
 */

/** Where the rules ConfigMap is mounted; Falco loads every file of the directory, in name order. */
export const FALCO_RULES_DIR = "/etc/falco/rules.d";
/** Falco's default rules, shipped in the image; the platform's rules rely on four of its macros. */
export const FALCO_DEFAULT_RULES_FILE = "/etc/falco/falco_rules.yaml";
export const FALCO_CONFIG_FILE = "/etc/falco/falco.yaml";
/** Webserver port: /healthz for the probes and /metrics for Prometheus. */
export const FALCO_WEB_PORT = 8765;
/** Host paths are mounted under this prefix; Falco reads /host/proc and /host/etc through HOST_ROOT. */
export const FALCO_HOST_ROOT = "/host";
/** The containerd socket as Falco sees it (HOST_ROOT is prepended to the CRI socket paths). */
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

export interface FalcoConfig {
  readonly engine: {
    readonly kind: "modern_ebpf";
    readonly modern_ebpf: {
      readonly cpus_for_each_buffer: number;
      readonly buf_size_preset: number;
      readonly drop_failed_exit: boolean;
    };
  };
  readonly rules_files: readonly string[];
  readonly watch_config_files: boolean;
  /** Minimum priority of the rules Falco loads (lower-case in falco.yaml). */
  readonly priority: Lowercase<FalcoPriority>;
  readonly json_output: boolean;
  readonly json_include_output_property: boolean;
  readonly json_include_tags_property: boolean;
  readonly buffered_outputs: boolean;
  readonly log_stderr: boolean;
  readonly log_syslog: boolean;
  readonly log_level: "emergency" | "alert" | "critical" | "error" | "warning" | "notice" | "info" | "debug";
  readonly stdout_output: { readonly enabled: boolean };
  readonly syslog_output: { readonly enabled: boolean };
  readonly http_output: { readonly enabled: boolean; readonly url: string; readonly user_agent: string };
  readonly container_engines: {
    readonly docker: { readonly enabled: boolean };
    readonly cri: { readonly enabled: boolean; readonly sockets: readonly string[]; readonly disable_async: boolean };
    readonly podman: { readonly enabled: boolean };
    readonly lxc: { readonly enabled: boolean };
    readonly libvirt_lxc: { readonly enabled: boolean };
    readonly bpm: { readonly enabled: boolean };
  };
  readonly webserver: {
    readonly enabled: boolean;
    readonly listen_port: number;
    readonly k8s_healthz_endpoint: string;
    readonly prometheus_metrics_enabled: boolean;
    readonly ssl_enabled: boolean;
  };
  readonly metrics: {
    readonly enabled: boolean;
    readonly interval: string;
    readonly output_rule: boolean;
    readonly resource_utilization_enabled: boolean;
    readonly state_counters_enabled: boolean;
    readonly kernel_event_counters_enabled: boolean;
    readonly rules_counters_enabled: boolean;
  };
}

export interface FalcoConfigArgs {
  /** Where Falco posts each event as JSON (falcosidekick's URL). */
  readonly httpOutputUrl: string;
  /** Minimum priority of the rules loaded. */
  readonly minimumRulePriority: FalcoPriority;
}

/** The platform's falco.yaml. */
export function falcoConfig(args: FalcoConfigArgs): FalcoConfig {
  return {
    // The modern eBPF probe is compiled into Falco (CO-RE): no kernel module, no driver download, no init
    // container, and it can run with capabilities instead of privileged: true (see falco.ts).
    engine: {
      kind: "modern_ebpf",
      modern_ebpf: { cpus_for_each_buffer: 2, buf_size_preset: 4, drop_failed_exit: false },
    },
    rules_files: [FALCO_DEFAULT_RULES_FILE, FALCO_RULES_DIR],
    watch_config_files: true,
    priority: args.minimumRulePriority.toLowerCase() as Lowercase<FalcoPriority>,
    json_output: true,
    json_include_output_property: true,
    json_include_tags_property: true,
    buffered_outputs: false,
    log_stderr: true,
    log_syslog: false,
    log_level: "info",
    // stdout reaches Filebeat and Elasticsearch with every other container log: the audit trail of every event,
    // including those below the paging threshold.
    stdout_output: { enabled: true },
    syslog_output: { enabled: false },
    http_output: { enabled: true, url: args.httpOutputUrl, user_agent: "falcosecurity/falco" },
    // Container and Kubernetes metadata (container.name, k8s.ns.name, k8s.pod.name) come from the CRI socket;
    // EKS nodes run containerd. The rules' namespace conditions depend on it.
    container_engines: {
      docker: { enabled: false },
      cri: { enabled: true, sockets: [CONTAINERD_SOCKET], disable_async: false },
      podman: { enabled: false },
      lxc: { enabled: false },
      libvirt_lxc: { enabled: false },
      bpm: { enabled: false },
    },
    webserver: {
      enabled: true,
      listen_port: FALCO_WEB_PORT,
      k8s_healthz_endpoint: "/healthz",
      prometheus_metrics_enabled: true,
      ssl_enabled: false,
    },
    metrics: {
      enabled: true,
      interval: "1h",
      output_rule: false,
      resource_utilization_enabled: true,
      state_counters_enabled: true,
      kernel_event_counters_enabled: true,
      rules_counters_enabled: true,
    },
  };
}

export function renderFalcoConfig(config: FalcoConfig): string {
  const body = yaml.dump(config, { lineWidth: -1, noRefs: true, sortKeys: false });
  return `# Generated by components/security/falco-config.ts; edit the typed data there, not this file.\n${body}`;
}
