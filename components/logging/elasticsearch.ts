import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Environment } from "../../config/types";
import {
  checksum,
  childOptions,
  dataVolumeClaimTemplate,
  hardenedContainer,
  images,
  isQuantity,
  type PodPeer,
  parseQuantity,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import {
  ES_CONFIG_DIR,
  ES_CONFIG_KEYS,
  ES_DATA_DIR,
  ES_HTTP_CERTS_DIR,
  ES_LOGS_DIR,
  ES_TRANSPORT_CERTS_DIR,
  elasticsearchInitScript,
  elasticsearchReadinessScript,
  elasticsearchSettings,
  INIT_CONFIG_DIR,
  INIT_CONFIGMAP_DIR,
  initialMasterNodesSettings,
  renderElasticsearchYml,
} from "./elasticsearch-config";
import { CREDENTIAL_KEYS, NAMES, PORTS, TLS_SECRETS, USERS } from "./names";
import { parseJvmSize } from "./sizes";
import type { SecretKeyRef } from "./types";
import { loggingWorkload } from "./workload";

export type AntiAffinity = "required" | "preferred";

export interface ElasticsearchArgs {
  /** Namespace of the logging stack (created by the platform). */
  readonly namespace: string;
  /** staging or prod: prod needs >= 3 nodes and required anti-affinity. */
  readonly environment: Environment;
  /** Nodes (all master-eligible data nodes); 1, or 3 and more. */
  readonly replicas: number;
  /** JVM heap, e.g. "2g" (the seed's -Xms2g -Xmx2g). */
  readonly heapSize: string;
  /** Container memory limit (and request); at least twice the heap. */
  readonly memoryLimit: string;
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  /** StorageClass of the data volumes. */
  readonly storageClass: string;
  /** Size of each node's data volume, e.g. "100Gi". */
  readonly storageSize: string;
  /** Pod anti-affinity across nodes. Default: "required" in prod, "preferred" in staging. */
  readonly antiAffinity?: AntiAffinity;
  /** IAM role (IRSA) and region of the snapshot bucket; undefined: no snapshot repository. Default: undefined. */
  readonly snapshots?: { readonly roleArn: pulumi.Input<string>; readonly region: string };
  /** Image. Default: images.elasticsearch. */
  readonly image?: string;
}

export interface ResolvedElasticsearchArgs {
  readonly namespace: string;
  readonly environment: Environment;
  readonly replicas: number;
  readonly heapSize: string;
  readonly memoryLimit: string;
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  readonly storageClass: string;
  readonly storageSize: string;
  readonly antiAffinity: AntiAffinity;
  readonly snapshotRegion: string | undefined;
  readonly image: string;
  /** Cluster health a starting node waits for before it reports ready. */
  readonly readinessHealth: "green" | "yellow";
}

/** Heap above ~31g loses compressed object pointers (Elastic's sizing guidance). */
const MAX_HEAP_BYTES = 31 * 2 ** 30;

/** Defaults and validation; every problem is reported at once. */
export function resolveElasticsearchArgs(args: ElasticsearchArgs): ResolvedElasticsearchArgs {
  const antiAffinity = args.antiAffinity ?? (args.environment === "prod" ? "required" : "preferred");
  const problems: string[] = [];
  if (!Number.isInteger(args.replicas) || args.replicas < 1) {
    problems.push(`elasticsearch.replicas must be a positive integer (got ${args.replicas})`);
  } else if (args.replicas === 2) {
    problems.push(
      "elasticsearch.replicas must not be 2: two master-eligible nodes cannot lose either one (use 1 or >= 3)",
    );
  }
  if (args.environment === "prod" && args.replicas < 3) {
    problems.push(`elasticsearch.replicas must be >= 3 in prod (got ${args.replicas})`);
  }
  if (args.environment === "prod" && antiAffinity !== "required") {
    problems.push(`elasticsearch antiAffinity must be "required" in prod (got "${antiAffinity}")`);
  }
  const heap = parseJvmSize(args.heapSize);
  const limit = parseQuantity(args.memoryLimit);
  if (heap === undefined || heap <= 0)
    problems.push(`elasticsearch.heapSize must be a JVM size like "2g" (got "${args.heapSize}")`);
  else if (heap > MAX_HEAP_BYTES) problems.push(`elasticsearch.heapSize must be <= 31g (got "${args.heapSize}")`);
  if (limit === undefined)
    problems.push(`elasticsearch.memoryLimit must be a Kubernetes quantity (got "${args.memoryLimit}")`);
  if (heap !== undefined && limit !== undefined && limit < 2 * heap) {
    problems.push(
      `elasticsearch.memoryLimit must be at least twice the heap (${args.heapSize}): Lucene needs the rest for the page cache (got "${args.memoryLimit}")`,
    );
  }
  for (const [key, value] of [
    ["cpuRequest", args.cpuRequest],
    ["cpuLimit", args.cpuLimit],
  ] as const) {
    if (!isQuantity(value)) problems.push(`elasticsearch.${key} must be a Kubernetes quantity (got "${value}")`);
  }
  const cpuRequest = parseQuantity(args.cpuRequest);
  const cpuLimit = parseQuantity(args.cpuLimit);
  if (cpuRequest !== undefined && cpuLimit !== undefined && cpuLimit < cpuRequest) {
    problems.push(`elasticsearch.cpuLimit must be >= cpuRequest (got ${args.cpuLimit} < ${args.cpuRequest})`);
  }
  const storage = parseQuantity(args.storageSize);
  if (storage === undefined || storage <= 0) {
    problems.push(`elasticsearch.storageSize must be a positive Kubernetes quantity (got "${args.storageSize}")`);
  }
  if (!args.storageClass.trim()) problems.push("storageClass must not be empty");
  if (problems.length > 0) throw new Error(`invalid Elasticsearch arguments: ${problems.join("; ")}`);
  return {
    namespace: args.namespace,
    environment: args.environment,
    replicas: args.replicas,
    heapSize: args.heapSize,
    memoryLimit: args.memoryLimit,
    cpuRequest: args.cpuRequest,
    cpuLimit: args.cpuLimit,
    storageClass: args.storageClass,
    storageSize: args.storageSize,
    antiAffinity,
    snapshotRegion: args.snapshots?.region,
    image: args.image ?? images.elasticsearch,
    // One node holds no replicas, so it can only ever be yellow (index templates use replicasFor).
    readinessHealth: args.replicas > 1 ? "green" : "yellow",
  };
}

/** The ConfigMap data of the nodes: settings, the bootstrap fragment and the two scripts. */
export function elasticsearchConfigFiles(r: ResolvedElasticsearchArgs): Record<string, string> {
  const header = "Generated by components/logging (elasticsearch-config.ts).";
  return {
    [ES_CONFIG_KEYS.settings]: renderElasticsearchYml(
      elasticsearchSettings({ namespace: r.namespace, snapshotRegion: r.snapshotRegion }),
      header,
    ),
    [ES_CONFIG_KEYS.bootstrapSettings]: renderElasticsearchYml(
      initialMasterNodesSettings(r.replicas),
      `${header}\nAppended to elasticsearch.yml on a node's first start only (prepare-config.sh).`,
    ),
    [ES_CONFIG_KEYS.initScript]: elasticsearchInitScript({ snapshots: r.snapshotRegion !== undefined }),
    [ES_CONFIG_KEYS.readinessScript]: elasticsearchReadinessScript(r.readinessHealth),
  };
}

/** An Elasticsearch cluster: one StatefulSet of master-eligible data nodes with TLS and security on. */
export class Elasticsearch extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  /** The transport port (9300) behind the headless Service: node-to-node traffic, for the network policies. */
  public readonly transport: ServiceEndpoint;
  /** https://elasticsearch.<namespace>.svc:9200 */
  public readonly url: string;
  public readonly peer: PodPeer;
  /** The `elastic` superuser's password (Secret key `password`). */
  public readonly elasticCredentials: SecretKeyRef;
  public readonly elasticPassword: pulumi.Output<string>;
  public readonly replicas: number;
  public readonly statefulSet: k8s.apps.v1.StatefulSet;

  constructor(name: string, args: ElasticsearchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:Elasticsearch", name, {}, opts);
    const child = childOptions(this, opts);
    const r = resolveElasticsearchArgs(args);
    const ns = r.namespace;
    const workload = loggingWorkload(NAMES.elasticsearch, ns, r.image);
    const { labels, selector, meta } = workload;

    const password = new random.RandomPassword(`${name}-elastic-password`, { length: 32, special: false }, child);
    this.elasticPassword = pulumi.secret(password.result);
    this.elasticCredentials = { name: NAMES.elasticCredentials, key: CREDENTIAL_KEYS.password };
    new k8s.core.v1.Secret(
      `${name}-elastic-credentials`,
      {
        metadata: meta(NAMES.elasticCredentials),
        type: "Opaque",
        stringData: { [CREDENTIAL_KEYS.username]: USERS.elastic, [CREDENTIAL_KEYS.password]: this.elasticPassword },
      },
      child,
    );

    const files = elasticsearchConfigFiles(r);
    new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: meta(NAMES.elasticsearchConfig), data: files }, child);

    new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: {
          ...meta(NAMES.elasticsearch),
          // IRSA: the snapshot role for repository-s3 (see elasticsearch-config.ts for the token link).
          annotations: args.snapshots === undefined ? {} : { "eks.amazonaws.com/role-arn": args.snapshots.roleArn },
        },
        // The nodes never call the Kubernetes API. (The IRSA token is a separate projected volume.)
        automountServiceAccountToken: false,
      },
      child,
    );

    const ports = [
      { name: "http", port: PORTS.elasticsearchHttp, targetPort: "http", protocol: "TCP" },
      { name: "transport", port: PORTS.elasticsearchTransport, targetPort: "transport", protocol: "TCP" },
    ];
    new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: meta(NAMES.elasticsearchHeadless),
        spec: {
          clusterIP: "None",
          // Discovery must see nodes before they are ready: readiness waits for the cluster they are forming.
          publishNotReadyAddresses: true,
          selector,
          ports,
        },
      },
      child,
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: meta(NAMES.elasticsearch), spec: { type: "ClusterIP", selector, ports: [ports[0]] } },
      child,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: meta(NAMES.elasticsearch), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
      child,
    );

    const affinityTerm = { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" };
    const podAntiAffinity =
      r.antiAffinity === "required"
        ? { requiredDuringSchedulingIgnoredDuringExecution: [affinityTerm] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: affinityTerm }] };
    const configMapMount = { name: "configmap", mountPath: INIT_CONFIGMAP_DIR, readOnly: true };

    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: meta(NAMES.elasticsearch),
        spec: {
          serviceName: NAMES.elasticsearchHeadless,
          replicas: r.replicas,
          // All nodes start together so they can discover each other and elect a master; ordered start would wait
          // for node 0 to be ready, which needs the cluster the other nodes are not yet there to form.
          podManagementPolicy: "Parallel",
          updateStrategy: { type: "RollingUpdate" },
          // Data outlives the StatefulSet: deleting or scaling down never deletes a volume.
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          selector: { matchLabels: selector },
          template: {
            metadata: { labels, annotations: { "checksum/config": checksum(files) } },
            spec: {
              serviceAccountName: NAMES.elasticsearch,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              securityContext: restrictedPodSecurityContext(1000),
              terminationGracePeriodSeconds: 120,
              affinity: { podAntiAffinity },
              initContainers: [
                hardenedContainer({
                  name: "prepare-config",
                  image: r.image,
                  command: ["bash", `${INIT_CONFIGMAP_DIR}/${ES_CONFIG_KEYS.initScript}`],
                  compute: resources("100m", "128Mi", "200m", "256Mi"),
                  runAsUser: 1000,
                  volumeMounts: [
                    configMapMount,
                    { name: "config", mountPath: INIT_CONFIG_DIR },
                    // Read to tell a first start (no cluster state yet) from a restart.
                    { name: "data", mountPath: ES_DATA_DIR, readOnly: true },
                  ],
                }),
              ],
              containers: [
                hardenedContainer({
                  name: "elasticsearch",
                  image: r.image,
                  compute: resources(r.cpuRequest, r.memoryLimit, r.cpuLimit, r.memoryLimit),
                  runAsUser: 1000,
                  ports: [
                    { name: "http", containerPort: PORTS.elasticsearchHttp, protocol: "TCP" },
                    { name: "transport", containerPort: PORTS.elasticsearchTransport, protocol: "TCP" },
                  ],
                  env: [
                    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                    { name: "ES_JAVA_OPTS", value: `-Xms${r.heapSize} -Xmx${r.heapSize}` },
                    // Sets the elastic user's password on first start (the entrypoint puts it in the keystore as
                    // bootstrap.password); also read by the readiness probe.
                    {
                      name: "ELASTIC_PASSWORD",
                      valueFrom: { secretKeyRef: { name: NAMES.elasticCredentials, key: CREDENTIAL_KEYS.password } },
                    },
                  ],
                  volumeMounts: [
                    configMapMount,
                    { name: "config", mountPath: ES_CONFIG_DIR },
                    { name: "http-certs", mountPath: ES_HTTP_CERTS_DIR, readOnly: true },
                    { name: "transport-certs", mountPath: ES_TRANSPORT_CERTS_DIR, readOnly: true },
                    { name: "data", mountPath: ES_DATA_DIR },
                    { name: "logs", mountPath: ES_LOGS_DIR },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  readinessProbe: {
                    exec: { command: ["bash", `${INIT_CONFIGMAP_DIR}/${ES_CONFIG_KEYS.readinessScript}`] },
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                    timeoutSeconds: 10,
                    failureThreshold: 3,
                  },
                  // Liveness only asks whether the transport port accepts connections, with five minutes of
                  // patience: restarting a node that is merely slow (GC, shard recovery) would make a struggling
                  // cluster worse. Health problems alert through the exporter instead.
                  livenessProbe: {
                    tcpSocket: { port: "transport" },
                    initialDelaySeconds: 120,
                    periodSeconds: 30,
                    timeoutSeconds: 5,
                    failureThreshold: 10,
                  },
                }),
              ],
              volumes: [
                { name: "configmap", configMap: { name: NAMES.elasticsearchConfig, defaultMode: 0o444 } },
                { name: "config", emptyDir: { sizeLimit: "64Mi" } },
                { name: "logs", emptyDir: { sizeLimit: "1Gi" } },
                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                { name: "http-certs", secret: { secretName: TLS_SECRETS.elasticsearchHttp, defaultMode: 0o440 } },
                {
                  name: "transport-certs",
                  secret: { secretName: TLS_SECRETS.elasticsearchTransport, defaultMode: 0o440 },
                },
              ],
            },
          },
          volumeClaimTemplates: [dataVolumeClaimTemplate(selector, r.storageClass, r.storageSize)],
        },
      },
      child,
    );

    this.replicas = r.replicas;
    this.endpoint = workload.endpoint(NAMES.elasticsearch, PORTS.elasticsearchHttp, "https");
    this.transport = workload.endpoint(NAMES.elasticsearchHeadless, PORTS.elasticsearchTransport, "tcp");
    this.url = `https://${NAMES.elasticsearch}.${ns}.svc:${PORTS.elasticsearchHttp}`;
    this.peer = workload.peer;
    this.registerOutputs({ endpoint: this.endpoint, url: this.url });
  }
}
