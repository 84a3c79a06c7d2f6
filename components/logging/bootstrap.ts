import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  checksum,
  childOptions,
  hardenedContainer,
  images,
  type PodPeer,
  resources,
  restrictedPodSecurityContext,
} from "../k8s";
import {
  BOOTSTRAP_SCRIPT_KEY,
  bootstrapFiles,
  bootstrapRequests,
  bootstrapScript,
  type SnapshotSettings,
} from "./bootstrap-requests";
import { NAMES, TLS_KEYS } from "./names";
import type { UserSpec } from "./security-model";
import type { SecretKeyRef } from "./types";
import { elasticsearchCaVolume, loggingWorkload } from "./workload";

export interface BootstrapUser {
  readonly spec: UserSpec;
  /** Secret (in the logging namespace) and key holding the user's password. */
  readonly password: SecretKeyRef;
}

export interface ElasticsearchBootstrapArgs {
  readonly namespace: string;
  /** https URL of the Elasticsearch client Service. */
  readonly elasticsearchUrl: string;
  /** Elasticsearch nodes (replica counts of the templates). */
  readonly nodes: number;
  readonly logRetentionDays: number;
  readonly auditRetentionDays: number;
  /** The elastic superuser's password Secret. */
  readonly elasticPassword: SecretKeyRef;
  /** The kibana_system password Secret. */
  readonly kibanaSystemPassword: SecretKeyRef;
  /** Users to create, with their password Secrets. */
  readonly users: readonly BootstrapUser[];
  /** S3 snapshots (repository and nightly SLM policy); undefined: none. Default: undefined. */
  readonly snapshots?: {
    readonly bucket: pulumi.Input<string>;
    /** Default: "elasticsearch". */
    readonly basePath?: string;
    /** Default: 30. */
    readonly retentionDays?: number;
    /** Default: "0 30 1 * * ?" (01:30 UTC daily). */
    readonly schedule?: string;
  };
  /** Namespaces that get the logging CA in a ConfigMap `logging-ca`. Default: none. */
  readonly caNamespaces?: readonly string[];
  /** Requests and limits. Default: 50m/32Mi requested, 200m/64Mi limit. */
  readonly compute?: ComputeResources;
  /** Image. Default: images.curl. */
  readonly image?: string;
}

export interface ResolvedBootstrapSnapshots {
  readonly basePath: string;
  readonly retentionDays: number;
  readonly schedule: string;
}

export function resolveBootstrapSnapshots(
  snapshots: ElasticsearchBootstrapArgs["snapshots"],
): ResolvedBootstrapSnapshots | undefined {
  if (snapshots === undefined) return undefined;
  const resolved = {
    basePath: snapshots.basePath ?? "elasticsearch",
    retentionDays: snapshots.retentionDays ?? 30,
    schedule: snapshots.schedule ?? "0 30 1 * * ?",
  };
  const problems: string[] = [];
  if (!Number.isInteger(resolved.retentionDays) || resolved.retentionDays < 1) {
    problems.push(`snapshot retentionDays must be a positive integer (got ${resolved.retentionDays})`);
  }
  if (!/^[a-zA-Z0-9][-a-zA-Z0-9_/]*$/.test(resolved.basePath))
    problems.push(`snapshot basePath is not a key prefix (got "${resolved.basePath}")`);
  if (problems.length > 0) throw new Error(`invalid Elasticsearch bootstrap arguments: ${problems.join("; ")}`);
  return resolved;
}

/**
 * The idempotent set-up Job: ILM policies, index templates, roles, users, the kibana_system password, the
 * snapshot repository and its lifecycle policy, then the logging CA for the client namespaces. It runs the pinned
 * curl image with the shellcheck-clean files/bootstrap.sh; its name carries a hash of what it sends, so a change
 * creates a new Job (Jobs are immutable) and the platform's `pulumi up` waits for it to succeed.
 */
export class ElasticsearchBootstrap extends pulumi.ComponentResource {
  public readonly job: k8s.batch.v1.Job;
  public readonly peer: PodPeer;

