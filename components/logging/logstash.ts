import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  checksum,
  childOptions,
  dataVolumeClaimTemplate,
  hardenedContainer,
  images,
  type PodPeer,
  parseQuantity,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import {
  LOGSTASH_BEATS_CERTS_DIR,
  LOGSTASH_CONFIG_DIR,
  LOGSTASH_DATA_DIR,
  LOGSTASH_ES_CA_DIR,
  LOGSTASH_HOME,
  LOGSTASH_PASSWORD_ENV,
  LOGSTASH_PIPELINE_DIR,
  logstashYml,
  pipelineFiles,
  pipelinesYml,
} from "./logstash-config";
import { CREDENTIAL_KEYS, NAMES, PORTS, TLS_SECRETS } from "./names";
import { formatLogstashBytes, parseJvmSize, parseLogstashBytes } from "./sizes";
import { elasticsearchCaVolume, loggingWorkload } from "./workload";

export interface LogstashArgs {
  readonly namespace: string;
  /** https URL of the Elasticsearch client Service. */
  readonly elasticsearchUrl: string;
  readonly replicas: number;
  /** queue.max_bytes of each of the two pipelines ("4gb", or a quantity like "4Gi"). */
  readonly queueSize: string;
  /** Size of each pod's volume (persisted and dead letter queues). */
  readonly storageSize: string;
  readonly storageClass: string;
  /** Services whose audit entries are trusted. Default: ["zarish-sphere-api", "zarish-sphere-fhir"]. */
  readonly auditSources?: readonly string[];
  /** dead_letter_queue.max_bytes of each pipeline. Default: a tenth of queueSize, at least 64mb. */
  readonly deadLetterQueueSize?: string;
  /** JVM heap. Default: "1g". */
  readonly heapSize?: string;
  /** Workers per pipeline. Default: 2. */
  readonly workers?: number;
  /** Requests and limits. Default: 500m/2Gi requested, 2 CPU/2Gi limit. */
  readonly compute?: ComputeResources;
  /** Image. Default: images.logstash. */
  readonly image?: string;
}

export interface ResolvedLogstashArgs {
  readonly namespace: string;
  readonly elasticsearchUrl: string;
  readonly replicas: number;
  /** Logstash notation. */
  readonly queueMaxBytes: string;
  readonly deadLetterQueueMaxBytes: string;
  readonly storageSize: string;
  readonly storageClass: string;
  readonly auditSources: readonly string[];
  readonly heapSize: string;
  readonly workers: number;
  readonly compute: ComputeResources;
  readonly image: string;
}

/** Two pipelines, each with its own persisted queue and dead letter queue on the pod's volume. */
const PIPELINE_COUNT = 2;
/** A persisted queue may exceed queue.max_bytes by one page (queue.page_capacity, 64mb by default). */
const QUEUE_PAGE_BYTES = 64 * 2 ** 20;
/** A dead letter queue may exceed its max_bytes by one segment (10mb). */
const DLQ_SEGMENT_BYTES = 10 * 2 ** 20;
/** Share of the volume the queues may fill at most (file system overhead, checkpoints). */
const VOLUME_SHARE = 0.95;

/** Bytes the queues of one pod can take: both pipelines' queues and dead letter queues at their maximum. */
export function logstashVolumeNeed(queueBytes: number, deadLetterQueueBytes: number): number {
  return PIPELINE_COUNT * (queueBytes + QUEUE_PAGE_BYTES + deadLetterQueueBytes + DLQ_SEGMENT_BYTES);
}

