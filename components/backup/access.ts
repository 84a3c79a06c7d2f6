/**
 * Who may do what in the backup buckets: one table of the backup ServiceAccounts and their S3 access, from which
 * both the IAM roles (BackupStorage) and the jobs' environment (BackupJobs) are built, and the pure builders of
 * every policy document. Least privilege: writers put (and finish or abort their multipart uploads) under their
 * own prefix and cannot read, list or delete; readers get and list one prefix; no role can delete a backup.
 */
import { ELASTICSEARCH_SNAPSHOT_S3_ACTIONS } from "../logging/snapshots";

/** The backup buckets, by role. */
export type BucketKey = "database" | "kubernetes" | "elasticsearch";

/** Key prefixes inside the buckets (BACKUP_PREFIX of the scripts). */
export const PREFIX = {
  database: "database",
  kubernetes: "kubernetes",
  reports: "reports",
} as const;

export interface PrefixAccess {
  readonly bucket: BucketKey;
  readonly prefix: string;
}

export interface ServiceAccountAccess {
  /** Objects it writes (PutObject and multipart completion). */
  readonly writes: readonly PrefixAccess[];
  /** Objects it reads (GetObject). */
  readonly reads: readonly PrefixAccess[];
  /** Prefixes it lists (ListBucket with an s3:prefix condition). */
  readonly lists: readonly PrefixAccess[];
}

/** Every backup ServiceAccount in the backup namespace that talks to S3, and exactly what it may do there. */
export const BACKUP_ACCESS = {
  "database-backup": { writes: [{ bucket: "database", prefix: PREFIX.database }], reads: [], lists: [] },
  "kubernetes-backup": { writes: [{ bucket: "kubernetes", prefix: PREFIX.kubernetes }], reads: [], lists: [] },
  "restore-verification": {
    writes: [],
    reads: [{ bucket: "database", prefix: PREFIX.database }],
    lists: [{ bucket: "database", prefix: PREFIX.database }],
  },
  "health-report": {
    writes: [{ bucket: "database", prefix: PREFIX.reports }],
    reads: [],
    lists: [
      { bucket: "database", prefix: PREFIX.database },
      { bucket: "kubernetes", prefix: PREFIX.kubernetes },
    ],
  },
} as const satisfies Record<string, ServiceAccountAccess>;

export type BackupRole = keyof typeof BACKUP_ACCESS;
export const BACKUP_ROLES = Object.keys(BACKUP_ACCESS) as BackupRole[];

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: unknown;
  readonly Action: string | readonly string[];
  /** Absent in trust policies. */
  readonly Resource?: string | readonly string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

const doc = (Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });
export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;

/** Actions a writer needs for `aws s3 cp`: one PutObject, or a multipart upload it can finish or abort. */
export const WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"] as const;
/** KMS for SSE-KMS: a data key to write; Decrypt to read, and to complete a multipart upload. */
export const KMS_WRITE_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"] as const;
export const KMS_READ_ACTIONS = ["kms:Decrypt"] as const;

/**
 * The inline policy of one backup role. `buckets` maps bucket keys to bucket names; the KMS actions are limited to
 * the backup key and to requests S3 makes on the role's behalf (kms:ViaService), so the role cannot use the key
 * directly.
 */
export function backupRolePolicy(
  access: ServiceAccountAccess,
  buckets: Readonly<Record<BucketKey, string>>,
  kmsKeyArn: string,
  region: string,
): PolicyDocument {
  const objects = (list: readonly PrefixAccess[]) => list.map((a) => `${bucketArn(buckets[a.bucket])}/${a.prefix}/*`);
  const statements: PolicyStatement[] = [];
  if (access.writes.length > 0) {
    statements.push({
      Sid: "WriteOwnPrefix",
      Effect: "Allow",
      Action: [...WRITE_ACTIONS],
      Resource: objects(access.writes),
    });
  }
  if (access.reads.length > 0) {
    statements.push({ Sid: "ReadBackups", Effect: "Allow", Action: ["s3:GetObject"], Resource: objects(access.reads) });
  }
  const listed = new Map<BucketKey, string[]>();
  for (const a of access.lists)
    listed.set(a.bucket, [...(listed.get(a.bucket) ?? []), `${a.prefix}/`, `${a.prefix}/*`]);
  for (const [bucket, prefixes] of listed) {
    statements.push({
      Sid: `List${bucket[0].toUpperCase()}${bucket.slice(1)}`,
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: bucketArn(buckets[bucket]),
      Condition: { StringLike: { "s3:prefix": prefixes } },
    });
  }
  statements.push({
    Sid: "UseBackupKeyThroughS3",
    Effect: "Allow",
    Action: [...(access.writes.length > 0 ? KMS_WRITE_ACTIONS : KMS_READ_ACTIONS)],
    Resource: kmsKeyArn,
    Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
  });
  return doc(statements);
}

