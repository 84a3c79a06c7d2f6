/**
 * The AWS part of the security baseline: every S3 bucket KMS-encrypted, blocked from the public, TLS-only,
 * versioned and never force-destroyed; every bucket setting linked to its bucket; no IAM policy with a wildcard
 * action. Bucket settings are separate resources in @pulumi/aws v7, so the bucket rules are stack policies.
 */
import type {
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import {
  bucketLabel,
  LINKED_SETTING_TYPES,
  type LinkedBucket,
  linkBuckets,
  policyDocument,
  statements,
  stringList,
} from "./buckets";
import { arr, configOf, obj, type Props, str, unlessUnknown, validateTypes } from "./common";
import { IAM, S3 } from "./types";

type Report = (message: string, urn?: string) => void;

/** A stack policy that checks each bucket on its own, skipping one whose values are unknown during a preview. */
function bucketPolicy(
  name: string,
  description: string,
  check: (linked: LinkedBucket, config: Props, report: (message: string) => void) => void,
  properties: Record<string, PolicyConfigJSONSchema> = {},
): StackValidationPolicy {
  const schema: PolicyConfigSchema = { properties };
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    configSchema: schema,
    validateStack: (args, reportViolation: Report) => {
      const config = configOf<Props>(args, schema);
      for (const linked of linkBuckets(args).buckets) {
        unlessUnknown(() =>
          check(linked, config, (message) =>
            reportViolation(`bucket ${bucketLabel(linked.bucket)} ${message}`, linked.bucket.urn),
          ),
        );
      }
    },
  };
}

const props = (r: PolicyResource): Props => r.props as Props;

const KMS_ALGORITHMS = new Set(["aws:kms", "aws:kms:dsse"]);

/** The default-encryption rules of a bucket: its linked configurations and the deprecated inline block. */
function encryptionDefaults(linked: LinkedBucket): Props[] {
  const rules = linked.settings.encryption.flatMap((r) => arr(props(r).rules));
  const inline = obj(props(linked.bucket).serverSideEncryptionConfiguration)?.rule;
  return [...rules, inline]
    .map((rule) => obj(obj(rule)?.applyServerSideEncryptionByDefault))
    .filter((d): d is Props => d !== undefined);
}

export const s3BucketKmsEncryption = bucketPolicy(
  "s3-bucket-kms-encryption",
  "Every S3 bucket encrypts objects by default with KMS (SSE-KMS), with a customer-managed key.",
  (linked, config, report) => {
    const defaults = encryptionDefaults(linked);
    const algorithms = defaults.map((d) => str(d.sseAlgorithm));
    // S3 server access logs can only be delivered to a bucket encrypted with SSE-S3 (AES256): AWS refuses SSE-KMS
    // there, so a log target bucket passes with AES256.
    if (linked.logSources.length > 0 && algorithms.includes("AES256")) return;
    const kms = defaults.filter((d) => KMS_ALGORITHMS.has(str(d.sseAlgorithm) ?? ""));
    if (kms.length === 0) {
      report(
        "is not encrypted with KMS: add an aws.s3.BucketServerSideEncryptionConfiguration with bucket: <bucket>.id, " +
          `sseAlgorithm "aws:kms" and the platform's KMS key${algorithms.length ? ` (found ${algorithms.join(", ")})` : ""}`,
      );
    } else if (config.requireCustomerManagedKey !== false && !kms.some((d) => Boolean(d.kmsMasterKeyId))) {
      report(
        "uses the AWS-managed S3 key: set kmsMasterKeyId to the platform's customer-managed KMS key (rotation, key policy)",
      );
    }
  },
  {
    requireCustomerManagedKey: {
      type: "boolean",
      default: true,
      description: "Require kmsMasterKeyId (a customer-managed key) rather than the aws/s3 managed key",
    },
  },
);

const PUBLIC_ACLS = new Set(["public-read", "public-read-write", "authenticated-read"]);
const PUBLIC_GRANTEES = /AllUsers|AuthenticatedUsers/;
const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3BucketPublicAccessBlock = bucketPolicy(
  "s3-bucket-public-access-block",
  "Every S3 bucket has all four public access blocks on and no public ACL.",
  (linked, _config, report) => {
    const blocks = linked.settings.publicAccessBlock.map(props);
    if (blocks.length === 0) {
      report(
        `has no public access block: add an aws.s3.BucketPublicAccessBlock with bucket: <bucket>.id and ${BLOCK_FLAGS.join(", ")} true`,
      );
    } else if (!blocks.some((b) => BLOCK_FLAGS.every((flag) => b[flag] === true))) {
      const off = BLOCK_FLAGS.filter((flag) => !blocks.some((b) => b[flag] === true));
      report(`has public access blocks off (${off.join(", ")}): set all four to true`);
    }
    const acls = [props(linked.bucket).acl, ...linked.settings.acl.map((a) => props(a).acl)].map(str);
    const publicAcl = acls.find((acl) => acl !== undefined && PUBLIC_ACLS.has(acl));
    const grants = linked.settings.acl.flatMap((a) => arr(obj(props(a).accessControlPolicy)?.grants));
    const publicGrant = grants.some((g) => PUBLIC_GRANTEES.test(str(obj(obj(g)?.grantee)?.uri) ?? ""));
    if (publicAcl !== undefined || publicGrant) {
      report(
        `grants public access through its ACL (${publicAcl ?? "AllUsers grant"}): remove it and set object ownership to BucketOwnerEnforced`,
      );
    }
  },
);

