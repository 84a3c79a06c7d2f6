import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checksum } from "../k8s/checksum";
import type { PodPeer } from "../k8s/endpoints";
import { recommendedLabels, selectorLabels } from "../k8s/labels";
import { BACKUP_ROLES } from "./access";
import {
  BACKUP_UID,
  backupJobs,
  buildCronJob,
  COMPONENT,
  EGRESS_LABEL,
  OBJECT_NAMES,
  PUBLIC_KEY_FILE,
} from "./cronjobs";
import { type BackupJobsArgs, OBJECT_KINDS, type ObjectKind, resolveBackupJobsArgs } from "./jobs-args";
import { backupScripts } from "./scripts";

export interface BackupPeers {
  readonly databaseClients: readonly PodPeer[];
  readonly s3Clients: readonly PodPeer[];
  readonly kubernetesApiClients: readonly PodPeer[];
}

/** The backup pods as NetworkPolicy peers, selected by the labels buildCronJob puts on them. */
export function backupPeers(namespace: string): BackupPeers {
  return {
    databaseClients: [{ namespace, podSelector: { [EGRESS_LABEL.postgres]: "true" } }],
    s3Clients: [{ namespace, podSelector: { [EGRESS_LABEL.s3]: "true" } }],
    kubernetesApiClients: [{ namespace, podSelector: selectorLabels({ name: "kubernetes-object-backup" }) }],
  };
}

/** The read-only rules of the object backup's ClusterRole, one per API group, generated from the exported kinds. */
export function objectReaderRules(
  kinds: readonly ObjectKind[],
  secrets: boolean,
): k8s.types.input.rbac.v1.PolicyRule[] {
  const byGroup = new Map<string, string[]>();
  for (const kind of kinds) byGroup.set(OBJECT_KINDS[kind], [...(byGroup.get(OBJECT_KINDS[kind]) ?? []), kind]);
  // Reading Secrets is what an encrypted backup of them costs: this ServiceAccount can read every Secret of the
  // cluster. Its pods hold only the public key, and only this one job uses the account; set backupSecrets
  // false to drop the rule if the Secrets' sources of truth (Pulumi config, the cloud's secret store) suffice.
  if (secrets) byGroup.set("", [...(byGroup.get("") ?? []), "secrets"]);
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ["get", "list"] }));
}

/**
 * The backup CronJobs in the backup namespace (the seed's "Backup and Disaster Recovery" and "Maintenance
 * Procedures" as cluster jobs): the daily database backup, the Kubernetes object backup, the daily restore
 * verification, the nightly database maintenance and the weekly health report. Scripts come from one ConfigMap
 * (components/backup/scripts, tested by a real round trip); each job's ServiceAccount carries its IRSA role.
 */
export class BackupJobs extends pulumi.ComponentResource {
  public readonly namespace: string;
  /** CronJob names. */
  public readonly cronJobs: string[];
  /**
   * The jobs' pods by what they connect to, for the platform's NetworkIsolation flows (the namespace denies all
   * egress by default): PostgreSQL, S3 and STS over HTTPS, and the Kubernetes API (the object backup).
   */
  public readonly peers: BackupPeers;

  constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:backup:BackupJobs", name, {}, opts);
    const r = resolveBackupJobsArgs(args);
    const ns = r.namespace;
    this.namespace = ns;
    const meta = (objectName: string, namespaced = true) => ({
      name: objectName,
      ...(namespaced ? { namespace: ns } : {}),
      labels: recommendedLabels({ name: objectName, component: COMPONENT }),
    });
    const child = { parent: this };

    const scripts = backupScripts();
    const scriptsMap = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      { metadata: meta(OBJECT_NAMES.scripts), data: scripts },
      child,
    );
    const publicKey = new k8s.core.v1.ConfigMap(
      `${name}-public-key`,
      { metadata: meta(OBJECT_NAMES.publicKey), data: { [PUBLIC_KEY_FILE]: r.secretsPublicKey } },
      child,
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-database`,
      {
        metadata: meta(OBJECT_NAMES.databaseSecret),
        type: "Opaque",
        stringData: { password: pulumi.secret(r.database.password) },
      },
      child,
    );

    const accounts: Record<string, k8s.core.v1.ServiceAccount> = {};
    for (const sa of [...BACKUP_ROLES, "database-maintenance"] as const) {
      const roleArn = sa === "database-maintenance" ? undefined : r.storage.roleArns[sa];
      accounts[sa] = new k8s.core.v1.ServiceAccount(
        `${name}-sa-${sa}`,
        {
          metadata: {
            ...meta(sa),
            annotations: roleArn === undefined ? {} : { "eks.amazonaws.com/role-arn": roleArn },
          },
          automountServiceAccountToken: false,
        },
        child,
      );
    }

    const reader = new k8s.rbac.v1.ClusterRole(
      `${name}-object-reader`,
      { metadata: meta(OBJECT_NAMES.objectReader, false), rules: objectReaderRules(r.objectKinds, r.backupSecrets) },
      child,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-object-reader`,
      {
        metadata: meta(OBJECT_NAMES.objectReader, false),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: reader.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: "kubernetes-backup", namespace: ns }],
      },
      child,
    );

    const configChecksum = checksum(scripts, r.secretsPublicKey);
    const jobs = backupJobs(r);
    for (const job of jobs) {
      new k8s.batch.v1.CronJob(`${name}-${job.name}`, buildCronJob(job, r, configChecksum), {
        parent: this,
        dependsOn: [scriptsMap, publicKey, secret, accounts[job.serviceAccount]],
      });
    }
    this.cronJobs = jobs.map((j) => j.name);
    this.peers = backupPeers(ns);
    this.registerOutputs({ namespace: this.namespace, cronJobs: this.cronJobs, uid: BACKUP_UID, peers: this.peers });
  }
}