/** The Elasticsearch snapshot role: repository-s3's documented actions on its own bucket and prefix only. */
export function elasticsearchSnapshotPolicy(
  bucket: string,
  prefix: string,
  kmsKeyArn: string,
  region: string,
): PolicyDocument {
  return doc([
    {
      Sid: "SnapshotBucket",
      Effect: "Allow",
      Action: [...ELASTICSEARCH_SNAPSHOT_S3_ACTIONS.bucket],
      Resource: bucketArn(bucket),
    },
    {
      // DeleteObject: Elasticsearch owns this repository's contents (it deletes superseded blobs and SLM deletes
      // expired snapshots); versioning and, in prod, Object Lock keep deleted versions recoverable.
      Sid: "SnapshotObjects",
      Effect: "Allow",
      Action: [...ELASTICSEARCH_SNAPSHOT_S3_ACTIONS.objects],
      Resource: `${bucketArn(bucket)}/${prefix}/*`,
    },
    {
      Sid: "UseBackupKeyThroughS3",
      Effect: "Allow",
      Action: [...KMS_WRITE_ACTIONS],
      Resource: kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
    },
  ]);
}

/** IRSA trust: only this ServiceAccount's projected token, issued for STS, may assume the role. */
export function irsaTrustPolicy(
  oidcProviderArn: string,
  issuer: string,
  namespace: string,
  serviceAccount: string,
): PolicyDocument {
  return doc([
    {
      Effect: "Allow",
      Principal: { Federated: oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
          [`${issuer}:aud`]: "sts.amazonaws.com",
        },
      },
    },
  ]);
}

/** Trust for a role an AWS service assumes (S3 replication). */
export function serviceTrustPolicy(service: string, accountId: string): PolicyDocument {
  return doc([
    {
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sts:AssumeRole",
      // Confused-deputy guard: only on behalf of this account.
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
  ]);
}

export interface ReplicationPair {
  readonly source: string;
  readonly destination: string;
}

/**
 * The role S3 uses to replicate the backup buckets to the DR region: read the source versions (with their Object
 * Lock retention, which is replicated too), write replicas, decrypt with the primary key and encrypt with the DR
 * key. No s3:ReplicateDelete: deletions are never replicated, so the DR copy survives a delete in the primary.
 */
export function replicationPolicy(
  pairs: readonly ReplicationPair[],
  sourceKeyArn: string,
  destinationKeyArn: string,
  region: string,
  drRegion: string,
): PolicyDocument {
  return doc([
    {
      Sid: "ReadReplicationConfiguration",
      Effect: "Allow",
      Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
      Resource: pairs.map((p) => bucketArn(p.source)),
    },
    {
      Sid: "ReadSourceVersions",
      Effect: "Allow",
      Action: [
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
        "s3:GetObjectRetention",
        "s3:GetObjectLegalHold",
      ],
      Resource: pairs.map((p) => `${bucketArn(p.source)}/*`),
    },
    {
      Sid: "WriteReplicas",
      Effect: "Allow",
      Action: ["s3:ReplicateObject", "s3:ReplicateTags"],
      Resource: pairs.map((p) => `${bucketArn(p.destination)}/*`),
    },
    {
      Sid: "DecryptSource",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: sourceKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
    },
    {
      Sid: "EncryptReplicas",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:GenerateDataKey"],
      Resource: destinationKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${drRegion}.amazonaws.com` } },
    },
  ]);
}

/**
 * A bucket's own policy: deny every request that is not over TLS 1.2 or later, and, for an access-log bucket,
 * let the S3 logging service write logs of the listed source buckets of this account (with ACLs disabled, a
 * bucket policy is the only way log delivery is granted).
 */
export function bucketPolicyDocument(
  bucket: string,
  logSources: readonly string[] = [],
  accountId = "",
): PolicyDocument {
  const arn = bucketArn(bucket);
  const statements: PolicyStatement[] = [
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [arn, `${arn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    {
      Sid: "DenyOutdatedTls",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [arn, `${arn}/*`],
      Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
    },
  ];
  if (logSources.length > 0) {
    statements.push({
      Sid: "AllowServerAccessLogDelivery",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `${arn}/*`,
      Condition: {
        ArnLike: { "aws:SourceArn": logSources.map(bucketArn) },
        StringEquals: { "aws:SourceAccount": accountId },
      },
    });
  }
  return doc(statements);
}
