import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsConfig, ObjectLockMode } from "../../config/types";
import { ELASTICSEARCH_SNAPSHOT_PREFIX } from "../logging/snapshots";
import {
  BACKUP_ACCESS,
  BACKUP_ROLES,
  type BackupRole,
  type BucketKey,
  backupRolePolicy,
  elasticsearchSnapshotPolicy,
  irsaTrustPolicy,
  replicationPolicy,
  serviceTrustPolicy,
} from "./access";
import { SecureBucket } from "./bucket";

/** The seed's RETENTION_DAYS: no backup expires sooner. */
export const MIN_RETENTION_DAYS = 30;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const BUCKET_PREFIX = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
/** The longest suffix added to the prefix ("-elasticsearch-dr"): S3 names are at most 63 characters. */
const LONGEST_SUFFIX = "-elasticsearch-dr".length;

export interface BackupStorageArgs {
  /** Prefix of every bucket name (globally unique in S3), e.g. "zarishsphere-backups-prod". */
  readonly bucketPrefix: string;
  /** Days current backups are kept (S3 lifecycle); at least 30. */
  readonly retentionDays: number;
  /** Days superseded versions are kept; at least 1. */
  readonly noncurrentRetentionDays: number;
  /** Object Lock default retention for every backup bucket; undefined: none. Default: undefined. */
  readonly objectLock?: { readonly mode: ObjectLockMode; readonly days: number };
  /** Replicate every backup bucket to aws.drRegion. Default: false. */
  readonly replication?: boolean;
  /** Region, DR region, account and the EKS OIDC provider (for IRSA). */
  readonly aws: Pick<AwsConfig, "region" | "drRegion" | "accountId" | "eksOidcProviderArn" | "eksOidcIssuer">;
  /** Namespace of the backup jobs' ServiceAccounts. Default: "backup". */
  readonly namespace?: string;
  /** The Elasticsearch ServiceAccount that writes snapshots. Default: logging/elasticsearch. */
  readonly elasticsearch?: { readonly namespace?: string; readonly serviceAccount?: string };
  /** Days the S3 server access logs are kept; at least 30. Default: retentionDays. */
  readonly accessLogRetentionDays?: number;
  /** Days a deleted KMS key can still be recovered, 7-30. Default: 30. */
  readonly kmsDeletionWindowDays?: number;
  /** Protect keys, buckets and their settings from deletion (the platform sets it in prod). Default: false. */
  readonly protect?: boolean;
}

export interface ResolvedBackupStorageArgs {
  readonly bucketPrefix: string;
  readonly retentionDays: number;
  readonly noncurrentRetentionDays: number;
  readonly objectLock: { readonly mode: ObjectLockMode; readonly days: number } | undefined;
  readonly replication: boolean;
  readonly aws: BackupStorageArgs["aws"];
  readonly namespace: string;
  readonly elasticsearch: { readonly namespace: string; readonly serviceAccount: string };
  readonly accessLogRetentionDays: number;
  readonly kmsDeletionWindowDays: number;
  readonly protect: boolean;
  /** Bucket names: the backup buckets, the access-log bucket, and their DR replicas. */
  readonly buckets: Readonly<Record<BucketKey | "accessLogs", string>>;
  readonly replicaBuckets: Readonly<Record<BucketKey | "accessLogs", string>>;
}

const isWhole = (n: number) => Number.isInteger(n);

