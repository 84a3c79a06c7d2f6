import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ObjectLockMode } from "../../config/types";
import { bucketPolicyDocument } from "./access";

/** Days after which an unfinished multipart upload is aborted (its parts cost storage and hold no backup). */
export const ABORT_MULTIPART_DAYS = 7;

export interface SecureBucketArgs {
  /** The S3 bucket name (globally unique). */
  readonly bucketName: string;
  /** Region of the bucket. Default: the AWS provider's region. */
  readonly region?: string;
  /**
   * KMS key for default encryption (SSE-KMS, bucket keys on). undefined means SSE-S3, allowed only for an
   * access-log bucket: S3 cannot deliver server access logs into an SSE-KMS bucket.
   */
  readonly kmsKeyArn: pulumi.Input<string> | undefined;
  /** Days current objects are kept before they expire; undefined: never expire (the owner deletes). */
  readonly expireDays: number | undefined;
  /** Days superseded (noncurrent) versions are kept. */
  readonly noncurrentDays: number;
  /** Where this bucket's server access logs go; undefined only for an access-log bucket itself. */
  readonly accessLogs: { readonly bucket: pulumi.Input<string>; readonly prefix: string } | undefined;
  /** Names of the buckets whose access logs this bucket receives. Default: none. */
  readonly logSources?: readonly string[];
  /** The account that owns the log sources (log delivery condition). */
  readonly accountId: string;
  /** Object Lock default retention; undefined: no Object Lock. Can only be chosen when the bucket is created. */
  readonly objectLock: { readonly mode: ObjectLockMode; readonly days: number } | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /** Protect the bucket and its settings from `pulumi destroy` and replacement. */
  readonly protect: boolean;
}

/**
 * One S3 bucket with every setting the platform requires, as the separate @pulumi/aws v7 resources (each takes
 * `bucket: <bucket>.id`, which links it to the bucket for the policy pack): versioning, default encryption,
 * all four public access blocks, ACLs disabled (BucketOwnerEnforced), a TLS-only bucket policy, lifecycle
 * rules, server access logging and, when asked, Object Lock. `forceDestroy` is never set: a bucket of backups is
 * emptied deliberately or not at all.
 */
export class SecureBucket extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  /** The bucket name. */
  public readonly name: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  /** Versioning: replication and Object Lock need it in place first. */
  public readonly versioning: aws.s3.BucketVersioning;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:backup:SecureBucket", name, {}, opts);
    const child = { parent: this, protect: args.protect };
    const region = args.region === undefined ? {} : { region: args.region };

    this.bucket = new aws.s3.Bucket(
      name,
      {
        bucket: args.bucketName,
        ...region,
        forceDestroy: false,
        objectLockEnabled: args.objectLock !== undefined,
        tags: { ...args.tags },
      },
      child,
    );
    const bucket = this.bucket.id;
    this.name = this.bucket.bucket;
    this.arn = this.bucket.arn;

    this.versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, ...region, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket,
        ...region,
        rules: [
          args.kmsKeyArn === undefined
            ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }
            : {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
                // One data key per bucket rather than per object: far fewer KMS calls (cost, throttling).
                bucketKeyEnabled: true,
              },
        ],
      },
      child,
    );
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access-block`,
      {
        bucket,
        ...region,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, ...region, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket,
        ...region,
        policy: JSON.stringify(bucketPolicyDocument(args.bucketName, args.logSources ?? [], args.accountId)),
      },
      // S3 rejects a policy change while the public access block is being applied.
      { ...child, dependsOn: [publicAccessBlock] },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket,
        ...region,
        rules: [
          {
            id: args.expireDays === undefined ? "expire-superseded-versions" : "expire-backups",
            status: "Enabled",
            filter: { prefix: "" },
            ...(args.expireDays === undefined ? {} : { expiration: { days: args.expireDays } }),
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
          },
        ],
      },
      // Lifecycle rules on a versioned bucket act on versions: apply them once versioning is on.
      { ...child, dependsOn: [this.versioning] },
    );
    if (args.accessLogs !== undefined) {
      new aws.s3.BucketLogging(
        `${name}-logging`,
        { bucket, ...region, targetBucket: args.accessLogs.bucket, targetPrefix: args.accessLogs.prefix },
        child,
      );
    }
    if (args.objectLock !== undefined) {
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        {
          bucket,
          ...region,
          objectLockEnabled: "Enabled",
          rule: { defaultRetention: { mode: args.objectLock.mode, days: args.objectLock.days } },
        },
        { ...child, dependsOn: [this.versioning] },
      );
    }
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
