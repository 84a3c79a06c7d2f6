import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../../config/types";
import {
  type ComputeResources,
  checksum,
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
  checkDnsLabel,
  checkInteger,
  disruptionBudget,
  objectMeta,
  podPeer,
  serviceEndpoint,
  spreadAcrossNodes,
  throwIfProblems,
  type Workload,
  workloadLabels,
  workloadSelector,
} from "./common";
import { ALERTMANAGER_SECRET_KEYS, DEFAULT_ALERTMANAGER_SECRETS_DIR } from "./config/alertmanager";

export const ALERTMANAGER_PORT = 9093;
export const ALERTMANAGER_CLUSTER_PORT = 9094;
export const ALERTMANAGER_CONFIG_DIR = "/etc/alertmanager/config";
export const ALERTMANAGER_CONFIG_FILE = "alertmanager.yml";
export const ALERTMANAGER_CONFIGMAP = "alertmanager-config";
/** Receiver credentials are files in this directory, from the Secret ALERTMANAGER_SECRET (passed as secretsDir). */
export const ALERTMANAGER_SECRETS_DIR = DEFAULT_ALERTMANAGER_SECRETS_DIR;
export const ALERTMANAGER_SECRET = "alertmanager-receivers";
/** Secret key (= file name) of each credential: the names renderAlertmanagerConfig writes into *_file paths. */
export const ALERTMANAGER_SECRET_FILES = ALERTMANAGER_SECRET_KEYS;
const ALERTMANAGER_UID = 65534;

/** The receiver credentials of config.monitoring.secrets, as Pulumi secret Outputs. */
export type AlertmanagerSecrets = Pick<MonitoringConfig["secrets"], keyof typeof ALERTMANAGER_SECRET_FILES>;

export interface AlertmanagerArgs {
  /** Namespace (the platform's `monitoring`). */
  readonly namespace: string;
  /** Replicas and volume size (config.monitoring.alertmanager); more than one replica forms a gossip cluster. */
  readonly settings: MonitoringConfig["alertmanager"];
  /** StorageClass of the volumes (config.kubernetes.storageClass). */
  readonly storageClass: string;
  /** The rendered alertmanager.yml (renderAlertmanagerConfig); it holds file paths, never credentials. */
  readonly config: string;
  /** Receiver credentials, delivered in a Secret mounted at ALERTMANAGER_SECRETS_DIR. */
  readonly secrets: AlertmanagerSecrets;
  /** CPU and memory. Default: requests 50m / 128Mi, limits 200m / 256Mi. */
  readonly compute?: ComputeResources;
  /** Object name. Default: "alertmanager". */
  readonly name?: string;
}

export interface ResolvedAlertmanagerArgs {
  readonly workload: Workload;
  readonly settings: MonitoringConfig["alertmanager"];
  readonly storageClass: string;
  readonly config: string;
  readonly compute: ComputeResources;
  /** Headless Service that gives each replica a stable DNS name for gossip. */
  readonly clusterService: string;
}

export const ALERTMANAGER_DEFAULT_COMPUTE = resources("50m", "128Mi", "200m", "256Mi");