export function resolveLogstashArgs(args: LogstashArgs): ResolvedLogstashArgs {
  const problems: string[] = [];
  const heapSize = args.heapSize ?? "1g";
  const compute = args.compute ?? resources("500m", "2Gi", "2", "2Gi");
  const workers = args.workers ?? 2;
  const auditSources = args.auditSources ?? ["zarish-sphere-api", "zarish-sphere-fhir"];
  if (!Number.isInteger(args.replicas) || args.replicas < 1) {
    problems.push(`logstash.replicas must be a positive integer (got ${args.replicas})`);
  }
  if (!Number.isInteger(workers) || workers < 1)
    problems.push(`logstash workers must be a positive integer (got ${workers})`);
  const queue = parseLogstashBytes(args.queueSize);
  // Default: a tenth of the queue (rejected documents are rare; a mapping conflict is fixed long before).
  const dlq =
    args.deadLetterQueueSize === undefined
      ? queue === undefined
        ? undefined
        : Math.max(2 ** 26, Math.floor(queue / 10))
      : parseLogstashBytes(args.deadLetterQueueSize);
  const storage = parseQuantity(args.storageSize);
  if (queue === undefined || queue < 2 ** 26) {
    problems.push(
      `logstash.queueSize must be a byte size of at least 64mb, like "4gb" or "4Gi" (got "${args.queueSize}")`,
    );
  }
  if (args.deadLetterQueueSize !== undefined && (dlq === undefined || dlq < 2 ** 20)) {
    problems.push(`logstash deadLetterQueueSize must be a byte size like "1024mb" (got "${args.deadLetterQueueSize}")`);
  }
  if (storage === undefined || storage <= 0) {
    problems.push(`logstash.storageSize must be a positive Kubernetes quantity (got "${args.storageSize}")`);
  } else if (queue !== undefined && dlq !== undefined && logstashVolumeNeed(queue, dlq) > VOLUME_SHARE * storage) {
    const needMiB = Math.ceil(logstashVolumeNeed(queue, dlq) / VOLUME_SHARE / 2 ** 20);
    problems.push(
      `logstash.storageSize "${args.storageSize}" cannot hold ${PIPELINE_COUNT} pipelines' persisted queues of ${args.queueSize} and dead letter queues of ${formatLogstashBytes(dlq)} (needs at least ${needMiB}Mi)`,
    );
  }
  if (!args.storageClass.trim()) problems.push("storageClass must not be empty");
  const heap = parseJvmSize(heapSize);
  const memoryLimit = parseQuantity(compute.limits.memory);
  if (heap === undefined || heap <= 0)
    problems.push(`logstash heapSize must be a JVM size like "1g" (got "${heapSize}")`);
  else if (memoryLimit !== undefined && memoryLimit < 1.5 * heap) {
    problems.push(`logstash memory limit must be at least 1.5x the heap ${heapSize} (got "${compute.limits.memory}")`);
  }
  if (auditSources.length === 0 || auditSources.some((s) => !/^[a-z0-9][-a-z0-9.]*$/.test(s))) {
    problems.push(`logstash auditSources must be non-empty service names (got ${JSON.stringify(auditSources)})`);
  }
  if (problems.length > 0) throw new Error(`invalid Logstash arguments: ${problems.join("; ")}`);
  return {
    namespace: args.namespace,
    elasticsearchUrl: args.elasticsearchUrl,
    replicas: args.replicas,
    queueMaxBytes: formatLogstashBytes(queue!),
    deadLetterQueueMaxBytes: formatLogstashBytes(dlq!),
    storageSize: args.storageSize,
    storageClass: args.storageClass,
    auditSources,
    heapSize,
    workers,
    compute,
    image: args.image ?? images.logstash,
  };
}

/** The two ConfigMaps' data: settings (logstash.yml, pipelines.yml) and pipeline files. */
export function logstashConfigFiles(r: ResolvedLogstashArgs): {
  settings: Record<string, string>;
  pipelines: Record<string, string>;
} {
  return {
    settings: {
      "logstash.yml": logstashYml(),
      "pipelines.yml": pipelinesYml({
        queueMaxBytes: r.queueMaxBytes,
        deadLetterQueueMaxBytes: r.deadLetterQueueMaxBytes,
        workers: r.workers,
      }),
    },
    pipelines: pipelineFiles({ elasticsearchUrl: r.elasticsearchUrl, auditSources: r.auditSources }),
  };
}

/**
 * Logstash as a StatefulSet, not the Deployment the issue names: the persisted queue must survive a pod restart
 * on the same volume, which needs one PersistentVolumeClaim per pod (volumeClaimTemplates). A Deployment's pods
 * would share one ReadWriteOnce claim, which neither attaches to several nodes nor may be shared by two queues.
 */
export class Logstash extends pulumi.ComponentResource {
  /** The Beats endpoint (5044) Filebeat ships to. */
  public readonly endpoint: ServiceEndpoint;
  public readonly peer: PodPeer;