  constructor(name: string, args: ElasticsearchBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:ElasticsearchBootstrap", name, {}, opts);
    const child = childOptions(this, opts);
    const inherited: pulumi.Input<pulumi.Resource>[] =
      opts?.dependsOn === undefined
        ? []
        : Array.isArray(opts.dependsOn)
          ? opts.dependsOn
          : [opts.dependsOn as pulumi.Input<pulumi.Resource>];
    const ns = args.namespace;
    const image = args.image ?? images.curl;
    const snapshots = resolveBootstrapSnapshots(args.snapshots);
    const caNamespaces = [...new Set(args.caNamespaces ?? [])];
    const workload = loggingWorkload(NAMES.bootstrap, ns, image);
    const { labels, meta } = workload;

    const files = pulumi.output(args.snapshots?.bucket).apply((bucket) => {
      const snapshotSettings: SnapshotSettings | undefined =
        snapshots === undefined || bucket === undefined ? undefined : { bucket, ...snapshots };
      const requests = bootstrapRequests({
        nodes: args.nodes,
        logRetentionDays: args.logRetentionDays,
        auditRetentionDays: args.auditRetentionDays,
        users: args.users.map((u) => u.spec),
        kibanaSystemPasswordEnv: "PASSWORD_KIBANA_SYSTEM",
        snapshots: snapshotSettings,
      });
      return { ...bootstrapFiles(requests), [BOOTSTRAP_SCRIPT_KEY]: bootstrapScript() };
    });
    const requestsConfigMap = new k8s.core.v1.ConfigMap(
      `${name}-requests`,
      { metadata: meta(NAMES.bootstrapRequests), data: files },
      child,
    );

    new k8s.core.v1.ServiceAccount(`${name}-service-account`, { metadata: meta(NAMES.bootstrap) }, child);
    const publishers: pulumi.Resource[] = [];
    for (const caNamespace of caNamespaces) {
      // The Job may only read and patch this one ConfigMap, which Pulumi creates (empty) and owns; the Job fills
      // its data, which Pulumi therefore ignores.
      publishers.push(
        new k8s.core.v1.ConfigMap(
          `${name}-ca-${caNamespace}`,
          { metadata: meta(NAMES.caConfigMap, caNamespace) },
          { ...child, ignoreChanges: ["data"] },
        ),
        new k8s.rbac.v1.Role(
          `${name}-ca-role-${caNamespace}`,
          {
            metadata: meta("logging-ca-publisher", caNamespace),
            rules: [
              {
                apiGroups: [""],
                resources: ["configmaps"],
                resourceNames: [NAMES.caConfigMap],
                verbs: ["get", "patch"],
              },
            ],
          },
          child,
        ),
        new k8s.rbac.v1.RoleBinding(
          `${name}-ca-role-binding-${caNamespace}`,
          {
            metadata: meta("logging-ca-publisher", caNamespace),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "logging-ca-publisher" },
            subjects: [{ kind: "ServiceAccount", name: NAMES.bootstrap, namespace: ns }],
          },
          child,
        ),
      );
    }

    const secretEnv = (envName: string, ref: SecretKeyRef) => ({
      name: envName,
      valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } },
    });
    const compute = args.compute ?? resources("50m", "32Mi", "200m", "64Mi");
    this.job = new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: {
          name: files.apply((f) => `${NAMES.bootstrap}-${checksum(f).slice(0, 10)}`),
          namespace: ns,
          labels,
        },
        spec: {
          backoffLimit: 6,
          activeDeadlineSeconds: 1800,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: NAMES.bootstrap,
              // The token is needed only to publish the CA to other namespaces.
              automountServiceAccountToken: caNamespaces.length > 0,
              enableServiceLinks: false,
              restartPolicy: "Never",
              securityContext: restrictedPodSecurityContext(100, 101),
              containers: [
                hardenedContainer({
                  name: "bootstrap",
                  image,
                  command: ["sh", `/bootstrap/${BOOTSTRAP_SCRIPT_KEY}`],
                  compute,
                  runAsUser: 100,
                  env: [
                    { name: "ES_URL", value: args.elasticsearchUrl },
                    { name: "REQUESTS_DIR", value: "/bootstrap" },
                    { name: "CA_FILE", value: `/etc/elasticsearch/ca/${TLS_KEYS.ca}` },
                    { name: "CA_NAMESPACES", value: caNamespaces.join(" ") },
                    { name: "CA_CONFIGMAP", value: NAMES.caConfigMap },
                    { name: "TMPDIR", value: "/tmp" },
                    secretEnv("ELASTIC_PASSWORD", args.elasticPassword),
                    secretEnv("PASSWORD_KIBANA_SYSTEM", args.kibanaSystemPassword),
                    ...args.users.map((u) => secretEnv(u.spec.passwordEnv, u.password)),
                  ],
                  volumeMounts: [
                    { name: "requests", mountPath: "/bootstrap", readOnly: true },
                    { name: "elasticsearch-ca", mountPath: "/etc/elasticsearch/ca", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                }),
              ],
              volumes: [
                { name: "requests", configMap: { name: NAMES.bootstrapRequests } },
                elasticsearchCaVolume(),
                // Memory-backed: request bodies with passwords are written here for a moment.
                { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: [...inherited, requestsConfigMap, ...publishers] },
    );
    this.peer = workload.peer;
    this.registerOutputs({});
  }
}
