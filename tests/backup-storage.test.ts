/** BackupStorage: defaults, validation, and what it sends to the engine for staging and prod. */
import type * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { BACKUP_ROLES } from "../components/backup/access";
import { BackupStorage, type BackupStorageArgs, resolveBackupStorageArgs } from "../components/backup/storage";
import { testConfig } from "./helpers/config";
import { type RecordedResource, resourcesOfType, runComponent } from "./helpers/harness";

const AWS = {
  region: "eu-west-1",
  drRegion: "eu-central-1",
  accountId: "111122223333",
  eksOidcProviderArn: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
  eksOidcIssuer: "oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
};
const MINIMAL: BackupStorageArgs = {
  bucketPrefix: "zarish-test",
  retentionDays: 30,
  noncurrentRetentionDays: 7,
  aws: AWS,
};

const T = {
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  logging: "aws:s3/bucketLogging:BucketLogging",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;

type Json = Record<string, any>;

/** The settings resource of `type` linked to `bucket` through propertyDependencies.bucket (exactly one). */
function setting(resources: RecordedResource[], bucket: RecordedResource, type: string): Json {
  const found = resourcesOfType(resources, type).filter((r) => r.propertyDependencies.bucket?.includes(bucket.urn));
  if (found.length !== 1) throw new Error(`${bucket.name}: ${found.length} ${type}`);
  return found[0].inputs as Json;
}
const linked = (resources: RecordedResource[], bucket: RecordedResource, type: string) =>
  resourcesOfType(resources, type).filter((r) => r.propertyDependencies.bucket?.includes(bucket.urn));

const value = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

function prodArgs(): BackupStorageArgs {
  const config = testConfig("prod");
  return {
    bucketPrefix: config.backup.bucketPrefix,
    retentionDays: config.backup.retentionDays,
    noncurrentRetentionDays: config.backup.noncurrentRetentionDays,
    objectLock: config.backup.objectLock,
    replication: config.backup.replication,
    aws: config.aws,
    protect: true,
  };
}

test("defaults are pinned", (t) => {
  const r = resolveBackupStorageArgs(MINIMAL);
  t.like(r, {
    replication: false,
    objectLock: undefined,
    namespace: "backup",
    elasticsearch: { namespace: "logging", serviceAccount: "elasticsearch" },
    accessLogRetentionDays: 30,
    kmsDeletionWindowDays: 30,
    protect: false,
  });
  t.deepEqual(r.buckets, {
    database: "zarish-test-database",
    kubernetes: "zarish-test-kubernetes",
    elasticsearch: "zarish-test-elasticsearch",
    accessLogs: "zarish-test-access-logs",
  });
  t.is(r.replicaBuckets.elasticsearch, "zarish-test-elasticsearch-dr");
});

const invalid: [string, Partial<BackupStorageArgs>, RegExp][] = [
  ["bucket prefix", { bucketPrefix: "Zarish_Backups" }, /bucketPrefix must be lower-case .* \(got "Zarish_Backups"\)/],
  ["bucket prefix length", { bucketPrefix: "a".repeat(47) }, /at most 46 characters/],
  ["retention", { retentionDays: 7 }, /retentionDays must be a whole number >= 30 \(got 7\)/],
  ["noncurrent", { noncurrentRetentionDays: 0 }, /noncurrentRetentionDays must be a whole number >= 1 \(got 0\)/],
  ["access logs", { accessLogRetentionDays: 10 }, /accessLogRetentionDays must be a whole number >= 30 \(got 10\)/],
  [
    "lock mode",
    { objectLock: { mode: "STRICT" as never, days: 30 } },
    /objectLock.mode must be GOVERNANCE or COMPLIANCE \(got "STRICT"\)/,
  ],
  [
    "lock days",
    { objectLock: { mode: "COMPLIANCE", days: 0 } },
    /objectLock.days must be a whole number >= 1 \(got 0\)/,
  ],
  [
    "dr region",
    { replication: true, aws: { ...AWS, drRegion: AWS.region } },
    /replication needs aws.drRegion to differ from aws.region \(both "eu-west-1"\)/,
  ],
  ["kms window", { kmsDeletionWindowDays: 3 }, /kmsDeletionWindowDays must be 7..30 \(got 3\)/],
  ["account", { aws: { ...AWS, accountId: "12" } }, /aws.accountId must be 12 digits \(got "12"\)/],
  [
    "oidc provider",
    { aws: { ...AWS, eksOidcProviderArn: "arn:aws:iam::999999999999:oidc-provider/x" } },
    /eksOidcProviderArn must be an OIDC provider of account 111122223333/,
  ],
  ["namespace", { namespace: "Backup" }, /namespace must be a DNS-1123 label \(got "Backup"\)/],
  [
    "elasticsearch account",
    { elasticsearch: { serviceAccount: "es_snapshots" } },
    /elasticsearch.serviceAccount must be a DNS-1123 label/,
  ],
];
for (const [name, change, message] of invalid) {
  test(`validation: ${name}`, (t) => {
    const error = t.throws(() => resolveBackupStorageArgs({ ...MINIMAL, ...change }));
    t.regex(error.message, message);
  });
}

test("validation reports every problem at once", (t) => {
  const error = t.throws(() => resolveBackupStorageArgs({ ...MINIMAL, retentionDays: 1, noncurrentRetentionDays: 0 }));
  t.regex(error.message, /retentionDays .*; noncurrentRetentionDays/);
});

test("prod: every bucket versioned, KMS-encrypted, private, TLS-only, logged, with lifecycle, Object Lock and protection", async (t) => {
  const args = prodArgs();
  const resources = await runComponent(() => new BackupStorage("bs-prod", args));
  const buckets = resourcesOfType(resources, T.bucket);
  t.is(buckets.length, 8, "database, kubernetes, elasticsearch, access logs; and their DR replicas");
  const prefix = args.bucketPrefix;
  for (const bucket of buckets) {
    const name = bucket.inputs.bucket as string;
    const isLogs = name.includes("-access-logs");
    const isDr = name.endsWith("-dr");
    t.true(name.startsWith(`${prefix}-`), name);
    t.false(bucket.inputs.forceDestroy as boolean, name);
    t.true(bucket.protect, `${name} protected`);
    t.is(bucket.inputs.region, isDr ? args.aws.drRegion : undefined, name);

    t.deepEqual(setting(resources, bucket, T.versioning).versioningConfiguration, { status: "Enabled" }, name);
    const sse = setting(resources, bucket, T.encryption).rules[0];
    if (isLogs) {
      t.deepEqual(
        sse,
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        `${name}: S3 logs need SSE-S3`,
      );
    } else {
      t.is(sse.applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms", name);
      t.regex(sse.applyServerSideEncryptionByDefault.kmsMasterKeyId, /^arn:aws:kms:/, name);
      t.true(sse.bucketKeyEnabled, name);
    }
    t.like(setting(resources, bucket, T.publicAccessBlock), {
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    t.deepEqual(setting(resources, bucket, T.ownership).rule, { objectOwnership: "BucketOwnerEnforced" }, name);
    const policy = JSON.parse(setting(resources, bucket, T.policy).policy) as Json;
    t.true(
      policy.Statement.some(
        (s: Json) =>
          s.Effect === "Deny" &&
          s.Principal === "*" &&
          s.Action === "s3:*" &&
          s.Condition?.Bool?.["aws:SecureTransport"] === "false" &&
          s.Resource.includes(`arn:aws:s3:::${name}/*`),
      ),
      `${name}: TLS only`,
    );
    const [rule] = setting(resources, bucket, T.lifecycle).rules as Json[];
    t.is(rule.status, "Enabled");
    t.deepEqual(rule.abortIncompleteMultipartUpload, { daysAfterInitiation: 7 }, name);
    t.deepEqual(rule.noncurrentVersionExpiration, { noncurrentDays: args.noncurrentRetentionDays }, name);
    if (name.includes("-elasticsearch")) {
      t.is(rule.expiration, undefined, `${name}: snapshot retention is Elasticsearch's (shared blobs)`);
      t.is(bucket.inputs.tags && (bucket.inputs.tags as Json)["zarish.health/backup"], "false");
    } else {
      t.deepEqual(rule.expiration, { days: args.retentionDays }, name);
    }
    if (isLogs) {
      t.is(linked(resources, bucket, T.logging).length, 0, `${name} does not log into itself`);
      t.false(bucket.inputs.objectLockEnabled as boolean, `${name}: log delivery refuses default retention`);
      t.is(linked(resources, bucket, T.objectLock).length, 0);
    } else {
      const logging = resourcesOfType(resources, T.logging).find((r) =>
        r.propertyDependencies.bucket?.includes(bucket.urn),
      );
      t.truthy(logging, name);
      const target = buckets.find((b) => logging?.propertyDependencies.targetBucket?.includes(b.urn));
      t.is(
        target?.inputs.bucket,
        `${prefix}-access-logs${isDr ? "-dr" : ""}`,
        `${name}: logs to its region's log bucket`,
      );
      t.is(logging?.inputs.targetPrefix, `${name}/`);
      t.true(bucket.inputs.objectLockEnabled as boolean, name);
      t.deepEqual(setting(resources, bucket, T.objectLock).rule, {
        defaultRetention: { mode: args.objectLock?.mode, days: args.objectLock?.days },
      });
    }
  }
  // The log buckets accept log delivery only for their own region's backup buckets, from this account.
  const logBucket = buckets.find((b) => b.inputs.bucket === `${prefix}-access-logs`);
  const logPolicy = JSON.parse(setting(resources, logBucket!, T.policy).policy) as Json;
  const delivery = logPolicy.Statement.find((s: Json) => s.Sid === "AllowServerAccessLogDelivery");
  t.deepEqual(delivery.Principal, { Service: "logging.s3.amazonaws.com" });
  t.deepEqual(delivery.Condition.ArnLike["aws:SourceArn"], [
    `arn:aws:s3:::${prefix}-database`,
    `arn:aws:s3:::${prefix}-kubernetes`,
    `arn:aws:s3:::${prefix}-elasticsearch`,
  ]);
  t.is(delivery.Condition.StringEquals["aws:SourceAccount"], args.aws.accountId);

  const keys = resourcesOfType(resources, T.key);
  t.is(keys.length, 2);
  for (const key of keys) {
    t.true(key.inputs.enableKeyRotation as boolean);
    t.is(key.inputs.deletionWindowInDays, 30);
    t.true(key.protect);
  }
  t.deepEqual(
    resourcesOfType(resources, T.alias)
      .map((a) => a.inputs.name)
      .sort(),
    [`alias/${prefix}`, `alias/${prefix}-dr`],
  );
});

test("prod: every backup bucket replicates to its DR twin, deletions excluded, re-encrypted with the DR key", async (t) => {
  const args = prodArgs();
  const resources = await runComponent(() => new BackupStorage("bs-repl", args));
  const buckets = resourcesOfType(resources, T.bucket);
  const byName = (n: string) => buckets.find((b) => b.inputs.bucket === n)!;
  const configs = resourcesOfType(resources, T.replication);
  t.is(configs.length, 3);
  for (const k of ["database", "kubernetes", "elasticsearch"]) {
    const source = byName(`${args.bucketPrefix}-${k}`);
    const replica = byName(`${args.bucketPrefix}-${k}-dr`);
    const config = configs.find((c) => c.propertyDependencies.bucket?.includes(source.urn));
    t.truthy(config, k);
    const [rule] = (config?.inputs.rules ?? []) as Json[];
    t.like(rule, {
      status: "Enabled",
      deleteMarkerReplication: { status: "Disabled" },
      sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
      destination: { bucket: `arn:aws:s3:::${args.bucketPrefix}-${k}-dr` },
    });
    t.regex(rule.destination.encryptionConfiguration.replicaKmsKeyId, /^arn:aws:kms:/);
    t.true(
      config?.dependencies.some((d) => d.includes("-versioning")),
      `${k}: after versioning`,
    );
    t.true(replica.inputs.region === args.aws.drRegion);
  }
  const replicationRole = resourcesOfType(resources, T.role).find((r) => r.name === "bs-repl-replication");
  const trust = JSON.parse(replicationRole?.inputs.assumeRolePolicy as string) as Json;
  t.deepEqual(trust.Statement[0].Principal, { Service: "s3.amazonaws.com" });
  const policy = JSON.parse(
    resourcesOfType(resources, T.rolePolicy).find((r) => r.name === "bs-repl-replication-policy")?.inputs
      .policy as string,
  ) as Json;
  const actions = policy.Statement.flatMap((s: Json) => s.Action) as string[];
  t.false(
    actions.some((a) => /Delete/.test(a)),
    "no replicated deletes",
  );
  t.true(actions.includes("s3:GetObjectRetention"), "Object Lock retention travels with the replica");
});

test("IAM: one IRSA role per backup ServiceAccount, least privilege, no delete and no wildcard", async (t) => {
  const args = prodArgs();
  let storage: BackupStorage | undefined;
  const resources = await runComponent(() => {
    storage = new BackupStorage("bs-iam", args);
  });
  const roles = resourcesOfType(resources, T.role);
  const policies = resourcesOfType(resources, T.rolePolicy);
  const issuer = args.aws.eksOidcIssuer;
  const documentOf = (role: string) =>
    JSON.parse(policies.find((p) => p.name === `bs-iam-${role}-policy`)?.inputs.policy as string) as Json;

  for (const [role, namespace, sa] of [
    ...BACKUP_ROLES.map((r) => [r, "backup", r]),
    ["elasticsearch-snapshots", "logging", "elasticsearch"],
  ]) {
    const trust = JSON.parse(roles.find((r) => r.name === `bs-iam-${role}`)?.inputs.assumeRolePolicy as string) as Json;
    t.deepEqual(trust.Statement, [
      {
        Effect: "Allow",
        Principal: { Federated: args.aws.eksOidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${sa}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ]);
  }
  for (const policy of policies) {
    const document = JSON.parse(policy.inputs.policy as string) as Json;
    for (const statement of document.Statement as Json[]) {
      t.is(statement.Effect, "Allow", policy.name);
      for (const action of [statement.Action].flat() as string[]) {
        t.notRegex(action, /\*/, `${policy.name}: ${action}`);
        if (/Delete/.test(action)) {
          t.is(
            policy.name,
            "bs-iam-elasticsearch-snapshots-policy",
            `only Elasticsearch manages deletions (${action})`,
          );
          t.deepEqual(statement.Resource, `arn:aws:s3:::${args.bucketPrefix}-elasticsearch/elasticsearch/*`);
          // A plain delete only adds a delete marker in a versioned bucket; erasing a version needs
          // s3:DeleteObjectVersion, which no role has, so every deleted snapshot file stays recoverable.
          t.is(action, "s3:DeleteObject", `${policy.name}: ${action}`);
        }
      }
      for (const resource of [statement.Resource].flat() as string[]) t.not(resource, "*", policy.name);
    }
  }
  const db = `arn:aws:s3:::${args.bucketPrefix}-database`;
  t.deepEqual(documentOf("database-backup").Statement[0], {
    Sid: "WriteOwnPrefix",
    Effect: "Allow",
    Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
    Resource: [`${db}/database/*`],
  });
  t.deepEqual(
    documentOf("database-backup").Statement.map((s: Json) => s.Sid),
    ["WriteOwnPrefix", "UseBackupKeyThroughS3"],
    "the backup job can neither read nor list",
  );
  t.deepEqual(documentOf("restore-verification").Statement[1], {
    Sid: "ListDatabase",
    Effect: "Allow",
    Action: ["s3:ListBucket"],
    Resource: db,
    Condition: { StringLike: { "s3:prefix": ["database/", "database/*"] } },
  });
  t.deepEqual(documentOf("restore-verification").Statement[2].Action, ["kms:Decrypt"]);
  t.deepEqual(documentOf("kubernetes-backup").Statement[0].Resource, [
    `arn:aws:s3:::${args.bucketPrefix}-kubernetes/kubernetes/*`,
  ]);
  t.is(
    documentOf("database-backup").Statement[1].Condition.StringEquals["kms:ViaService"],
    `s3.${args.aws.region}.amazonaws.com`,
  );

  const snapshots = storage!.elasticsearchSnapshots;
  t.is(await value(snapshots.bucket), `${args.bucketPrefix}-elasticsearch`);
  t.regex(await value(snapshots.roleArn), /^arn:aws:iam::/);
  t.is(snapshots.region, args.aws.region);
  t.deepEqual(Object.keys(storage!.roleArns).sort(), [...BACKUP_ROLES].sort());
});

test("staging: no replication, no Object Lock, not protected", async (t) => {
  const config = testConfig("staging");
  const resources = await runComponent(
    () =>
      new BackupStorage("bs-staging", {
        bucketPrefix: config.backup.bucketPrefix,
        retentionDays: config.backup.retentionDays,
        noncurrentRetentionDays: config.backup.noncurrentRetentionDays,
        objectLock: config.backup.objectLock,
        replication: config.backup.replication,
        aws: config.aws,
      }),
  );
  const buckets = resourcesOfType(resources, T.bucket);
  t.deepEqual(buckets.map((b) => b.inputs.bucket).sort(), [
    "zarishsphere-backups-staging-access-logs",
    "zarishsphere-backups-staging-database",
    "zarishsphere-backups-staging-elasticsearch",
    "zarishsphere-backups-staging-kubernetes",
  ]);
  t.true(buckets.every((b) => !b.protect && b.inputs.objectLockEnabled === false));
  t.is(resourcesOfType(resources, T.replication).length, 0);
  t.is(resourcesOfType(resources, T.objectLock).length, 0);
  t.is(resourcesOfType(resources, T.key).length, 1);
});