  constructor(name: string, args: LogstashArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:Logstash", name, {}, opts);
    const child = childOptions(this, opts);
    const r = resolveLogstashArgs(args);
    const workload = loggingWorkload(NAMES.logstash, r.namespace, r.image);
    const { labels, selector, meta } = workload;

    const files = logstashConfigFiles(r);
    new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: meta(NAMES.logstashConfig), data: files.settings }, child);
    new k8s.core.v1.ConfigMap(
      `${name}-pipelines`,
      { metadata: meta(NAMES.logstashPipelines), data: files.pipelines },
      child,
    );

    const beatsPort = { name: "beats", port: PORTS.beats, targetPort: "beats", protocol: "TCP" };
    new k8s.core.v1.Service(
      `${name}-headless`,
      { metadata: meta(NAMES.logstashHeadless), spec: { clusterIP: "None", selector, ports: [beatsPort] } },
      child,
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: meta(NAMES.logstash), spec: { type: "ClusterIP", selector, ports: [beatsPort] } },
      child,
    );
    if (r.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        { metadata: meta(NAMES.logstash), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
        child,
      );
    }

    new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: meta(NAMES.logstash),
        spec: {
          serviceName: NAMES.logstashHeadless,
          replicas: r.replicas,
          podManagementPolicy: "Parallel",
          updateStrategy: { type: "RollingUpdate" },
          // A queue that still holds events must not vanish with a scale-down.
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels,
              annotations: { "checksum/config": checksum(files.settings, files.pipelines) },
            },
            spec: {
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurityContext(1000),
              terminationGracePeriodSeconds: 120,
              affinity: {
                podAntiAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                      weight: 100,
                      podAffinityTerm: {
                        labelSelector: { matchLabels: selector },
                        topologyKey: "kubernetes.io/hostname",
                      },
                    },
                  ],
                },
              },
              initContainers: [
                hardenedContainer({
                  // The image's entrypoint rewrites logstash.yml from the environment, so the config directory
                  // must be writable while the root filesystem is not: an emptyDir filled from the image and
                  // the ConfigMap.
                  name: "prepare-config",
                  image: r.image,
                  command: [
                    "sh",
                    "-c",
                    `cp -R ${LOGSTASH_CONFIG_DIR}/. /mnt/config/ && cp /mnt/configmap/logstash.yml /mnt/configmap/pipelines.yml /mnt/config/`,
                  ],
                  compute: resources("100m", "128Mi", "200m", "256Mi"),
                  runAsUser: 1000,
                  volumeMounts: [
                    { name: "settings", mountPath: "/mnt/configmap", readOnly: true },
                    { name: "config", mountPath: "/mnt/config" },
                  ],
                }),
              ],
              containers: [
                hardenedContainer({
                  name: "logstash",
                  image: r.image,
                  compute: r.compute,
                  runAsUser: 1000,
                  ports: [
                    { name: "beats", containerPort: PORTS.beats, protocol: "TCP" },
                    { name: "api", containerPort: PORTS.logstashApi, protocol: "TCP" },
                  ],
                  env: [
                    { name: "LS_JAVA_OPTS", value: `-Xms${r.heapSize} -Xmx${r.heapSize}` },
                    {
                      name: LOGSTASH_PASSWORD_ENV,
                      valueFrom: { secretKeyRef: { name: NAMES.logstashCredentials, key: CREDENTIAL_KEYS.password } },
                    },
                  ],
                  volumeMounts: [
                    { name: "config", mountPath: LOGSTASH_CONFIG_DIR },
                    { name: "pipelines", mountPath: LOGSTASH_PIPELINE_DIR, readOnly: true },
                    { name: "data", mountPath: LOGSTASH_DATA_DIR },
                    { name: "elasticsearch-ca", mountPath: LOGSTASH_ES_CA_DIR, readOnly: true },
                    { name: "beats-tls", mountPath: LOGSTASH_BEATS_CERTS_DIR, readOnly: true },
                    { name: "logs", mountPath: `${LOGSTASH_HOME}/logs` },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  // Ready when the Beats input accepts connections (both pipelines are running by then).
                  readinessProbe: { tcpSocket: { port: "beats" }, initialDelaySeconds: 20, periodSeconds: 10 },
                  livenessProbe: {
                    httpGet: { path: "/", port: "api" },
                    initialDelaySeconds: 120,
                    periodSeconds: 20,
                    failureThreshold: 6,
                  },
                }),
              ],
              volumes: [
                { name: "settings", configMap: { name: NAMES.logstashConfig } },
                { name: "pipelines", configMap: { name: NAMES.logstashPipelines } },
                { name: "config", emptyDir: { sizeLimit: "64Mi" } },
                { name: "logs", emptyDir: { sizeLimit: "1Gi" } },
                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                elasticsearchCaVolume(),
                { name: "beats-tls", secret: { secretName: TLS_SECRETS.logstashBeats, defaultMode: 0o440 } },
              ],
            },
          },
          volumeClaimTemplates: [dataVolumeClaimTemplate(selector, r.storageClass, r.storageSize)],
        },
      },
      child,
    );

    this.endpoint = workload.endpoint(NAMES.logstash, PORTS.beats, "tcp");
    this.peer = workload.peer;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
