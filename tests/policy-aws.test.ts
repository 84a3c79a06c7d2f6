import test from "ava";
import type { PlanResource } from "../tools/lib/policy-engine";
import { awsResource, evaluate, type Json, mandatoryPolicies, of } from "./helpers/policy";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/backups";
const TLS_ONLY = (bucket: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });

type Setting = "versioning" | "encryption" | "publicAccessBlock" | "policy" | "lifecycle";

/** A bucket with every setting the baseline asks for, each linked through propertyDependencies.bucket; `change` edits them. */
function bucketSet(
  name: string,
  change: Partial<Record<Setting, Json | null>> & { bucket?: Json } = {},
): PlanResource[] {
  const bucket = awsResource("aws:s3/bucket:Bucket", name, { bucket: name, ...change.bucket });
  const settings: Record<Setting, [string, Json]> = {
    versioning: ["aws:s3/bucketVersioning:BucketVersioning", { versioningConfiguration: { status: "Enabled" } }],
    encryption: [
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      {
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY },
            bucketKeyEnabled: true,
          },
        ],
      },
    ],
    publicAccessBlock: [
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    ],
    policy: ["aws:s3/bucketPolicy:BucketPolicy", { policy: TLS_ONLY(name) }],
    lifecycle: [
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      { rules: [{ id: "expire", status: "Enabled", expiration: { days: 30 } }] },
    ],
  };
  const out = [bucket];
  for (const [key, [type, inputs]] of Object.entries(settings) as [Setting, [string, Json]][]) {
    const override = change[key];
    if (override === null) continue;
    out.push(
      awsResource(type, `${name}-${key}`, { bucket: `${name}-id`, ...inputs, ...override }, { bucketOf: bucket }),
    );
  }
  return out;
}

test("a bucket with every setting linked passes every policy", (t) => {
  t.deepEqual(evaluate(bucketSet("db-backups")), []);
});

test("s3-bucket-kms-encryption: no encryption, SSE-S3, or the AWS-managed key are refused", (t) => {
  t.regex(
    of(evaluate(bucketSet("enc-none", { encryption: null })), "s3-bucket-kms-encryption")[0]?.message ?? "",
    /^bucket enc-none is not encrypted with KMS/,
  );
  const aes = of(
    evaluate(
      bucketSet("enc-aes", {
        encryption: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      }),
    ),
    "s3-bucket-kms-encryption",
  );
  t.regex(aes[0]?.message ?? "", /\(found AES256\)$/);
  const managed = evaluate(
    bucketSet("enc-managed", {
      encryption: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] },
    }),
  );
  t.regex(of(managed, "s3-bucket-kms-encryption")[0]?.message ?? "", /uses the AWS-managed S3 key/);
  const config = { "s3-bucket-kms-encryption": { requireCustomerManagedKey: false } };
  t.deepEqual(
    of(
      evaluate(
        bucketSet("enc-managed-ok", {
          encryption: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] },
        }),
        { config },
      ),
      "s3-bucket-kms-encryption",
    ),
    [],
  );
});

test("s3-bucket-kms-encryption: an access-log target bucket may use SSE-S3, as S3 requires", (t) => {
  const logs = bucketSet("access-logs", {
    encryption: { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
  });
  const source = bucketSet("db-backups-logged");
  const logging = awsResource(
    "aws:s3/bucketLogging:BucketLogging",
    "db-backups-logging",
    { bucket: "x", targetBucket: "y", targetPrefix: "db/" },
    {
      bucketOf: source[0],
      targetBucket: logs[0],
    },
  );
  t.deepEqual(evaluate([...logs, ...source, logging]), []);
  // Without the logging link, the same AES256 bucket is refused.
  t.is(of(evaluate(logs), "s3-bucket-kms-encryption").length, 1);
});

test("s3-bucket-public-access-block: a missing block, a block with a flag off, or a public ACL are refused", (t) => {
  t.regex(
    of(evaluate(bucketSet("pab-none", { publicAccessBlock: null })), "s3-bucket-public-access-block")[0]?.message ?? "",
    /has no public access block/,
  );
  const off = of(
    evaluate(bucketSet("pab-off", { publicAccessBlock: { restrictPublicBuckets: false } })),
    "s3-bucket-public-access-block",
  );
  t.deepEqual(
    off.map((v) => v.message),
    ["bucket pab-off has public access blocks off (restrictPublicBuckets): set all four to true"],
  );
  const acl = of(evaluate(bucketSet("pab-acl", { bucket: { acl: "public-read" } })), "s3-bucket-public-access-block");
  t.regex(acl[0]?.message ?? "", /grants public access through its ACL \(public-read\)/);
  const set = bucketSet("pab-grant");
  const grant = awsResource(
    "aws:s3/bucketAcl:BucketAcl",
    "pab-grant-acl",
    {
      bucket: "x",
      accessControlPolicy: {
        owner: { id: "o" },
        grants: [
          { permission: "READ", grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" } },
        ],
      },
    },
    { bucketOf: set[0] },
  );
  t.regex(of(evaluate([...set, grant]), "s3-bucket-public-access-block")[0]?.message ?? "", /AllUsers grant/);
});

test("s3-bucket-tls-only: no policy, or a policy without the SecureTransport deny, is refused; an object document is read", (t) => {
  t.regex(
    of(evaluate(bucketSet("tls-none", { policy: null })), "s3-bucket-tls-only")[0]?.message ?? "",
    /^bucket tls-none accepts plain HTTP/,
  );
  const allow = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::1:root" }, Action: "s3:GetObject", Resource: "*" }],
  });
  t.is(of(evaluate(bucketSet("tls-other", { policy: { policy: allow } })), "s3-bucket-tls-only").length, 1);
  const wrongCondition = TLS_ONLY("tls-cond").replace('"false"', '"true"');
  t.is(of(evaluate(bucketSet("tls-cond", { policy: { policy: wrongCondition } })), "s3-bucket-tls-only").length, 1);
  t.is(of(evaluate(bucketSet("tls-garbage", { policy: { policy: "{not json" } })), "s3-bucket-tls-only").length, 1);
  const asObject = { policy: JSON.parse(TLS_ONLY("tls-object")) };
  asObject.policy.Statement[0].Principal = { AWS: ["*"] };
  asObject.policy.Statement[0].Condition.Bool["aws:SecureTransport"] = false;
  t.deepEqual(of(evaluate(bucketSet("tls-object", { policy: asObject })), "s3-bucket-tls-only"), []);
});

