import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { images } from "../k8s/images";
import { imageVersion, recommendedLabels } from "../k8s/labels";
import { type ComputeResources, resources } from "../k8s/resources";
import { hardenedContainer, restrictedPodSecurityContext } from "../k8s/security";
import { type BackupRole, PREFIX } from "./access";
import type { ResolvedBackupJobsArgs } from "./jobs-args";
import { SCRIPT, SCRIPTS_MOUNT_PATH, type ScriptName } from "./scripts";

/** UID and GID of the `postgres` user of the official postgres image; every backup container runs as it. */
export const BACKUP_UID = 999;
export const COMPONENT = "backup";

/** Names of the Kubernetes objects the jobs share. */
export const OBJECT_NAMES = {
  scripts: "backup-scripts",
  publicKey: "backup-public-key",
  databaseSecret: "backup-database",
  objectReader: "backup-kubernetes-object-reader",
} as const;
export const PUBLIC_KEY_FILE = "secrets-public-key.pem";
const KEYS_MOUNT_PATH = "/opt/backup/keys";
const TOOLS = "/opt/tools";
const WORK = "/work";

type EnvVar = k8s.types.input.core.v1.EnvVar;
type ServiceAccountName = BackupRole | "database-maintenance";

/** What a job's pods connect to, as pod labels: the platform's NetworkIsolation selects its egress flows on them. */
export const EGRESS_LABEL = { postgres: "zarish.health/egress-postgres", s3: "zarish.health/egress-s3" } as const;

export interface BackupJob {
  /** CronJob name. */
  readonly name: string;
  readonly script: ScriptName;
  readonly serviceAccount: ServiceAccountName;
  readonly schedule: string;
  /** Copies the AWS CLI into the pod (an init container of the aws-cli image). */
  readonly aws: boolean;
  /** Copies kubectl into the pod and mounts the ServiceAccount token (only the object backup). */
  readonly kubectl: boolean;
  /** Connects to PostgreSQL. */
  readonly database: boolean;
  readonly env: EnvVar[];
  readonly compute: ComputeResources;
  /** The scratch volume: its size limit, and tmpfs for the object backup (the Secrets' data key never hits a disk). */
  readonly work: { readonly sizeLimit: string; readonly memory: boolean };
  readonly activeDeadlineSeconds: number;
  readonly backoffLimit: number;
  readonly startingDeadlineSeconds: number;
}