/** Every `*_file:` path of an alertmanager.yml. */
export function referencedFiles(alertmanagerYml: string): string[] {
  return [...alertmanagerYml.matchAll(/^[\s-]*[a-z_]+_file:\s*["']?([^"'\s#]+)/gm)].map((m) => m[1]);
}

export function resolveAlertmanagerArgs(args: AlertmanagerArgs): ResolvedAlertmanagerArgs {
  const name = args.name ?? "alertmanager";
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  checkInteger(problems, "monitoring.alertmanager.replicas", args.settings.replicas, 1);
  if ((parseQuantity(args.settings.storageSize) ?? 0) <= 0) {
    problems.push(
      `monitoring.alertmanager.storageSize must be a Kubernetes quantity (got "${args.settings.storageSize}")`,
    );
  }
  if (args.storageClass.trim() === "") problems.push("kubernetes.storageClass must not be empty");
  if (args.config.trim() === "") problems.push("config (alertmanager.yml) must not be empty");
  // The config and the Secret must agree on where credentials live: a path nothing is mounted at would only fail
  // when the first page is due.
  const mounted = new Set(Object.values(ALERTMANAGER_SECRET_FILES).map((f) => `${ALERTMANAGER_SECRETS_DIR}/${f}`));
  for (const path of referencedFiles(args.config)) {
    if (!mounted.has(path)) {
      problems.push(`alertmanager.yml reads ${path}, which is not mounted (mounted: ${[...mounted].join(", ")})`);
    }
  }
  throwIfProblems("Alertmanager", problems);
  return {
    workload: { name, namespace: args.namespace, image: images.alertmanager },
    settings: args.settings,
    storageClass: args.storageClass,
    config: args.config,
    compute: args.compute ?? ALERTMANAGER_DEFAULT_COMPUTE,
    clusterService: `${name}-cluster`,
  };
}

/** DNS names of every replica on the cluster port, for --cluster.peer. */
export function alertmanagerPeers(r: ResolvedAlertmanagerArgs): string[] {
  const { name, namespace } = r.workload;
  return Array.from(
    { length: r.settings.replicas },
    (_, i) => `${name}-${i}.${r.clusterService}.${namespace}.svc:${ALERTMANAGER_CLUSTER_PORT}`,
  );
}

export function alertmanagerArgs(r: ResolvedAlertmanagerArgs): string[] {
  const base = [
    `--config.file=${ALERTMANAGER_CONFIG_DIR}/${ALERTMANAGER_CONFIG_FILE}`,
    "--storage.path=/alertmanager",
    `--web.listen-address=:${ALERTMANAGER_PORT}`,
  ];
  if (r.settings.replicas === 1) {
    // An empty listen address turns gossip off: a single replica has nobody to talk to.
    return [...base, "--cluster.listen-address="];
  }
  return [
    ...base,
    `--cluster.listen-address=0.0.0.0:${ALERTMANAGER_CLUSTER_PORT}`,
    // Pod IPs are not always in the private ranges Alertmanager guesses from; advertise the pod IP explicitly.
    `--cluster.advertise-address=$(POD_IP):${ALERTMANAGER_CLUSTER_PORT}`,
    ...alertmanagerPeers(r).map((p) => `--cluster.peer=${p}`),
  ];
}

/**
 * Alertmanager: the rendered routing in a ConfigMap, receiver credentials in a Secret read as files, a persistent
 * volume per replica (silences and the notification log survive restarts) and, with several replicas, a gossip
 * cluster over a headless Service so that each alert is sent once.
 */
export class Alertmanager extends pulumi.ComponentResource {
  /** The API and UI; Prometheus sends to every replica (see alertmanagerPeers), not through this Service. */
  public readonly endpoint: ServiceEndpoint;
  /** The headless Service whose per-pod DNS names Prometheus uses to reach each replica. */
  public readonly clusterEndpoint: ServiceEndpoint;
  public readonly peer: PodPeer;
  public readonly statefulSet: k8s.apps.v1.StatefulSet;

  constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:Alertmanager", name, {}, opts);
    const r = resolveAlertmanagerArgs(args);
    const w = r.workload;

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: objectMeta(w, ALERTMANAGER_CONFIGMAP), data: { [ALERTMANAGER_CONFIG_FILE]: r.config } },
      { parent: this },
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-receivers`,
      {
        metadata: objectMeta(w, ALERTMANAGER_SECRET),
        type: "Opaque",
        stringData: {
          [ALERTMANAGER_SECRET_FILES.slackWebhookUrl]: pulumi.secret(args.secrets.slackWebhookUrl),
          [ALERTMANAGER_SECRET_FILES.pagerDutyRoutingKey]: pulumi.secret(args.secrets.pagerDutyRoutingKey),
          [ALERTMANAGER_SECRET_FILES.smtpPassword]: pulumi.secret(args.secrets.smtpPassword),
        },
      },
      { parent: this },
    );

    const ports = [{ name: "web", port: ALERTMANAGER_PORT, targetPort: "web" }];
    new k8s.core.v1.Service(
      `${name}-cluster`,
      {
        metadata: objectMeta(w, r.clusterService),
        spec: {
          clusterIP: "None",
          // Peers must find each other before they are ready: readiness waits for the cluster to settle.
          publishNotReadyAddresses: true,
          selector: workloadSelector(w),
          ports: [
            ...ports,
            { name: "cluster-tcp", port: ALERTMANAGER_CLUSTER_PORT, targetPort: "cluster-tcp", protocol: "TCP" },
            { name: "cluster-udp", port: ALERTMANAGER_CLUSTER_PORT, targetPort: "cluster-udp", protocol: "UDP" },
          ],
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: objectMeta(w), spec: { type: "ClusterIP", selector: workloadSelector(w), ports } },
      { parent: this },
    );

    disruptionBudget(name, w, r.settings.replicas, { parent: this });
    const clustered = r.settings.replicas > 1;
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: objectMeta(w),
        spec: {
          replicas: r.settings.replicas,
          serviceName: r.clusterService,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: workloadSelector(w) },
          template: {
            metadata: {
              labels: workloadLabels(w),
              // A routing change rolls the pods. Credentials need no restart: Alertmanager reads *_file at send
              // time and the kubelet refreshes mounted Secrets, so a rotated key is used within a minute or two.
              annotations: { "checksum/config": checksum(r.config) },
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(ALERTMANAGER_UID),
              affinity: spreadAcrossNodes(w),
              containers: [
                hardenedContainer({
                  name: "alertmanager",
                  image: images.alertmanager,
                  args: alertmanagerArgs(r),
                  env: clustered ? [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] : [],
                  ports: [
                    { name: "web", containerPort: ALERTMANAGER_PORT },
                    ...(clustered
                      ? [
                          { name: "cluster-tcp", containerPort: ALERTMANAGER_CLUSTER_PORT, protocol: "TCP" },
                          { name: "cluster-udp", containerPort: ALERTMANAGER_CLUSTER_PORT, protocol: "UDP" },
                        ]
                      : []),
                  ],
                  readinessProbe: {
                    httpGet: { path: "/-/ready", port: "web" },
                    periodSeconds: 10,
                    failureThreshold: 3,
                  },
                  livenessProbe: {
                    httpGet: { path: "/-/healthy", port: "web" },
                    periodSeconds: 15,
                    failureThreshold: 4,
                  },
                  volumeMounts: [
                    { name: "config", mountPath: ALERTMANAGER_CONFIG_DIR, readOnly: true },
                    { name: "receivers", mountPath: ALERTMANAGER_SECRETS_DIR, readOnly: true },
                    { name: "data", mountPath: "/alertmanager" },
                  ],
                  compute: r.compute,
                  runAsUser: ALERTMANAGER_UID,
                }),
              ],
              volumes: [
                { name: "config", configMap: { name: configMap.metadata.name } },
                // Owner and group read only; fsGroup makes the group the container's.
                { name: "receivers", secret: { secretName: secret.metadata.name, defaultMode: 0o440 } },
              ],
            },
          },
          volumeClaimTemplates: [dataVolumeClaimTemplate(workloadLabels(w), r.storageClass, r.settings.storageSize)],
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        },
      },
      { parent: this },
    );

    this.endpoint = serviceEndpoint(w, ALERTMANAGER_PORT);
    this.clusterEndpoint = serviceEndpoint(w, ALERTMANAGER_PORT, "http", r.clusterService);
    this.peer = podPeer(w);
    this.registerOutputs({ endpoint: this.endpoint, clusterEndpoint: this.clusterEndpoint, peer: this.peer });
  }
}