/** Defaults and validation, without Pulumi: every problem is collected and reported at once. */
export function resolveBackupStorageArgs(args: BackupStorageArgs): ResolvedBackupStorageArgs {
  const replication = args.replication ?? false;
  const accessLogRetentionDays = args.accessLogRetentionDays ?? args.retentionDays;
  const kmsDeletionWindowDays = args.kmsDeletionWindowDays ?? 30;
  const namespace = args.namespace ?? "backup";
  const elasticsearch = {
    namespace: args.elasticsearch?.namespace ?? "logging",
    serviceAccount: args.elasticsearch?.serviceAccount ?? "elasticsearch",
  };
  const problems: string[] = [];
  const p = args.bucketPrefix;
  if (!BUCKET_PREFIX.test(p) || p.length + LONGEST_SUFFIX > 63 || p.includes("--")) {
    problems.push(
      `bucketPrefix must be lower-case letters, digits and single hyphens, at most ${63 - LONGEST_SUFFIX} characters (got "${p}")`,
    );
  }
  if (!isWhole(args.retentionDays) || args.retentionDays < MIN_RETENTION_DAYS) {
    problems.push(`retentionDays must be a whole number >= ${MIN_RETENTION_DAYS} (got ${args.retentionDays})`);
  }
  if (!isWhole(args.noncurrentRetentionDays) || args.noncurrentRetentionDays < 1) {
    problems.push(`noncurrentRetentionDays must be a whole number >= 1 (got ${args.noncurrentRetentionDays})`);
  }
  if (!isWhole(accessLogRetentionDays) || accessLogRetentionDays < MIN_RETENTION_DAYS) {
    problems.push(
      `accessLogRetentionDays must be a whole number >= ${MIN_RETENTION_DAYS} (got ${accessLogRetentionDays})`,
    );
  }
  if (args.objectLock !== undefined) {
    const { mode, days } = args.objectLock;
    if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE") {
      problems.push(`objectLock.mode must be GOVERNANCE or COMPLIANCE (got "${mode}")`);
    }
    if (!isWhole(days) || days < 1) problems.push(`objectLock.days must be a whole number >= 1 (got ${days})`);
  }
  if (replication && args.aws.drRegion === args.aws.region) {
    problems.push(`replication needs aws.drRegion to differ from aws.region (both "${args.aws.region}")`);
  }
  if (!isWhole(kmsDeletionWindowDays) || kmsDeletionWindowDays < 7 || kmsDeletionWindowDays > 30) {
    problems.push(`kmsDeletionWindowDays must be 7..30 (got ${kmsDeletionWindowDays})`);
  }
  if (!/^\d{12}$/.test(args.aws.accountId))
    problems.push(`aws.accountId must be 12 digits (got "${args.aws.accountId}")`);
  if (!args.aws.eksOidcProviderArn.startsWith(`arn:aws:iam::${args.aws.accountId}:oidc-provider/`)) {
    problems.push(
      `aws.eksOidcProviderArn must be an OIDC provider of account ${args.aws.accountId} (got "${args.aws.eksOidcProviderArn}")`,
    );
  }
  for (const [what, value] of [
    ["namespace", namespace],
    ["elasticsearch.namespace", elasticsearch.namespace],
    ["elasticsearch.serviceAccount", elasticsearch.serviceAccount],
  ]) {
    if (!DNS_LABEL.test(value)) problems.push(`${what} must be a DNS-1123 label (got "${value}")`);
  }
  if (problems.length > 0) throw new Error(`BackupStorage: ${problems.join("; ")}`);
  const names = (suffix: string) => ({
    database: `${p}-database${suffix}`,
    kubernetes: `${p}-kubernetes${suffix}`,
    elasticsearch: `${p}-elasticsearch${suffix}`,
    accessLogs: `${p}-access-logs${suffix}`,
  });
  return {
    bucketPrefix: p,
    retentionDays: args.retentionDays,
    noncurrentRetentionDays: args.noncurrentRetentionDays,
    objectLock: args.objectLock,
    replication,
    aws: args.aws,
    namespace,
    elasticsearch,
    accessLogRetentionDays,
    kmsDeletionWindowDays,
    protect: args.protect ?? false,
    buckets: names(""),
    replicaBuckets: names("-dr"),
  };
}

/** Where Elasticsearch writes its snapshots, for the logging component's repository-s3 settings. */
export interface ElasticsearchSnapshotTarget {
  readonly bucket: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly region: string;
}

const BUCKET_KEYS: readonly BucketKey[] = ["database", "kubernetes", "elasticsearch"];

/**
 * The AWS side of the backups (the seed's "Backup and Disaster Recovery"): a KMS key with rotation, buckets for
 * database dumps, Kubernetes objects and Elasticsearch snapshots, an access-log bucket, and in prod Object Lock
 * and replication of every backup bucket to the DR region; plus an IRSA role per backup ServiceAccount.
 */