/** The five jobs of the seed's backup and maintenance sections, with their limits. */
export function backupJobs(r: ResolvedBackupJobsArgs): BackupJob[] {
  const s = r.storage;
  const env = (vars: Record<string, pulumi.Input<string>>): EnvVar[] =>
    Object.entries(vars).map(([name, value]) => ({ name, value }));
  return [
    {
      name: "database-backup",
      script: SCRIPT.backupDatabase,
      serviceAccount: "database-backup",
      schedule: r.schedules.databaseBackup,
      aws: true,
      kubectl: false,
      database: true,
      env: env({ BACKUP_BUCKET: s.buckets.database, BACKUP_PREFIX: PREFIX.database, KMS_KEY_ID: s.kmsKeyArn }),
      compute: resources("250m", "512Mi", "1", "1Gi"),
      work: { sizeLimit: r.workVolumeSize, memory: false },
      activeDeadlineSeconds: 4 * 3600,
      backoffLimit: 2,
      startingDeadlineSeconds: 3600,
    },
    {
      name: "kubernetes-object-backup",
      script: SCRIPT.backupKubernetes,
      serviceAccount: "kubernetes-backup",
      schedule: r.schedules.objectBackup,
      aws: true,
      kubectl: true,
      database: false,
      env: env({
        BACKUP_BUCKET: s.buckets.kubernetes,
        BACKUP_PREFIX: PREFIX.kubernetes,
        KMS_KEY_ID: s.kmsKeyArn,
        BACKUP_KINDS: r.objectKinds.join(" "),
        BACKUP_SECRETS: String(r.backupSecrets),
        SECRETS_PUBLIC_KEY_FILE: `${KEYS_MOUNT_PATH}/${PUBLIC_KEY_FILE}`,
      }),
      compute: resources("100m", "256Mi", "500m", "768Mi"),
      work: { sizeLimit: "256Mi", memory: true },
      activeDeadlineSeconds: 1800,
      backoffLimit: 2,
      startingDeadlineSeconds: 3600,
    },
    {
      name: "restore-verification",
      script: SCRIPT.verifyRestore,
      serviceAccount: "restore-verification",
      schedule: r.schedules.restoreVerification,
      aws: true,
      kubectl: false,
      database: true,
      env: env({
        BACKUP_BUCKET: s.buckets.database,
        BACKUP_PREFIX: PREFIX.database,
        VERIFY_MAX_AGE_HOURS: String(r.verification.maxAgeHours),
        VERIFY_ROW_TOLERANCE_PERCENT: String(r.verification.tolerancePercent),
        VERIFY_ROW_TOLERANCE_ROWS: String(r.verification.toleranceRows),
      }),
      compute: resources("250m", "512Mi", "1", "1Gi"),
      work: { sizeLimit: r.workVolumeSize, memory: false },
      activeDeadlineSeconds: 4 * 3600,
      // A failed verification is news for a person (the Job-failed alert), not something to retry until it passes.
      backoffLimit: 0,
      startingDeadlineSeconds: 3600,
    },
    {
      name: "database-maintenance",
      script: SCRIPT.maintenance,
      serviceAccount: "database-maintenance",
      schedule: r.schedules.maintenance,
      aws: false,
      kubectl: false,
      database: true,
      env: env({
        MAINTENANCE_REINDEX: String(r.reindex.enabled),
        MAINTENANCE_REINDEX_WEEKDAY: String(r.reindex.weekday),
      }),
      compute: resources("50m", "64Mi", "200m", "128Mi"),
      work: { sizeLimit: "64Mi", memory: false },
      activeDeadlineSeconds: 3 * 3600,
      backoffLimit: 1,
      // Late is worse than never for maintenance: a run that missed its window waits for the next night.
      startingDeadlineSeconds: 1800,
    },
    {
      name: "weekly-health-report",
      script: SCRIPT.healthReport,
      serviceAccount: "health-report",
      schedule: r.schedules.weeklyReport,
      aws: true,
      kubectl: false,
      database: true,
      env: env({
        BACKUP_BUCKET: s.buckets.database,
        BACKUP_PREFIX: PREFIX.database,
        KUBERNETES_BACKUP_BUCKET: s.buckets.kubernetes,
        KUBERNETES_BACKUP_PREFIX: PREFIX.kubernetes,
        REPORT_PREFIX: PREFIX.reports,
        KMS_KEY_ID: s.kmsKeyArn,
        HEALTH_REPORT_COUNT_TABLES: r.reportTables.join(" "),
      }),
      compute: resources("50m", "128Mi", "500m", "256Mi"),
      work: { sizeLimit: "64Mi", memory: false },
      activeDeadlineSeconds: 900,
      backoffLimit: 1,
      startingDeadlineSeconds: 3600,
    },
  ];
}

/** Labels of a job's objects and pods. */
export function jobLabels(job: Pick<BackupJob, "name">, image: string): Record<string, string> {
  return recommendedLabels({ name: job.name, component: COMPONENT, version: imageVersion(image) });
}

