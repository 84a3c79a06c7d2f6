/** The restore runbooks stay true to the scripts and objects they describe. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { BACKUP_ROLES } from "../components/backup/access";
import { BackupJobs } from "../components/backup/jobs";
import { backupScripts } from "../components/backup/scripts";
import { testConfig } from "./helpers/config";
import { findObject, runComponent } from "./helpers/harness";
import { requireTool } from "./helpers/tools";

type Json = Record<string, any>;
const RUNBOOKS = path.join(__dirname, "..", "docs", "runbooks");
const read = (name: string) => readFileSync(path.join(RUNBOOKS, name), "utf8");

test("the database runbook's one-off restore Job is a valid Job that runs restore-database.sh on the target", async (t) => {
  const jq = requireTool("jq", "jq");
  const runbook = read("restore-database.md");
  const match = /-o json \|\n\s+jq (--arg [^\n]+) '\n([\s\S]*?)' \|\n\s+kubectl apply -f -/.exec(runbook);
  t.truthy(match, "the jq command is where the runbook shows it");
  const program = match?.[2] ?? "";

  const config = testConfig("prod");
  const resources = await runComponent(
    () =>
      new BackupJobs("rb-jobs", {
        database: { ...config.backup.database, password: pulumi.secret("x") },
        schedules: config.backup.schedules,
        secretsPublicKey: config.backup.secretsPublicKey,
        storage: {
          buckets: { database: "db", kubernetes: "k8s" },
          kmsKeyArn: "arn:aws:kms:us-east-1:111122223333:key/k",
          region: "us-east-1",
          roleArns: Object.fromEntries(BACKUP_ROLES.map((r) => [r, `arn:aws:iam::111122223333:role/${r}`])) as never,
        },
      }),
  );
  const cronJob = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    ...findObject(resources, "CronJob", "restore-verification").inputs,
  };
  const output = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      jq,
      [
        "--arg",
        "target",
        "zarish_sphere_restore_20250115",
        "--arg",
        "key",
        "database/2025/01/x_20250114_020001.sql.gz",
        "--arg",
        "name",
        "restore-1",
        program,
      ],
      (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
    );
    child.stdin?.end(JSON.stringify(cronJob));
  });
  const job = JSON.parse(output) as Json;
  const { Job } = (await import("kubernetes-models/batch/v1/Job")) as { Job: new (d: unknown) => { validate(): void } };
  t.notThrows(() => new Job(job).validate());
  const container = job.spec.template.spec.containers[0];
  t.deepEqual(container.command, ["bash", "/opt/backup/scripts/restore-database.sh"]);
  t.true(Object.keys(backupScripts()).includes("restore-database.sh"));
  const env = (container.env as Json[]).filter((e) => e.name === "PGDATABASE");
  t.deepEqual(env, [{ name: "PGDATABASE", value: "zarish_sphere_restore_20250115" }], "the target replaces the source");
  t.is(job.spec.template.spec.serviceAccountName, "restore-verification", "a role that can read, never write");
  t.is(job.metadata.namespace, "backup");
});

test("the Kubernetes objects runbook decrypts with the parameters the backup script encrypts with", (t) => {
  const runbook = read("restore-kubernetes-objects.md");
  const script = backupScripts()["backup-kubernetes.sh"];
  for (const parameter of [
    "-aes-256-cbc -pbkdf2 -iter 100000",
    "rsa_padding_mode:oaep",
    "rsa_oaep_md:sha256",
    "rsa_mgf1_md:sha256",
    "secrets.yaml.enc",
    "secrets.key.enc",
  ]) {
    t.true(script.includes(parameter), `script: ${parameter}`);
    t.true(runbook.includes(parameter), `runbook: ${parameter}`);
  }
});

test("the database runbook names the seed's pg_basebackup mistake and the archive format", (t) => {
  const runbook = read("restore-database.md");
  t.regex(runbook, /`-t` is `--target`/);
  t.regex(runbook, /recovery_target_time/);
  t.regex(runbook, /pg_restore --single-transaction/);
  t.regex(backupScripts()["backup-database.sh"], /--format=custom/);
});
