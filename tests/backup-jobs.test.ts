/** BackupJobs: defaults, validation, and the Kubernetes objects it sends to the engine. */
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { BACKUP_ROLES } from "../components/backup/access";
import { BackupJobs, objectReaderRules } from "../components/backup/jobs";
import { type BackupJobsArgs, cronHours, resolveBackupJobsArgs } from "../components/backup/jobs-args";
import { backupScripts } from "../components/backup/scripts";
import { BackupStorage } from "../components/backup/storage";
import { images } from "../components/k8s/images";
import { evaluatePolicies } from "../tools/lib/policy-engine";
import { testConfig } from "./helpers/config";
import { containersOf, findObject, runComponent, SECRET } from "./helpers/harness";
import { validateManifest } from "./helpers/schema";

type Json = Record<string, any>;

const PUBLIC_KEY = testConfig("staging").backup.secretsPublicKey;
const STORAGE = {
  buckets: { database: "b-database", kubernetes: "b-kubernetes" },
  kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
  region: "eu-west-1",
  roleArns: Object.fromEntries(BACKUP_ROLES.map((r) => [r, `arn:aws:iam::111122223333:role/${r}`])) as Record<
    (typeof BACKUP_ROLES)[number],
    string
  >,
};
const ARGS: BackupJobsArgs = {
  database: {
    host: "postgres.data.svc",
    port: 5432,
    name: "zarish_sphere",
    user: "zarish_backup",
    password: pulumi.secret("pw"),
  },
  schedules: {
    databaseBackup: "0 2 * * *",
    objectBackup: "30 2 * * *",
    restoreVerification: "0 5 * * *",
    maintenance: "0 3 * * *",
    weeklyReport: "0 6 * * 1",
  },
  secretsPublicKey: PUBLIC_KEY,
  storage: STORAGE,
};
const CRONJOBS = [
  "database-backup",
  "kubernetes-object-backup",
  "restore-verification",
  "database-maintenance",
  "weekly-health-report",
];

test("defaults are pinned", (t) => {
  const r = resolveBackupJobsArgs(ARGS);
  t.like(r, {
    namespace: "backup",
    backupSecrets: true,
    verification: { tolerancePercent: 5, toleranceRows: 100, maxAgeHours: 26 },
    reindex: { enabled: false, weekday: 7 },
    workVolumeSize: "20Gi",
    timeZone: "Etc/UTC",
    businessHours: { start: 7, end: 19 },
    postgresImage: images.postgres,
    postgresMajor: 16,
  });
  t.deepEqual(r.objectKinds, [
    "namespaces",
    "deployments",
    "statefulsets",
    "daemonsets",
    "services",
    "configmaps",
    "persistentvolumeclaims",
  ]);
  t.deepEqual(r.reportTables, ["patients", "encounters", "observations"]);
});

test("cronHours expands the hour field", (t) => {
  t.deepEqual(cronHours("0 3 * * *"), [3]);
  t.deepEqual(cronHours("0 1,22 * * *"), [1, 22]);
  t.deepEqual(cronHours("0 8-10 * * *"), [8, 9, 10]);
  t.deepEqual(cronHours("0 */6 * * *"), [0, 6, 12, 18]);
  t.is(cronHours("0 * * * *").length, 24);
});

