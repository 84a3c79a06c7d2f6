import test from "ava";
import { ConfigError, readStackValues } from "../config";
import { testConfig } from "./helpers/config";
import { runProgram } from "./helpers/harness";

const P = "zarish-sphere-ops";

/** Runs the program with one config change and asserts it fails with `expected` before any resource is registered. */
async function rejects(
  t: import("ava").ExecutionContext,
  stack: "staging" | "prod",
  overrides: Record<string, string | undefined>,
  expected: string | RegExp,
) {
  const error = await t.throwsAsync(runProgram(stack, overrides));
  t.is(error?.name, "ConfigError");
  t.deepEqual((error as { recordedResources?: unknown[] }).recordedResources, [], "no resource may be registered");
  if (typeof expected === "string") t.true(error!.message.includes(expected), `message was: ${error!.message}`);
  else t.regex(error!.message, expected);
}

/** A section of the stack file with one nested value replaced. */
function patched(stack: "staging" | "prod", section: string, mutate: (o: any) => void): Record<string, string> {
  const o = JSON.parse(readStackValues(stack)![`${P}:${section}`]);
  mutate(o);
  return { [`${P}:${section}`]: JSON.stringify(o) };
}

test("both committed stacks are valid and frozen", (t) => {
  for (const stack of ["staging", "prod"] as const) {
    const c = testConfig(stack);
    t.is(c.environment, stack);
    t.true(Object.isFrozen(c) && Object.isFrozen(c.logging.elasticsearch));
  }
});

