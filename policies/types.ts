/**
 * Pulumi type tokens the pack checks. Policies compare `args.type` with these strings instead of importing
 * `@pulumi/kubernetes` and `@pulumi/aws` (loading those SDKs would cost the analyzer seconds at start-up);
 * tests/policy-types.test.ts proves every token equals the SDK class's `__pulumiType`.
 */

/** `kubernetes:<group>/<version>:<Kind>`, with the core group spelled "core" as the Kubernetes provider does. */
export function kubernetesType(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

/** The Kind of a Kubernetes type token ("kubernetes:apps/v1:Deployment" gives "Deployment"), else undefined. */
export function kubernetesKind(type: string): string | undefined {
  if (!type.startsWith("kubernetes:")) return undefined;
  const colon = type.lastIndexOf(":");
  return colon > "kubernetes:".length ? type.slice(colon + 1) : undefined;
}

export function isKubernetesType(type: string): boolean {
  return type.startsWith("kubernetes:");
}

/** Every served version of each workload kind the pack inspects (old API versions too: a manifest may use them). */
export const WORKLOAD_TYPES = {
  Pod: ["kubernetes:core/v1:Pod"],
  ReplicationController: ["kubernetes:core/v1:ReplicationController"],
  Deployment: [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1beta1:Deployment",
    "kubernetes:apps/v1beta2:Deployment",
    "kubernetes:extensions/v1beta1:Deployment",
  ],
  StatefulSet: [
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1beta1:StatefulSet",
    "kubernetes:apps/v1beta2:StatefulSet",
  ],
  DaemonSet: [
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1beta2:DaemonSet",
    "kubernetes:extensions/v1beta1:DaemonSet",
  ],
  ReplicaSet: [
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:apps/v1beta2:ReplicaSet",
    "kubernetes:extensions/v1beta1:ReplicaSet",
  ],
  Job: ["kubernetes:batch/v1:Job"],
  CronJob: ["kubernetes:batch/v1:CronJob", "kubernetes:batch/v1beta1:CronJob", "kubernetes:batch/v2alpha1:CronJob"],
} as const;

export type WorkloadKind = keyof typeof WORKLOAD_TYPES;

export const ALL_WORKLOAD_TYPES: readonly string[] = Object.values(WORKLOAD_TYPES).flat();

export const K8S = {
  namespace: "kubernetes:core/v1:Namespace",
  service: "kubernetes:core/v1:Service",
  configMap: "kubernetes:core/v1:ConfigMap",
  networkPolicy: ["kubernetes:networking.k8s.io/v1:NetworkPolicy", "kubernetes:extensions/v1beta1:NetworkPolicy"],
  podDisruptionBudget: ["kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudget"],
  statefulSet: WORKLOAD_TYPES.StatefulSet,
} as const;

/**
 * AWS S3 in @pulumi/aws v7: the bucket and its settings are separate resources (the deprecated *V2 names are still
 * served, so both spellings count).
 */
export const S3 = {
  bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  lifecycle: [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  policy: ["aws:s3/bucketPolicy:BucketPolicy"],
  logging: ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"],
  acl: ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"],
  ownershipControls: ["aws:s3/bucketOwnershipControls:BucketOwnershipControls"],
  objectLock: [
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
  ],
  replication: ["aws:s3/bucketReplicationConfig:BucketReplicationConfig"],
} as const;

/** IAM resources that carry a policy document: the managed policy, the inline ones, and the role's inline list. */
export const IAM = {
  policy: "aws:iam/policy:Policy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  groupPolicy: "aws:iam/groupPolicy:GroupPolicy",
  role: "aws:iam/role:Role",
} as const;