export class BackupStorage extends pulumi.ComponentResource {
  public readonly kmsKeyArn: pulumi.Output<string>;
  /** Bucket names by role. */
  public readonly buckets: Readonly<Record<BucketKey, pulumi.Output<string>>>;
  public readonly accessLogBucket: pulumi.Output<string>;
  /** DR replicas by role; undefined without replication. */
  public readonly replicaBuckets: Readonly<Record<BucketKey, pulumi.Output<string>>> | undefined;
  /** IAM role ARNs for the backup jobs' ServiceAccounts (annotation eks.amazonaws.com/role-arn). */
  public readonly roleArns: Readonly<Record<BackupRole, pulumi.Output<string>>>;
  public readonly elasticsearchSnapshots: ElasticsearchSnapshotTarget;
  /** Region of the buckets (the scripts' AWS_REGION). */
  public readonly region: string;

  constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:backup:BackupStorage", name, {}, opts);
    const r = resolveBackupStorageArgs(args);
    const { region, drRegion, accountId } = r.aws;
    const protect = r.protect;
    const tags = (backup: boolean) => ({ "zarish.health/component": "backup", "zarish.health/backup": String(backup) });

    const key = this.kmsKey(name, r, undefined);
    this.kmsKeyArn = key.arn;
    this.region = region;

    const secureBuckets = (
      suffix: string,
      names: ResolvedBackupStorageArgs["buckets"],
      bucketRegion?: string,
      keyArn?: pulumi.Output<string>,
    ) => {
      const logs = new SecureBucket(
        `${name}-access-logs${suffix}`,
        {
          bucketName: names.accessLogs,
          region: bucketRegion,
          kmsKeyArn: undefined,
          expireDays: r.accessLogRetentionDays,
          noncurrentDays: r.noncurrentRetentionDays,
          accessLogs: undefined,
          logSources: BUCKET_KEYS.map((k) => names[k]),
          accountId,
          // S3 cannot deliver access logs into a bucket with a default Object Lock retention.
          objectLock: undefined,
          tags: tags(false),
          protect,
        },
        { parent: this },
      );
      const buckets = {} as Record<BucketKey, SecureBucket>;
      for (const k of BUCKET_KEYS) {
        buckets[k] = new SecureBucket(
          `${name}-${k}${suffix}`,
          {
            bucketName: names[k],
            region: bucketRegion,
            kmsKeyArn: keyArn ?? key.arn,
            // Elasticsearch's incremental snapshots share blobs across snapshots: a lifecycle expiring "old"
            // objects would break recent snapshots. Its retention is SLM's; S3 only drops superseded versions.
            expireDays: k === "elasticsearch" ? undefined : r.retentionDays,
            noncurrentDays: r.noncurrentRetentionDays,
            accessLogs: { bucket: logs.bucket.id, prefix: `${names[k]}/` },
            accountId,
            objectLock: r.objectLock,
            tags: tags(k !== "elasticsearch"),
            protect,
          },
          { parent: this },
        );
      }
      return { logs, buckets };
    };

    const primary = secureBuckets("", r.buckets);
    this.buckets = mapKeys((k) => primary.buckets[k].name);
    this.accessLogBucket = primary.logs.name;

    if (r.replication) {
      // The DR resources use @pulumi/aws v7's per-resource `region` rather than a second provider: they keep the
      // default provider's credentials, assume-role and default tags, which a separate provider would not.
      const drKey = this.kmsKey(name, r, drRegion);
      const dr = secureBuckets("-dr", r.replicaBuckets, drRegion, drKey.arn);
      this.replicaBuckets = mapKeys((k) => dr.buckets[k].name);
      const role = new aws.iam.Role(
        `${name}-replication`,
        {
          description: "S3 replication of the ZARISH SPHERE backup buckets to the DR region",
          assumeRolePolicy: JSON.stringify(serviceTrustPolicy("s3.amazonaws.com", accountId)),
          tags: tags(false),
        },
        { parent: this },
      );
      const pairs = BUCKET_KEYS.map((k) => ({ source: r.buckets[k], destination: r.replicaBuckets[k] }));
      const policy = new aws.iam.RolePolicy(
        `${name}-replication-policy`,
        {
          role: role.id,
          policy: pulumi
            .all([key.arn, drKey.arn])
            .apply(([source, destination]) =>
              JSON.stringify(replicationPolicy(pairs, source, destination, region, drRegion)),
            ),
        },
        { parent: this },
      );
      for (const k of BUCKET_KEYS) {
        new aws.s3.BucketReplicationConfig(
          `${name}-${k}-replication`,
          {
            bucket: primary.buckets[k].bucket.id,
            role: role.arn,
            rules: [
              {
                id: "to-dr-region",
                status: "Enabled",
                filter: { prefix: "" },
                // A delete in the primary (a delete marker) is not copied: the DR copy is what survives it.
                deleteMarkerReplication: { status: "Disabled" },
                sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
                destination: {
                  bucket: dr.buckets[k].arn,
                  storageClass: "STANDARD",
                  encryptionConfiguration: { replicaKmsKeyId: drKey.arn },
                },
              },
            ],
          },
          { parent: this, protect, dependsOn: [primary.buckets[k].versioning, dr.buckets[k].versioning, policy] },
        );
      }
    }

