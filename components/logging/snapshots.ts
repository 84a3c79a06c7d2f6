/**
 * What Elasticsearch's repository-s3 does in the snapshot bucket, for the backup component's IAM policy (one list,
 * not typed twice). From Elastic's repository-s3 documentation (recommended S3 permissions). DeleteObject is
 * needed: the repository deletes superseded blobs and SLM retention deletes old snapshots; repository
 * registration also writes and deletes a test blob. Scope it to the bucket and the `elasticsearch/` prefix.
 */
export const ELASTICSEARCH_SNAPSHOT_S3_ACTIONS = {
  /** On the bucket ARN. */
  bucket: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions"],
  /** On `<bucket ARN>/elasticsearch/*`. */
  objects: [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
  ],
} as const;

/** Key prefix of the snapshots in the bucket (the repository's base_path). */
export const ELASTICSEARCH_SNAPSHOT_PREFIX = "elasticsearch";