const invalid: [string, Partial<BackupJobsArgs>, RegExp][] = [
  ["namespace", { namespace: "Backup" }, /namespace must be a DNS-1123 label \(got "Backup"\)/],
  [
    "schedule",
    { schedules: { ...ARGS.schedules, databaseBackup: "daily" } },
    /schedules.databaseBackup must be a five-field cron schedule \(got "daily"\)/,
  ],
  [
    "maintenance in business hours",
    { schedules: { ...ARGS.schedules, maintenance: "0 10 * * *" } },
    /schedules.maintenance "0 10 \* \* \*" runs at 10h Etc\/UTC, inside business hours 7-19/,
  ],
  [
    "business hours",
    { businessHours: { start: 19, end: 7 } },
    /businessHours must be whole hours with 0 <= start < end <= 24 \(got 19-7\)/,
  ],
  ["time zone", { timeZone: "UTC+6" }, /timeZone must be an IANA name \(got "UTC\+6"\)/],
  ["work volume", { workVolumeSize: "lots" }, /workVolumeSize must be a Kubernetes quantity \(got "lots"\)/],
  [
    "tolerance percent",
    { verification: { tolerancePercent: 150 } },
    /verification.tolerancePercent must be a whole number 0..100 \(got 150\)/,
  ],
  [
    "tolerance rows",
    { verification: { toleranceRows: -1 } },
    /verification.toleranceRows must be a whole number >= 0 \(got -1\)/,
  ],
  ["max age", { verification: { maxAgeHours: 0 } }, /verification.maxAgeHours must be a whole number >= 1 \(got 0\)/],
  ["weekday", { reindex: { weekday: 0 } }, /reindex.weekday must be 1 \(Monday\) .. 7 \(Sunday\) \(got 0\)/],
  ["report table", { reportTables: ["patients; DROP TABLE x"] }, /reportTables entries must be \[schema.\]table names/],
  ["kinds", { objectKinds: ["secrets" as never] }, /objectKinds must be distinct kinds from namespaces/],
  ["no kinds", { objectKinds: [] }, /objectKinds must be distinct kinds/],
  ["public key", { secretsPublicKey: "ssh-rsa AAAA" }, /secretsPublicKey must be a PEM public key/],
  ["database host", { database: { ...ARGS.database, host: " " } }, /database.host must not be empty/],
  ["database port", { database: { ...ARGS.database, port: 0 } }, /database.port must be 1..65535 \(got 0\)/],
  ["image", { postgresImage: "postgres:latest" }, /postgresImage must be pinned to a PostgreSQL version tag/],
];
for (const [name, change, message] of invalid) {
  test(`validation: ${name}`, (t) => {
    const error = t.throws(() => resolveBackupJobsArgs({ ...ARGS, ...change }));
    t.regex(error.message, message);
  });
}

test("the public key is not required when Secrets are not backed up", (t) => {
  t.notThrows(() => resolveBackupJobsArgs({ ...ARGS, backupSecrets: false, secretsPublicKey: "" }));
});

