import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  checksum,
  childOptions,
  endpointHost,
  hardenedContainer,
  images,
  type PodPeer,
  resources,
  type ServiceEndpoint,
} from "../k8s";
import {
  FILEBEAT_CA_DIR,
  FILEBEAT_CONFIG_FILE,
  FILEBEAT_DATA_DIR,
  FILEBEAT_LOGS_DIR,
  filebeatYml,
  HOST_LOG_DIRS,
} from "./filebeat-config";
import { NAMES } from "./names";
import { loggingWorkload } from "./workload";

export interface FilebeatArgs {
  /** The node agents' namespace (PSA privileged), e.g. "node-agents". */
  readonly namespace: string;
  /** Value of fields.environment on every event. */
  readonly environment: string;
  /** The Logstash Beats endpoint. */
  readonly logstash: ServiceEndpoint;
  /** Requests and limits. Default: 100m/128Mi requested, 500m/512Mi limit. */
  readonly compute?: ComputeResources;
  /** Image. Default: images.filebeat. */
  readonly image?: string;
}

export interface ResolvedFilebeatArgs {
  readonly namespace: string;
  readonly environment: string;
  /** host:port of Logstash. */
  readonly logstashHost: string;
  readonly compute: ComputeResources;
  readonly image: string;
}

export function resolveFilebeatArgs(args: FilebeatArgs): ResolvedFilebeatArgs {
  if (args.logstash.scheme !== "tcp") {
    throw new Error(
      `invalid Filebeat arguments: the Logstash endpoint must be a tcp (Beats) endpoint (got ${args.logstash.scheme})`,
    );
  }
  return {
    namespace: args.namespace,
    environment: args.environment,
    logstashHost: `${endpointHost(args.logstash)}:${args.logstash.port}`,
    compute: args.compute ?? resources("100m", "128Mi", "500m", "512Mi"),
    image: args.image ?? images.filebeat,
  };
}

/**
 * Filebeat on every node. This is a node agent: it cannot meet the restricted profile, and the policy pack
 * exempts it by name (namespace node-agents, DaemonSet filebeat). What it needs, and nothing more:
 * - read-only hostPath mounts of /var/log/containers and /var/log/pods, because container logs are files the
 *   kubelet and the container runtime write on the node; there is no API that streams every pod's logs at this
 *   volume. (/var/lib/docker/containers is not mounted: EKS nodes run containerd, whose logs live in /var/log/pods.)
 * - UID 0, because those files are owned by root with mode 0640. Root reads them as their owner, so no capability
 *   is needed: every capability is dropped, privilege escalation is off and the root filesystem is read-only.
 *   (A non-root user with CAP_DAC_READ_SEARCH would be narrower, but Kubernetes does not grant ambient
 *   capabilities to non-root processes, so the capability would have no effect.)
 * Its registry (read offsets) is on an emptyDir, not a writable hostPath: it survives container restarts in the
 * pod; when the pod is replaced, Filebeat reads the node's current log files again. Application lines may then
 * arrive twice; audit entries are deduplicated by Logstash (document id = hash of the line).
 */
export class Filebeat extends pulumi.ComponentResource {
  public readonly peer: PodPeer;

  constructor(name: string, args: FilebeatArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:Filebeat", name, {}, opts);
    const child = childOptions(this, opts);
    const r = resolveFilebeatArgs(args);
    const workload = loggingWorkload(NAMES.filebeat, r.namespace, r.image);
    const { labels, selector, meta } = workload;

    new k8s.core.v1.ServiceAccount(`${name}-service-account`, { metadata: meta(NAMES.filebeat) }, child);
    // add_kubernetes_metadata: pod, namespace and node metadata of the log files' containers; read-only.
    const clusterRoleName = `zarish-${NAMES.filebeat}`;
    new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-role`,
      {
        metadata: { name: clusterRoleName, labels },
        rules: [{ apiGroups: [""], resources: ["namespaces", "pods", "nodes"], verbs: ["get", "list", "watch"] }],
      },
      child,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      {
        metadata: { name: clusterRoleName, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName },
        subjects: [{ kind: "ServiceAccount", name: NAMES.filebeat, namespace: r.namespace }],
      },
      child,
    );

    const config = filebeatYml({ environment: r.environment, logstashHost: r.logstashHost });
    new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: meta(NAMES.filebeatConfig), data: { "filebeat.yml": config } },
      child,
    );

    const hostDir = (volume: string, path: string) => ({ name: volume, hostPath: { path, type: "Directory" } });
    new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: meta(NAMES.filebeat),
        spec: {
          selector: { matchLabels: selector },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels, annotations: { "checksum/config": checksum(config) } },
            spec: {
              serviceAccountName: NAMES.filebeat,
              enableServiceLinks: false,
              // UID 0: see the class comment (root-owned 0640 log files); seccomp stays RuntimeDefault.
              securityContext: {
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                seccompProfile: { type: "RuntimeDefault" },
              },
              terminationGracePeriodSeconds: 30,
              // Logs of every node, including tainted ones.
              tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
              containers: [
                hardenedContainer({
                  name: "filebeat",
                  image: r.image,
                  args: ["-c", FILEBEAT_CONFIG_FILE, "-e"],
                  compute: r.compute,
                  runAsUser: 0,
                  // Root to read root-owned log files as their owner; no capability, no escalation (class comment).
                  securityContextOverrides: { runAsNonRoot: false },
                  env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                  volumeMounts: [
                    { name: "config", mountPath: FILEBEAT_CONFIG_FILE, subPath: "filebeat.yml", readOnly: true },
                    { name: "logging-ca", mountPath: FILEBEAT_CA_DIR, readOnly: true },
                    { name: "var-log-containers", mountPath: HOST_LOG_DIRS.containers, readOnly: true },
                    { name: "var-log-pods", mountPath: HOST_LOG_DIRS.pods, readOnly: true },
                    { name: "data", mountPath: FILEBEAT_DATA_DIR },
                    { name: "logs", mountPath: FILEBEAT_LOGS_DIR },
                  ],
                  // Filebeat's own HTTP stats endpoint, bound to localhost (filebeat-config.ts).
                  livenessProbe: {
                    exec: {
                      command: ["curl", "--fail", "--silent", "--output", "/dev/null", "http://localhost:5066/"],
                    },
                    initialDelaySeconds: 30,
                    periodSeconds: 30,
                    failureThreshold: 3,
                  },
                  readinessProbe: {
                    exec: {
                      command: ["curl", "--fail", "--silent", "--output", "/dev/null", "http://localhost:5066/"],
                    },
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                  },
                }),
              ],
              volumes: [
                { name: "config", configMap: { name: NAMES.filebeatConfig, defaultMode: 0o640 } },
                // Filled with the logging CA by the bootstrap Job (bootstrap.ts).
                { name: "logging-ca", configMap: { name: NAMES.caConfigMap } },
                // Read-only host paths: the node's container log files (class comment).
                hostDir("var-log-containers", HOST_LOG_DIRS.containers),
                hostDir("var-log-pods", HOST_LOG_DIRS.pods),
                { name: "data", emptyDir: { sizeLimit: "256Mi" } },
                { name: "logs", emptyDir: { sizeLimit: "256Mi" } },
              ],
            },
          },
        },
      },
      child,
    );

    this.peer = workload.peer;
    this.registerOutputs({ peer: this.peer });
  }
}