/** The CronJob of one backup job: Forbid overlapping runs, deadlines, history limits, a hardened pod. */
export function buildCronJob(
  job: BackupJob,
  r: ResolvedBackupJobsArgs,
  configChecksum: string,
): k8s.types.input.batch.v1.CronJob {
  const labels = jobLabels(job, r.postgresImage);
  const podLabels: Record<string, string> = { ...labels };
  if (job.database) podLabels[EGRESS_LABEL.postgres] = "true";
  if (job.aws) podLabels[EGRESS_LABEL.s3] = "true";

  const mounts = [
    { name: "scripts", mountPath: SCRIPTS_MOUNT_PATH, readOnly: true },
    { name: "work", mountPath: WORK },
    { name: "tmp", mountPath: "/tmp" },
    ...(job.aws || job.kubectl ? [{ name: "tools", mountPath: TOOLS, readOnly: true }] : []),
    ...(job.kubectl ? [{ name: "keys", mountPath: KEYS_MOUNT_PATH, readOnly: true }] : []),
  ];
  const toolsMount = [{ name: "tools", mountPath: TOOLS }];
  const initContainers = [
    // The jobs run in the postgres image (bash, pg_dump, psql, gzip, openssl); the AWS CLI v2 is self-contained,
    // so its official image only carries it into a shared emptyDir. No custom image to build or patch.
    ...(job.aws
      ? [
          hardenedContainer({
            name: "aws-cli",
            image: images.awsCli,
            command: [
              "sh",
              "-c",
              `cp -RL /usr/local/aws-cli/v2/current/dist ${TOOLS}/aws-cli && ${TOOLS}/aws-cli/aws --version`,
            ],
            volumeMounts: toolsMount,
            compute: resources("50m", "64Mi", "500m", "256Mi"),
            runAsUser: BACKUP_UID,
          }),
        ]
      : []),
    ...(job.kubectl
      ? [
          hardenedContainer({
            name: "kubectl",
            image: images.kubectl,
            command: [
              "sh",
              "-c",
              `mkdir -p ${TOOLS}/bin && cp "$(command -v kubectl)" ${TOOLS}/bin/kubectl && ${TOOLS}/bin/kubectl version --client`,
            ],
            volumeMounts: toolsMount,
            compute: resources("50m", "64Mi", "500m", "128Mi"),
            runAsUser: BACKUP_UID,
          }),
        ]
      : []),
  ];
  const databaseEnv: EnvVar[] = job.database
    ? [
        { name: "PGHOST", value: r.database.host },
        { name: "PGPORT", value: String(r.database.port) },
        { name: "PGDATABASE", value: r.database.name },
        { name: "PGUSER", value: r.database.user },
        { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: OBJECT_NAMES.databaseSecret, key: "password" } } },
        { name: "PGCONNECT_TIMEOUT", value: "30" },
        { name: "PGAPPNAME", value: job.name },
      ]
    : [];
  const awsEnv: EnvVar[] = job.aws
    ? [
        { name: "AWS_REGION", value: r.storage.region },
        { name: "AWS_DEFAULT_REGION", value: r.storage.region },
        { name: "AWS_RETRY_MODE", value: "standard" },
      ]
    : [];
  const main = hardenedContainer({
    name: job.name,
    image: r.postgresImage,
    command: ["bash", `${SCRIPTS_MOUNT_PATH}/${job.script}`],
    env: [
      {
        name: "PATH",
        value: `${TOOLS}/bin:${TOOLS}/aws-cli:/usr/lib/postgresql/${r.postgresMajor}/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      },
      { name: "HOME", value: "/tmp" },
      { name: "TMPDIR", value: "/tmp" },
      { name: "BACKUP_WORK_DIR", value: WORK },
      ...databaseEnv,
      ...awsEnv,
      ...job.env,
    ],
    volumeMounts: mounts,
    compute: job.compute,
    runAsUser: BACKUP_UID,
  });
  const volumes: k8s.types.input.core.v1.Volume[] = [
    { name: "scripts", configMap: { name: OBJECT_NAMES.scripts, defaultMode: 0o555 } },
    { name: "work", emptyDir: { sizeLimit: job.work.sizeLimit, ...(job.work.memory ? { medium: "Memory" } : {}) } },
    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ...(job.aws || job.kubectl ? [{ name: "tools", emptyDir: { sizeLimit: "768Mi" } }] : []),
    ...(job.kubectl ? [{ name: "keys", configMap: { name: OBJECT_NAMES.publicKey, defaultMode: 0o444 } }] : []),
  ];
  return {
    metadata: { name: job.name, namespace: r.namespace, labels },
    spec: {
      schedule: job.schedule,
      timeZone: r.timeZone,
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: job.startingDeadlineSeconds,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 5,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: job.backoffLimit,
          activeDeadlineSeconds: job.activeDeadlineSeconds,
          template: {
            metadata: { labels: podLabels, annotations: { "checksum/config": configChecksum } },
            spec: {
              serviceAccountName: job.serviceAccount,
              // Only the object backup talks to the Kubernetes API; IRSA mounts its own STS token regardless.
              automountServiceAccountToken: job.kubectl,
              enableServiceLinks: false,
              restartPolicy: "Never",
              securityContext: restrictedPodSecurityContext(BACKUP_UID),
              initContainers,
              containers: [main],
              volumes,
            },
          },
        },
      },
    },
  };
}