test("prod pins its environment rules", (t) => {
  const c = testConfig("prod");
  t.is(c.logging.elasticsearch.replicas, 3);
  t.is(c.logging.elasticsearch.storageSize, "100Gi");
  t.is(c.logging.elasticsearch.heapSize, "2g");
  t.true(c.logging.auditRetentionDays >= 2192);
  t.is(c.security.acme.server, "production");
  t.deepEqual(c.backup.objectLock, { mode: "COMPLIANCE", days: 35 });
  t.true(c.backup.replication);
  t.is(c.aws.accountId, "111122223333");
  t.regex(c.aws.eksOidcIssuer, /^oidc\.eks\.us-east-1\.amazonaws\.com\/id\//);
});

test("defaults are applied where a key is absent", (t) => {
  const c = testConfig(
    "staging",
    patched("staging", "backup", (b) => {
      delete b.schedules;
      delete b.noncurrentRetentionDays;
      delete b.database.port;
    }),
  );
  t.deepEqual(c.backup.schedules, {
    databaseBackup: "0 2 * * *",
    objectBackup: "30 2 * * *",
    restoreVerification: "0 5 * * *",
    maintenance: "0 3 * * *",
    weeklyReport: "0 6 * * 1",
  });
  t.is(c.backup.noncurrentRetentionDays, 30);
  t.is(c.backup.database.port, 5432);
});

test("1: environment outside the enum", (t) =>
  rejects(
    t,
    "staging",
    { [`${P}:environment`]: "dev" },
    `${P}:environment: must be one of "staging", "prod" (got "dev")`,
  ));

test("2: environment that contradicts the stack", (t) =>
  rejects(
    t,
    "prod",
    { [`${P}:environment`]: "staging" },
    `${P}:environment: must be "prod" in stack "prod" (got "staging")`,
  ));

test("3: missing required key", (t) =>
  rejects(
    t,
    "staging",
    { [`${P}:domain`]: undefined },
    `${P}:domain: required key is missing (for example zarishsphere.com)`,
  ));

test("4: malformed domain", (t) =>
  rejects(t, "staging", { [`${P}:domain`]: "Zarish Sphere" }, `${P}:domain: must be a lower-case DNS name`));

test("5: malformed e-mail", (t) =>
  rejects(
    t,
    "staging",
    patched("staging", "security", (s) => (s.acme.email = "admin-at-zarish")),
    `${P}:security.acme.email: must be an e-mail address`,
  ));

test("6: Elasticsearch replicas below 3 in prod", (t) =>
  rejects(
    t,
    "prod",
    patched("prod", "logging", (l) => (l.elasticsearch.replicas = 1)),
    `${P}:logging.elasticsearch.replicas: must be >= 3 in prod`,
  ));

test("7: backup retention below the seed's 30 days", (t) =>
  rejects(
    t,
    "staging",
    patched("staging", "backup", (b) => (b.retentionDays = 7)),
    `${P}:backup.retentionDays: must be an integer from 30 to 3650 (got 7)`,
  ));

test("8: prod audit retention below six years", (t) =>
  rejects(
    t,
    "prod",
    patched("prod", "logging", (l) => (l.auditRetentionDays = 365)),
    `${P}:logging.auditRetentionDays: must be >= 2192`,
  ));

test("9: prod retention below staging's", (t) =>
  rejects(
    t,
    "prod",
    patched("prod", "logging", (l) => (l.logRetentionDays = 10)),
    `${P}:logging.logRetentionDays: prod retention may not be below staging's 14 (got 10)`,
  ));

test("10: heap over half the memory limit", (t) =>
  rejects(
    t,
    "staging",
    patched("staging", "logging", (l) => (l.elasticsearch.memoryLimit = "1Gi")),
    `${P}:logging.elasticsearch.memoryLimit: must be at least twice heapSize 1g`,
  ));

test("11: DR region equal to the primary region", (t) =>
  rejects(t, "staging", { [`${P}:drRegion`]: "us-east-1" }, `${P}:drRegion: must differ from aws:region`));

test("12: unknown key (a typo) is refused", (t) =>
  rejects(
    t,
    "staging",
    patched("staging", "logging", (l) => (l.elasticsearch.replica = 3)),
    `${P}:logging.elasticsearch.replica: is not a known key`,
  ));

test("13: wrong type", (t) =>
  rejects(
    t,
    "staging",
    patched("staging", "monitoring", (m) => (m.prometheus.replicas = "two")),
    `${P}:monitoring.prometheus.replicas: must be an integer from 1 to 5 (got "two")`,
  ));

test("14: prod without Object Lock", (t) =>
  rejects(
    t,
    "prod",
    patched("prod", "backup", (b) => delete b.objectLock),
    `${P}:backup.objectLock: is required in prod`,
  ));

test("15: staging ACME endpoint in prod", (t) =>
  rejects(
    t,
    "prod",
    patched("prod", "security", (s) => (s.acme.server = "staging")),
    `${P}:security.acme.server: must be "production" in prod`,
  ));

test("16: Prometheus retention size that fills the volume", (t) =>
  rejects(
    t,
    "staging",
    patched("staging", "monitoring", (m) => (m.prometheus.retentionSize = "60GB")),
    `${P}:monitoring.prometheus.retentionSize: must stay below 90% of storageSize 50Gi`,
  ));

test("17: certificate host outside the domain", (t) =>
  rejects(
    t,
    "staging",
    patched("staging", "security", (s) => s.certificateHosts.push("api.example.org")),
    `every host must be within domain staging.zarishsphere.com (got "api.example.org")`,
  ));

test("18: a secret set in plain text is refused", (t) =>
  rejects(
    t,
    "staging",
    { [`${P}:smtpPassword`]: "hunter2" },
    `${P}:smtpPassword: is a secret and must be set with \`pulumi config set --secret smtpPassword\``,
  ));

test("19: malformed OIDC provider ARN", (t) =>
  rejects(
    t,
    "staging",
    { [`${P}:eksOidcProviderArn`]: "arn:aws:iam::1:role/x" },
    `${P}:eksOidcProviderArn: must be an EKS OIDC provider ARN`,
  ));

test("20: missing aws:region", (t) =>
  rejects(t, "staging", { "aws:region": undefined }, "aws:region: required key is missing"));

test("every problem is reported at once", async (t) => {
  const overrides = {
    [`${P}:domain`]: "BAD",
    [`${P}:drRegion`]: "mars-1",
    ...patched("staging", "backup", (b) => (b.retentionDays = 1)),
  };
  const err = await t.throwsAsync(runProgram("staging", overrides));
  t.true(err instanceof ConfigError || err?.name === "ConfigError");
  t.regex(err!.message, /\(3 problems\)/);
  t.regex(err!.message, /zarish-sphere-ops:domain: must be a lower-case DNS name/);
  t.regex(err!.message, /zarish-sphere-ops:drRegion: must be an AWS region/);
  t.regex(err!.message, /zarish-sphere-ops:backup\.retentionDays: must be an integer from 30 to 3650 \(got 1\)/);
  t.deepEqual((err as { recordedResources?: unknown[] }).recordedResources, []);
});