    const roles = {} as Record<BackupRole, pulumi.Output<string>>;
    for (const sa of BACKUP_ROLES) {
      roles[sa] = this.irsaRole(`${name}-${sa}`, r, r.namespace, sa, (keyArn) =>
        backupRolePolicy(BACKUP_ACCESS[sa], r.buckets, keyArn, region),
      );
    }
    this.roleArns = roles;
    this.elasticsearchSnapshots = {
      bucket: primary.buckets.elasticsearch.name,
      roleArn: this.irsaRole(
        `${name}-elasticsearch-snapshots`,
        r,
        r.elasticsearch.namespace,
        r.elasticsearch.serviceAccount,
        (keyArn) => elasticsearchSnapshotPolicy(r.buckets.elasticsearch, ELASTICSEARCH_SNAPSHOT_PREFIX, keyArn, region),
      ),
      region,
    };

    this.registerOutputs({
      kmsKeyArn: this.kmsKeyArn,
      buckets: this.buckets,
      accessLogBucket: this.accessLogBucket,
      replicaBuckets: this.replicaBuckets,
      roleArns: this.roleArns,
      elasticsearchSnapshots: this.elasticsearchSnapshots,
    });

    function mapKeys(f: (k: BucketKey) => pulumi.Output<string>): Record<BucketKey, pulumi.Output<string>> {
      return { database: f("database"), kubernetes: f("kubernetes"), elasticsearch: f("elasticsearch") };
    }
  }

  /** The backup KMS key (automatic yearly rotation) and its alias, in `region` (default: the provider's). */
  private kmsKey(name: string, r: ResolvedBackupStorageArgs, region: string | undefined): aws.kms.Key {
    const suffix = region === undefined ? "" : "-dr";
    const where = region === undefined ? {} : { region };
    const key = new aws.kms.Key(
      `${name}-key${suffix}`,
      {
        ...where,
        description: `ZARISH SPHERE backups (${r.bucketPrefix}${suffix})`,
        enableKeyRotation: true,
        deletionWindowInDays: r.kmsDeletionWindowDays,
        tags: { "zarish.health/component": "backup" },
      },
      { parent: this, protect: r.protect },
    );
    new aws.kms.Alias(
      `${name}-key${suffix}`,
      { ...where, name: `alias/${r.bucketPrefix}${suffix}`, targetKeyId: key.keyId },
      { parent: this, protect: r.protect },
    );
    return key;
  }

  /** An IAM role that only `namespace/serviceAccount` can assume (IRSA), with one inline policy. */
  private irsaRole(
    name: string,
    r: ResolvedBackupStorageArgs,
    namespace: string,
    serviceAccount: string,
    policy: (kmsKeyArn: string) => object,
  ): pulumi.Output<string> {
    const role = new aws.iam.Role(
      name,
      {
        description: `IRSA role of ${namespace}/${serviceAccount} (ZARISH SPHERE backups)`,
        assumeRolePolicy: JSON.stringify(
          irsaTrustPolicy(r.aws.eksOidcProviderArn, r.aws.eksOidcIssuer, namespace, serviceAccount),
        ),
        tags: { "zarish.health/component": "backup" },
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: role.id, policy: this.kmsKeyArn.apply((arn) => JSON.stringify(policy(arn))) },
      { parent: this },
    );
    return role.arn;
  }
}