/** Whether a policy document denies every S3 action to everyone when the request is not over TLS. */
export function deniesInsecureTransport(document: Props | undefined): boolean {
  return statements(document).some((s) => {
    const principal = s.Principal;
    const everyone = principal === "*" || stringList(obj(principal)?.AWS).includes("*");
    const actions = stringList(s.Action);
    const secureTransport = obj(obj(s.Condition)?.Bool)?.["aws:SecureTransport"];
    const onlyInsecure = secureTransport === false || stringList(secureTransport).includes("false");
    return s.Effect === "Deny" && everyone && (actions.includes("s3:*") || actions.includes("*")) && onlyInsecure;
  });
}

export const s3BucketTlsOnly = bucketPolicy(
  "s3-bucket-tls-only",
  "Every S3 bucket policy denies requests that do not use TLS (aws:SecureTransport false).",
  (linked, _config, report) => {
    const documents = [props(linked.bucket).policy, ...linked.settings.policy.map((p) => props(p).policy)]
      .filter((d) => d !== undefined)
      .map(policyDocument);
    if (!documents.some(deniesInsecureTransport)) {
      report(
        'accepts plain HTTP: add an aws.s3.BucketPolicy with a statement { Effect: "Deny", Principal: "*", Action: "s3:*", ' +
          'Resource: [bucket ARN, bucket ARN/*], Condition: { Bool: { "aws:SecureTransport": "false" } } }',
      );
    }
  },
);

export const s3BucketVersioning = bucketPolicy(
  "s3-bucket-versioning",
  "Every S3 bucket has versioning enabled, so an overwritten or deleted backup can be recovered.",
  (linked, _config, report) => {
    const enabled =
      linked.settings.versioning.some((v) => str(obj(props(v).versioningConfiguration)?.status) === "Enabled") ||
      obj(props(linked.bucket).versioning)?.enabled === true;
    if (!enabled) {
      report('is not versioned: add an aws.s3.BucketVersioning with bucket: <bucket>.id and status "Enabled"');
    }
  },
);

export const s3BucketSettingsLinked: StackValidationPolicy = {
  name: "s3-bucket-settings-linked",
  description:
    "Every S3 bucket setting resource takes its bucket from the bucket resource, so policies can tie them together.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const settingTypes = new Set(LINKED_SETTING_TYPES);
    if (!args.resources.some((r) => settingTypes.has(r.type))) return;
    for (const setting of linkBuckets(args).unlinked) {
      reportViolation(
        `${setting.type.split(":").pop()} ${setting.name} is not linked to a bucket of this stack: pass bucket: <aws.s3.Bucket>.id ` +
          "(an Output), not a bucket name typed as a string",
        setting.urn,
      );
    }
  },
};

export const s3BucketNoForceDestroy: ResourceValidationPolicy = {
  name: "s3-bucket-no-force-destroy",
  description: "No S3 bucket sets forceDestroy, which would let a delete remove every backup in it.",
  enforcementLevel: "mandatory",
  validateResource: validateTypes(S3.bucket, (args, report) => {
    if ((args.props as Props).forceDestroy === true) {
      report("sets forceDestroy: remove it; a bucket holding backups must be emptied deliberately, never by a delete");
    }
  }),
};

/** Allowed actions that grant a whole service ("s3:*") or everything ("*"), and Allow statements with NotAction. */
export function wildcardActions(document: Props | undefined): string[] {
  const out: string[] = [];
  for (const s of statements(document)) {
    if (s.Effect !== "Allow") continue;
    for (const action of stringList(s.Action))
      if (action === "*" || /^[A-Za-z0-9-]+:\*$/.test(action)) out.push(action);
    if (s.NotAction !== undefined) out.push("NotAction");
  }
  return out;
}

const IAM_TYPES = [IAM.policy, IAM.rolePolicy, IAM.userPolicy, IAM.groupPolicy, IAM.role];

export const iamNoWildcardActions: ResourceValidationPolicy = {
  name: "iam-no-wildcard-actions",
  description: 'IAM policies allow named actions only: no "*", no "<service>:*", no Allow with NotAction.',
  enforcementLevel: "mandatory",
  validateResource: validateTypes(IAM_TYPES, (args, report) => {
    const p = args.props as Props;
    const documents = args.type === IAM.role ? arr(p.inlinePolicies).map((i) => obj(i)?.policy) : [p.policy];
    for (const raw of documents) {
      if (raw === undefined) continue;
      const document = policyDocument(raw);
      if (document === undefined) {
        report(
          "has a policy document that is not valid JSON: build it with JSON.stringify or aws.iam.getPolicyDocumentOutput",
        );
        continue;
      }
      const wildcards = wildcardActions(document);
      if (wildcards.length > 0) {
        report(`allows ${[...new Set(wildcards)].join(", ")}: list the actions the workload needs (least privilege)`);
      }
    }
  }),
};

export const awsSecurityPolicies = [
  s3BucketKmsEncryption,
  s3BucketPublicAccessBlock,
  s3BucketTlsOnly,
  s3BucketVersioning,
  s3BucketSettingsLinked,
  s3BucketNoForceDestroy,
  iamNoWildcardActions,
];