test("s3-bucket-versioning: missing or suspended versioning is refused; the inline block counts", (t) => {
  t.regex(
    of(evaluate(bucketSet("ver-none", { versioning: null })), "s3-bucket-versioning")[0]?.message ?? "",
    /^bucket ver-none is not versioned/,
  );
  t.is(
    of(
      evaluate(bucketSet("ver-suspended", { versioning: { versioningConfiguration: { status: "Suspended" } } })),
      "s3-bucket-versioning",
    ).length,
    1,
  );
  t.deepEqual(
    of(
      evaluate(bucketSet("ver-inline", { versioning: null, bucket: { versioning: { enabled: true } } })),
      "s3-bucket-versioning",
    ),
    [],
  );
});

test("s3-bucket-no-force-destroy: forceDestroy is refused; the deprecated BucketV2 is checked the same", (t) => {
  const v = evaluate(bucketSet("fd", { bucket: { forceDestroy: true } }));
  t.deepEqual(mandatoryPolicies(v), ["s3-bucket-no-force-destroy"]);
  t.is(
    v[0].message,
    "sets forceDestroy: remove it; a bucket holding backups must be emptied deliberately, never by a delete",
  );
  const v2 = evaluate([awsResource("aws:s3/bucketV2:BucketV2", "fd-v2", { forceDestroy: true })]);
  t.true(mandatoryPolicies(v2).includes("s3-bucket-no-force-destroy"));
});

test("s3-bucket-settings-linked: a setting whose bucket is a typed name is refused, and the bucket loses that setting", (t) => {
  const set = bucketSet("linked", { versioning: null });
  const unlinked = awsResource("aws:s3/bucketVersioning:BucketVersioning", "linked-versioning-by-name", {
    bucket: "linked",
    versioningConfiguration: { status: "Enabled" },
  });
  const v = evaluate([...set, unlinked]);
  t.deepEqual(mandatoryPolicies(v), ["s3-bucket-settings-linked", "s3-bucket-versioning"]);
  t.deepEqual(
    of(v, "s3-bucket-settings-linked").map((x) => [x.urn, x.message]),
    [
      [
        unlinked.urn,
        "BucketVersioning linked-versioning-by-name is not linked to a bucket of this stack: pass bucket: <aws.s3.Bucket>.id (an Output), not a bucket name typed as a string",
      ],
    ],
  );
});

// ---------------------------------------------------------------------------------------------------------------
// IAM

const doc = (...statements: Json[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

for (const type of [
  "aws:iam/policy:Policy",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/groupPolicy:GroupPolicy",
]) {
  const short = type.split(":").pop();
  test(`iam-no-wildcard-actions: a ${short} with named actions passes; "*" and "s3:*" are refused`, (t) => {
    const ok = awsResource(type, `${short}-ok`, {
      policy: doc({ Effect: "Allow", Action: ["s3:PutObject", "s3:Get*"], Resource: "arn:aws:s3:::b/*" }),
    });
    t.deepEqual(evaluate([ok]), []);
    const star = awsResource(type, `${short}-star`, { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) });
    t.deepEqual(
      evaluate([star]).map((v) => v.message),
      ["allows *: list the actions the workload needs (least privilege)"],
    );
    const service = awsResource(type, `${short}-svc`, {
      policy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "kms:*"], Resource: "*" }],
      },
    });
    t.deepEqual(
      evaluate([service]).map((v) => v.message),
      ["allows kms:*: list the actions the workload needs (least privilege)"],
    );
  });
}

test("iam-no-wildcard-actions: Allow with NotAction is refused; Deny statements may use wildcards", (t) => {
  const notAction = awsResource("aws:iam/policy:Policy", "iam-notaction", {
    policy: doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }),
  });
  t.deepEqual(
    evaluate([notAction]).map((v) => v.message),
    ["allows NotAction: list the actions the workload needs (least privilege)"],
  );
  const deny = awsResource("aws:iam/policy:Policy", "iam-deny", {
    policy: doc(
      { Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
      { Effect: "Deny", Action: "s3:*", Resource: "*" },
    ),
  });
  t.deepEqual(evaluate([deny]), []);
});

test("iam-no-wildcard-actions: a role's inline policies are checked; an unreadable document is refused", (t) => {
  const role = awsResource("aws:iam/role:Role", "iam-role", {
    assumeRolePolicy: doc({
      Effect: "Allow",
      Action: "sts:AssumeRoleWithWebIdentity",
      Principal: { Federated: "arn" },
    }),
    inlinePolicies: [{ name: "backup", policy: doc({ Effect: "Allow", Action: "s3:*", Resource: "*" }) }],
  });
  t.deepEqual(
    evaluate([role]).map((v) => v.message),
    ["allows s3:*: list the actions the workload needs (least privilege)"],
  );
  const garbage = awsResource("aws:iam/policy:Policy", "iam-garbage", { policy: "{" });
  t.regex(evaluate([garbage])[0]?.message ?? "", /not valid JSON/);
});
