/**
 * Ties each S3 bucket to its settings. In @pulumi/aws v7 versioning, encryption, lifecycle, public access block and
 * policy are separate resources whose `bucket` input is the bucket's id; the engine records that input's
 * dependency on the bucket in `propertyDependencies.bucket`, which is how a setting is linked here: never by
 * comparing names (a name typed twice links nothing when it is mistyped, and proves nothing when it matches).
 */
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { obj, type Props, str } from "./common";
import { S3 } from "./types";

export type SettingKind =
  | "versioning"
  | "encryption"
  | "lifecycle"
  | "publicAccessBlock"
  | "policy"
  | "logging"
  | "acl";

const SETTING_KINDS: readonly SettingKind[] = [
  "versioning",
  "encryption",
  "lifecycle",
  "publicAccessBlock",
  "policy",
  "logging",
  "acl",
];

const KIND_BY_TYPE = new Map<string, SettingKind>();
for (const kind of SETTING_KINDS) for (const type of S3[kind]) KIND_BY_TYPE.set(type, kind);

/** Setting types that must be linked to their bucket (also the ones checked by `s3-bucket-settings-linked`). */
export const LINKED_SETTING_TYPES: readonly string[] = [
  ...KIND_BY_TYPE.keys(),
  ...S3.ownershipControls,
  ...S3.objectLock,
  ...S3.replication,
];

const BUCKET_TYPES: ReadonlySet<string> = new Set(S3.bucket);

export function isBucket(resource: PolicyResource): boolean {
  return BUCKET_TYPES.has(resource.type);
}

export interface LinkedBucket {
  readonly bucket: PolicyResource;
  /** Setting resources linked to this bucket through propertyDependencies.bucket, by kind. */
  readonly settings: Readonly<Record<SettingKind, PolicyResource[]>>;
  /** BucketLogging resources (or buckets with inline logging) that write access logs into this bucket. */
  readonly logSources: PolicyResource[];
}

export interface BucketLinks {
  readonly buckets: LinkedBucket[];
  /** Settings whose `bucket` input links to no bucket of the stack. */
  readonly unlinked: PolicyResource[];
}

/** The buckets a property of a resource depends on. */
function linkedBuckets(resource: PolicyResource, property: string): PolicyResource[] {
  return (resource.propertyDependencies?.[property] ?? []).filter(isBucket);
}

const cache = new WeakMap<readonly PolicyResource[], BucketLinks>();

/** Every bucket of the stack with its settings; computed once per stack validation (the engine shares the list). */
export function linkBuckets(args: Pick<StackValidationArgs, "resources">): BucketLinks {
  const cached = cache.get(args.resources);
  if (cached) return cached;
  const byBucket = new Map<PolicyResource, LinkedBucket>();
  for (const resource of args.resources) {
    if (!isBucket(resource)) continue;
    const settings = Object.fromEntries(SETTING_KINDS.map((k) => [k, [] as PolicyResource[]])) as Record<
      SettingKind,
      PolicyResource[]
    >;
    byBucket.set(resource, { bucket: resource, settings, logSources: [] });
  }
  const unlinked: PolicyResource[] = [];
  const settingTypes = new Set(LINKED_SETTING_TYPES);
  for (const resource of args.resources) {
    if (!settingTypes.has(resource.type)) continue;
    const targets = linkedBuckets(resource, "bucket").filter((b) => byBucket.has(b));
    if (targets.length === 0) unlinked.push(resource);
    const kind = KIND_BY_TYPE.get(resource.type);
    if (kind !== undefined) for (const target of targets) byBucket.get(target)?.settings[kind].push(resource);
    if (kind === "logging") {
      for (const target of linkedBuckets(resource, "targetBucket")) byBucket.get(target)?.logSources.push(resource);
    }
  }
  // The deprecated inline `logging` block of a bucket links its target the same way.
  for (const linked of byBucket.values()) {
    for (const target of linkedBuckets(linked.bucket, "logging")) byBucket.get(target)?.logSources.push(linked.bucket);
  }
  const links: BucketLinks = { buckets: [...byBucket.values()], unlinked };
  cache.set(args.resources, links);
  return links;
}

/** The S3 name of a bucket, for messages: its `bucket` or `bucketPrefix` input, else the Pulumi name. */
export function bucketLabel(bucket: PolicyResource): string {
  const props = bucket.props as Props;
  let name: string | undefined;
  try {
    name = str(props.bucket) ?? str(props.bucketPrefix);
  } catch {
    name = undefined; // unknown during a preview
  }
  return name && name !== bucket.name ? `${bucket.name} (${name})` : bucket.name;
}

/** A JSON policy document from a string or an object input; undefined when it cannot be read. */
export function policyDocument(value: unknown): Props | undefined {
  if (typeof value === "string") {
    try {
      return obj(JSON.parse(value));
    } catch {
      return undefined;
    }
  }
  return obj(value);
}

/** The statements of a policy document (a single statement object or a list). */
export function statements(document: Props | undefined): Props[] {
  const statement = document?.Statement;
  const list = Array.isArray(statement) ? statement : [statement];
  return list.map(obj).filter((s): s is Props => s !== undefined);
}

/** A statement field that may be a string or a list of strings, as a list. */
export function stringList(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
}