test("five CronJobs: Forbid, deadlines, history limits, pinned images, hardened containers, valid schemas", async (t) => {
  const resources = await runComponent(() => new BackupJobs("bj-default", ARGS));
  const cronJobs = resources.filter((r) => r.inputs.kind === "CronJob");
  t.deepEqual(cronJobs.map((c) => (c.inputs.metadata as Json).name).sort(), [...CRONJOBS].sort());
  for (const cronJob of cronJobs) {
    const name = (cronJob.inputs.metadata as Json).name;
    const spec = cronJob.inputs.spec as Json;
    t.is((cronJob.inputs.metadata as Json).namespace, "backup", name);
    t.is(spec.concurrencyPolicy, "Forbid", name);
    t.is(spec.timeZone, "Etc/UTC", name);
    t.true(spec.startingDeadlineSeconds > 0, name);
    t.is(spec.successfulJobsHistoryLimit, 3, name);
    t.is(spec.failedJobsHistoryLimit, 5, name);
    const job = spec.jobTemplate.spec;
    t.true(Number.isInteger(job.backoffLimit), name);
    t.true(job.activeDeadlineSeconds > 0, name);
    const pod = job.template.spec;
    t.is(pod.restartPolicy, "Never", name);
    t.like(pod.securityContext, { runAsNonRoot: true, runAsUser: 999, fsGroup: 999 }, name);
    t.regex(job.template.metadata.annotations["checksum/config"], /^[0-9a-f]{16}$/);
    for (const container of containersOf(cronJob)) {
      t.true(
        ([images.postgres, images.awsCli, images.kubectl] as string[]).includes(container.image as string),
        `${name}: ${container.image}`,
      );
      t.notRegex(container.image as string, /:latest$/);
      const resources = container.resources as Json;
      t.truthy(resources.requests.cpu && resources.requests.memory && resources.limits.cpu && resources.limits.memory);
      t.like(container.securityContext, {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
    await t.notThrowsAsync(validateManifest(cronJob.inputs), name);
  }
  t.is(
    (findObject(resources, "CronJob", "database-backup", "backup").inputs.spec as Json).schedule,
    ARGS.schedules.databaseBackup,
  );
});

test("each job runs its mounted script with its own ServiceAccount and environment", async (t) => {
  const resources = await runComponent(() => new BackupJobs("bj-env", ARGS));
  const scripts = findObject(resources, "ConfigMap", "backup-scripts", "backup").inputs.data as Json;
  t.deepEqual(scripts, backupScripts(), "the ConfigMap holds exactly the tested scripts");
  t.truthy(scripts["backup-database.sh"]);
  t.truthy(scripts["restore-database.sh"]);

  const podOf = (name: string) =>
    (findObject(resources, "CronJob", name, "backup").inputs.spec as Json).jobTemplate.spec.template.spec;
  const envOf = (name: string) =>
    Object.fromEntries((podOf(name).containers[0].env as Json[]).map((e) => [e.name, e.value ?? e.valueFrom]));

  const backup = podOf("database-backup");
  t.is(backup.serviceAccountName, "database-backup");
  t.deepEqual(backup.containers[0].command, ["bash", "/opt/backup/scripts/backup-database.sh"]);
  t.deepEqual(
    backup.initContainers.map((c: Json) => c.image),
    [images.awsCli],
  );
  t.like(envOf("database-backup"), {
    PGHOST: "postgres.data.svc",
    PGPORT: "5432",
    PGDATABASE: "zarish_sphere",
    PGUSER: "zarish_backup",
    PGPASSWORD: { secretKeyRef: { name: "backup-database", key: "password" } },
    BACKUP_BUCKET: "b-database",
    BACKUP_PREFIX: "database",
    KMS_KEY_ID: STORAGE.kmsKeyArn,
    AWS_REGION: "eu-west-1",
    BACKUP_WORK_DIR: "/work",
    PATH: "/opt/tools/bin:/opt/tools/aws-cli:/usr/lib/postgresql/16/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  });
  t.false(backup.automountServiceAccountToken);
  t.like(
    backup.volumes.find((v: Json) => v.name === "work"),
    { emptyDir: { sizeLimit: "20Gi" } },
  );

  const objects = podOf("kubernetes-object-backup");
  t.true(objects.automountServiceAccountToken, "the object backup reads the API");
  t.deepEqual(
    objects.initContainers.map((c: Json) => c.image),
    [images.awsCli, images.kubectl],
  );
  t.like(envOf("kubernetes-object-backup"), {
    BACKUP_BUCKET: "b-kubernetes",
    BACKUP_PREFIX: "kubernetes",
    BACKUP_KINDS: "namespaces deployments statefulsets daemonsets services configmaps persistentvolumeclaims",
    BACKUP_SECRETS: "true",
    SECRETS_PUBLIC_KEY_FILE: "/opt/backup/keys/secrets-public-key.pem",
  });
  t.is(envOf("kubernetes-object-backup").PGPASSWORD, undefined, "no database credentials where none are needed");
  t.like(
    objects.volumes.find((v: Json) => v.name === "work"),
    { emptyDir: { medium: "Memory" } },
  );

  t.like(envOf("restore-verification"), { VERIFY_MAX_AGE_HOURS: "26", VERIFY_ROW_TOLERANCE_PERCENT: "5" });
  t.is(podOf("restore-verification").serviceAccountName, "restore-verification");
  t.like(envOf("database-maintenance"), { MAINTENANCE_REINDEX: "false", MAINTENANCE_REINDEX_WEEKDAY: "7" });
  t.deepEqual(podOf("database-maintenance").initContainers, [], "maintenance needs no AWS");
  t.like(envOf("weekly-health-report"), {
    REPORT_PREFIX: "reports",
    KUBERNETES_BACKUP_BUCKET: "b-kubernetes",
    HEALTH_REPORT_COUNT_TABLES: "patients encounters observations",
  });

  const key = findObject(resources, "ConfigMap", "backup-public-key", "backup").inputs.data as Json;
  t.is(key["secrets-public-key.pem"], PUBLIC_KEY);
  const secret = findObject(resources, "Secret", "backup-database", "backup").inputs as Json;
  t.deepEqual(secret.stringData, { password: SECRET }, "the password stays a secret");
  t.false(JSON.stringify(resources.map((r) => r.inputs)).includes('"pw"'), "never in plain text");
});

test("ServiceAccounts carry their IRSA roles; the object backup's ClusterRole is read-only", async (t) => {
  const resources = await runComponent(() => new BackupJobs("bj-rbac", ARGS));
  for (const role of BACKUP_ROLES) {
    const sa = findObject(resources, "ServiceAccount", role, "backup").inputs as Json;
    t.is(sa.metadata.annotations["eks.amazonaws.com/role-arn"], STORAGE.roleArns[role]);
    t.false(sa.automountServiceAccountToken);
  }
  t.deepEqual(
    (findObject(resources, "ServiceAccount", "database-maintenance", "backup").inputs.metadata as Json).annotations,
    {},
  );
  const clusterRole = findObject(resources, "ClusterRole", "backup-kubernetes-object-reader").inputs as Json;
  t.deepEqual(clusterRole.rules, [
    {
      apiGroups: [""],
      resources: ["namespaces", "services", "configmaps", "persistentvolumeclaims", "secrets"],
      verbs: ["get", "list"],
    },
    { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "daemonsets"], verbs: ["get", "list"] },
  ]);
  const binding = findObject(resources, "ClusterRoleBinding", "backup-kubernetes-object-reader").inputs as Json;
  t.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "kubernetes-backup", namespace: "backup" }]);
  t.deepEqual(objectReaderRules(["deployments"], false), [
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
  ]);
});

test("the pods are offered to the platform's network flows by what they connect to", async (t) => {
  let jobs: BackupJobs | undefined;
  const resources = await runComponent(() => {
    jobs = new BackupJobs("bj-net", ARGS);
  });
  t.deepEqual(jobs?.peers, {
    databaseClients: [{ namespace: "backup", podSelector: { "zarish.health/egress-postgres": "true" } }],
    s3Clients: [{ namespace: "backup", podSelector: { "zarish.health/egress-s3": "true" } }],
    kubernetesApiClients: [
      {
        namespace: "backup",
        podSelector: {
          "app.kubernetes.io/name": "kubernetes-object-backup",
          "app.kubernetes.io/instance": "kubernetes-object-backup",
        },
      },
    ],
  });
  const labelsOf = (name: string) =>
    (findObject(resources, "CronJob", name, "backup").inputs.spec as Json).jobTemplate.spec.template.metadata.labels;
  const selects = (peer: { podSelector: Readonly<Record<string, string>> }, name: string) =>
    Object.entries(peer.podSelector).every(([k, v]) => labelsOf(name)[k] === v);
  const peers = jobs!.peers;
  t.deepEqual(
    CRONJOBS.filter((n) => selects(peers.databaseClients[0], n)),
    ["database-backup", "restore-verification", "database-maintenance", "weekly-health-report"],
  );
  t.deepEqual(
    CRONJOBS.filter((n) => selects(peers.s3Clients[0], n)),
    ["database-backup", "kubernetes-object-backup", "restore-verification", "weekly-health-report"],
  );
  t.deepEqual(
    CRONJOBS.filter((n) => selects(peers.kubernetesApiClients[0], n)),
    ["kubernetes-object-backup"],
  );
  t.is(resources.filter((r) => r.inputs.kind === "NetworkPolicy").length, 0, "isolation is the platform's");
});

test("custom configuration: namespace, kinds without Secrets, reindex, image", async (t) => {
  const resources = await runComponent(
    () =>
      new BackupJobs("bj-custom", {
        ...ARGS,
        namespace: "ops-backup",
        objectKinds: ["deployments", "configmaps"],
        backupSecrets: false,
        reindex: { enabled: true, weekday: 6 },
        postgresImage: "docker.io/library/postgres:17.6-bookworm",
        workVolumeSize: "50Gi",
      }),
  );
  const cronJob = findObject(resources, "CronJob", "database-maintenance", "ops-backup");
  const env = Object.fromEntries(
    ((cronJob.inputs.spec as Json).jobTemplate.spec.template.spec.containers[0].env as Json[]).map((e) => [
      e.name,
      e.value,
    ]),
  );
  t.like(env, { MAINTENANCE_REINDEX: "true", MAINTENANCE_REINDEX_WEEKDAY: "6" });
  t.regex(env.PATH, /\/usr\/lib\/postgresql\/17\/bin/);
  const objects = findObject(resources, "CronJob", "kubernetes-object-backup", "ops-backup").inputs.spec as Json;
  const objectEnv = Object.fromEntries(
    (objects.jobTemplate.spec.template.spec.containers[0].env as Json[]).map((e) => [e.name, e.value]),
  );
  t.like(objectEnv, { BACKUP_KINDS: "deployments configmaps", BACKUP_SECRETS: "false" });
  const rules = (findObject(resources, "ClusterRole", "backup-kubernetes-object-reader").inputs as Json)
    .rules as Json[];
  t.false(
    rules.some((r) => r.resources.includes("secrets")),
    "no Secret access without the Secrets backup",
  );
});

test("the policy pack passes the backup storage and jobs of prod", async (t) => {
  const config = testConfig("prod");
  const resources = await runComponent(() => {
    const storage = new BackupStorage("bp-storage", {
      bucketPrefix: config.backup.bucketPrefix,
      retentionDays: config.backup.retentionDays,
      noncurrentRetentionDays: config.backup.noncurrentRetentionDays,
      objectLock: config.backup.objectLock,
      replication: config.backup.replication,
      aws: config.aws,
      protect: true,
    });
    new BackupJobs("bp-jobs", {
      database: config.backup.database,
      schedules: config.backup.schedules,
      secretsPublicKey: config.backup.secretsPublicKey,
      storage,
    });
  });
  const mandatory = evaluatePolicies(resources, { environment: "prod" }).filter((v) => v.level === "mandatory");
  t.deepEqual(mandatory, []);
});
