import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  hardenedContainer,
  images,
  type PodPeer,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import {
  checkDnsLabel,
  objectMeta,
  podPeer,
  serviceEndpoint,
  throwIfProblems,
  type Workload,
  workloadLabels,
  workloadSelector,
} from "./common";

export const NODE_EXPORTER_PORT = 9100;
const NODE_EXPORTER_UID = 65534;

/** The seed's sizing, kept exactly: requests 100m / 128Mi, limits 200m / 256Mi. */
export const NODE_EXPORTER_COMPUTE: ComputeResources = resources("100m", "128Mi", "200m", "256Mi");

/**
 * Collectors turned off because, without hostNetwork, they would describe the pod's own network namespace (one
 * veth interface, its own sockets and conntrack table) under the node's name: numbers that look right and are not.
 * Node network throughput comes from the kubelet's cAdvisor metrics instead.
 */
export const NODE_EXPORTER_DISABLED_COLLECTORS = [
  "arp",
  "conntrack",
  "netdev",
  "netstat",
  "sockstat",
  "udp_queues",
] as const;

export interface NodeExporterArgs {
  /** Namespace of the node agents (the platform's `node-agents`, Pod Security "privileged"). */
  readonly namespace: string;
  /** Object name. Default: "node-exporter" (the policy pack exempts it by this name). */
  readonly name?: string;
  /**
   * Also mount the node's / read-only at /host/root (--path.rootfs), so node_filesystem_* covers every disk of
   * the node. Default: false, the seed's two mounts only. Turning it on widens the agent's host access to the
   * whole (world-readable part of the) node filesystem, so the policy pack's node-exporter exemption must list
   * "/" as well: a reviewed change in both places.
   */
  readonly mountHostRoot?: boolean;
}

export interface ResolvedNodeExporterArgs {
  readonly workload: Workload;
  readonly mountHostRoot: boolean;
}

export function resolveNodeExporterArgs(args: NodeExporterArgs): ResolvedNodeExporterArgs {
  const name = args.name ?? "node-exporter";
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  throwIfProblems("NodeExporter", problems);
  return {
    workload: { name, namespace: args.namespace, image: images.nodeExporter },
    mountHostRoot: args.mountHostRoot ?? false,
  };
}

export function nodeExporterArgs(r: Pick<ResolvedNodeExporterArgs, "mountHostRoot">): string[] {
  return [
    "--path.procfs=/host/proc",
    "--path.sysfs=/host/sys",
    ...(r.mountHostRoot ? ["--path.rootfs=/host/root"] : []),
    `--web.listen-address=:${NODE_EXPORTER_PORT}`,
    // Kubernetes' own mounts (pod volumes, container layers) are not node disks; alerting on them double counts.
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+|var/lib/containerd/.+|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
    ...NODE_EXPORTER_DISABLED_COLLECTORS.map((c) => `--no-collector.${c}`),
  ];
}

/**
 * node-exporter on every node, sized and mounted as the seed has it, with a pinned version instead of `latest`.
 * It runs as nobody with the restricted container profile; its only departure from "restricted" is the hostPath
 * volumes below, which is why it lives in the node-agents namespace and is exempted by name in the policy pack.
 */
export class NodeExporter extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  public readonly peer: PodPeer;

  constructor(name: string, args: NodeExporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:NodeExporter", name, {}, opts);
    const r = resolveNodeExporterArgs(args);
    const w = r.workload;

    new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: objectMeta(w),
        spec: {
          selector: { matchLabels: workloadSelector(w) },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels: workloadLabels(w) },
            spec: {
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(NODE_EXPORTER_UID),
              // HOST ACCESS, and why. node-exporter reports the node, so it reads the node's /proc and /sys: hostPath
              // volumes, mounted read-only, read by a process running as nobody with every capability dropped,
              // so it sees only what is world-readable there.
              // - /proc -> /host/proc and /sys -> /host/sys: the seed's mounts (CPU, memory, pressure, disk I/O).
              //   The filesystem collector lists the node's mounts from /host/proc/1/mountinfo and stat()s them in
              //   the container: "/" then answers for the filesystem under the container runtime's overlay, the
              //   node's root disk on the platform's nodes, which is what the seed's DiskSpaceLow watches. Other
              //   node disks need `mountHostRoot` (the node's / at /host/root), off unless asked for.
              // - No hostNetwork: it would put the pod on the node's interfaces (port 9100 open on every node,
              //   outside any NetworkPolicy). The price is that network collectors would describe the pod's own
              //   namespace, so they are disabled (NODE_EXPORTER_DISABLED_COLLECTORS).
              // - No hostPID: /host/proc already is the host's procfs (the node's counters and PID 1's mounts);
              //   nothing here needs to see or signal host processes.
              hostNetwork: false,
              hostPID: false,
              // Run on every node, tainted ones included: a node without node-exporter is a node without alerts.
              tolerations: [{ operator: "Exists" }],
              nodeSelector: { "kubernetes.io/os": "linux" },
              containers: [
                hardenedContainer({
                  name: "node-exporter",
                  image: images.nodeExporter,
                  args: nodeExporterArgs(r),
                  ports: [{ name: "metrics", containerPort: NODE_EXPORTER_PORT }],
                  readinessProbe: { httpGet: { path: "/", port: "metrics" }, periodSeconds: 10 },
                  livenessProbe: { httpGet: { path: "/", port: "metrics" }, periodSeconds: 15, failureThreshold: 4 },
                  volumeMounts: [
                    { name: "proc", mountPath: "/host/proc", readOnly: true },
                    { name: "sys", mountPath: "/host/sys", readOnly: true },
                    ...(r.mountHostRoot
                      ? [{ name: "root", mountPath: "/host/root", readOnly: true, mountPropagation: "HostToContainer" }]
                      : []),
                  ],
                  compute: NODE_EXPORTER_COMPUTE,
                  runAsUser: NODE_EXPORTER_UID,
                }),
              ],
              volumes: [
                { name: "proc", hostPath: { path: "/proc", type: "Directory" } },
                { name: "sys", hostPath: { path: "/sys", type: "Directory" } },
                ...(r.mountHostRoot ? [{ name: "root", hostPath: { path: "/", type: "Directory" } }] : []),
              ],
            },
          },
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: objectMeta(w),
        spec: {
          // Headless: Prometheus scrapes every node's pod through the endpoints, never a load-balanced one.
          clusterIP: "None",
          selector: workloadSelector(w),
          ports: [{ name: "metrics", port: NODE_EXPORTER_PORT, targetPort: "metrics" }],
        },
      },
      { parent: this },
    );

    this.endpoint = serviceEndpoint(w, NODE_EXPORTER_PORT);
    this.peer = podPeer(w);
    this.registerOutputs({ endpoint: this.endpoint, peer: this.peer });
  }
}
