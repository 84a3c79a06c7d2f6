/**
 * The other backup jobs' scripts, as mounted, against a real PostgreSQL and s3rver: the daily restore
 * verification, the maintenance job, the weekly health report, and the Kubernetes object backup (with a stand-in
 * kubectl, and the Secrets decrypted again with the private key as the runbook says).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import anyTest, { type TestFn } from "ava";
import { lastLine, type RenderedScripts, renderScripts } from "./helpers/backup";
import { type PostgresServer, startPostgres } from "./helpers/postgres";
import { type S3Server, startS3 } from "./helpers/s3";
import { requireTool } from "./helpers/tools";

const run = promisify(execFile);
const test = anyTest as TestFn<Context>;
const BUCKET = "zarish-backups";
const CLINIC = "clinic";

interface Context {
  pg: PostgresServer;
  s3: S3Server;
  scripts: RenderedScripts;
  /** A good backup of CLINIC under "database/". */
  backup: { key: string; body: Buffer };
  dir: string;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function env(t: { context: Context }, database: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...t.context.pg.env(database), ...t.context.s3.env, BACKUP_BUCKET: BUCKET, ...extra };
}

const CLINIC_SQL = `
CREATE TABLE clinical_patients (id int PRIMARY KEY, name text);
CREATE TABLE clinical_encounters (id int PRIMARY KEY, patient int REFERENCES clinical_patients, note text);
CREATE INDEX encounters_patient ON clinical_encounters (patient);
INSERT INTO clinical_patients SELECT i, 'patient ' || i FROM generate_series(1, 3000) i;
INSERT INTO clinical_encounters SELECT i, 1 + i % 3000, 'note' FROM generate_series(1, 4000) i;`;

async function backupOf(t: { context: Context }, database: string, prefix: string): Promise<string> {
  const result = await t.context.scripts.run("backup-database.sh", env(t, database, { BACKUP_PREFIX: prefix }));
  if (result.code !== 0) throw new Error(`backup of ${database} failed: ${result.stderr}`);
  return lastLine(result.stdout);
}

test.before(async (t) => {
  const pg = await startPostgres();
  let s3: S3Server | undefined;
  try {
    s3 = await startS3([BUCKET]);
    for (const db of [CLINIC, "drifting"]) {
      await pg.psql("postgres", `CREATE DATABASE ${db}`);
      await pg.psql(db, CLINIC_SQL);
    }
  } catch (error) {
    await s3?.stop();
    await pg.stop();
    throw error;
  }
  const dir = mkdtempSync(path.join(tmpdir(), "zarish-backup-scripts-"));
  t.context = { pg, s3, scripts: renderScripts(pg.binDir), backup: { key: "", body: Buffer.alloc(0) }, dir };
  const key = await backupOf(t, CLINIC, "database");
  t.context.backup = { key, body: (await s3.get(BUCKET, key)).body };
});

test.after.always(async (t) => {
  t.context.scripts?.remove();
  if (t.context.dir) rmSync(t.context.dir, { recursive: true, force: true });
  await t.context.s3?.stop();
  await t.context.pg?.stop();
});

const databases = (pg: PostgresServer) =>
  pg.psql("postgres", "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database");

// ---- verify-restore.sh ---------------------------------------------------------------------------------------

test("restore verification restores the newest backup into a scratch database, compares, and drops it", async (t) => {
  const { pg, scripts } = t.context;
  const result = await scripts.run(
    "verify-restore.sh",
    env(t, CLINIC, {
      BACKUP_PREFIX: "database",
      VERIFY_DATABASE: "verify_exact",
      VERIFY_ROW_TOLERANCE_PERCENT: "0",
      VERIFY_ROW_TOLERANCE_ROWS: "0",
    }),
  );
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^ok\tpublic\.clinical_patients\tsource=3000\trestored=3000$/m);
  t.regex(result.stdout, /^ok\tpublic\.clinical_encounters\tsource=4000\trestored=4000$/m);
  t.regex(result.stdout, new RegExp(`restore verification of ${t.context.backup.key}: 2 tables, 0 beyond tolerance`));
  t.regex(result.stderr, /restore verification passed/);
  t.notRegex(await databases(pg), /verify_exact/, "the scratch database is dropped");
  t.deepEqual(result.leftovers, []);
});

test("restore verification needs no superuser: CREATEDB and pg_read_all_data are enough", async (t) => {
  const { pg, scripts } = t.context;
  await pg.psql("postgres", "CREATE ROLE verifier LOGIN PASSWORD 'verifier-pw' CREATEDB IN ROLE pg_read_all_data");
  await pg.psql("postgres", "CREATE ROLE clinic_reader NOLOGIN");
  await pg.psql(CLINIC, "GRANT SELECT ON clinical_patients TO clinic_reader");
  const key = await backupOf(t, CLINIC, "least-privilege");
  const result = await scripts.run(
    "verify-restore.sh",
    env(t, CLINIC, {
      PGUSER: "verifier",
      PGPASSWORD: "verifier-pw",
      BACKUP_PREFIX: "least-privilege",
      VERIFY_DATABASE: "verify_least_privilege",
      VERIFY_ROW_TOLERANCE_PERCENT: "0",
      VERIFY_ROW_TOLERANCE_ROWS: "0",
    }),
  );
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, new RegExp(`restore verification of ${key}: 2 tables, 0 beyond tolerance`));
  t.notRegex(await databases(pg), /verify_least_privilege/);
});

test("restore verification fails when the live database has drifted beyond the tolerance", async (t) => {
  const { pg, scripts } = t.context;
  await backupOf(t, "drifting", "drift");
  await pg.psql("drifting", "DELETE FROM clinical_encounters WHERE id > 3950; CREATE TABLE added_later (id int)");
  await pg.psql("drifting", "INSERT INTO added_later SELECT generate_series(1, 5)");
  const base = { BACKUP_PREFIX: "drift", VERIFY_DATABASE: "verify_drift" };

  const strict = await scripts.run(
    "verify-restore.sh",
    env(t, "drifting", { ...base, VERIFY_ROW_TOLERANCE_PERCENT: "0", VERIFY_ROW_TOLERANCE_ROWS: "0" }),
  );
  t.not(strict.code, 0);
  t.regex(strict.stdout, /^MISMATCH\tpublic\.clinical_encounters\tsource=3950\trestored=4000$/m);
  t.regex(strict.stdout, /^MISMATCH\tpublic\.added_later\tsource=5\trestored=0 \(not in backup\)$/m);
  t.regex(strict.stdout, /^ok\tpublic\.clinical_patients\t/m);
  t.regex(strict.stderr, /row counts of the restored backup differ from drifting/);

  const tolerant = await scripts.run(
    "verify-restore.sh",
    env(t, "drifting", { ...base, VERIFY_ROW_TOLERANCE_PERCENT: "2", VERIFY_ROW_TOLERANCE_ROWS: "10" }),
  );
  t.is(tolerant.code, 0, tolerant.stdout + tolerant.stderr);
  t.notRegex(await databases(pg), /verify_drift/);
});

test("restore verification fails when the newest backup is too old, or when there is none", async (t) => {
  const { s3, scripts } = t.context;
  await s3.put(BUCKET, "stale/2020/01/clinic_20200101_000000.sql.gz", t.context.backup.body, {
    sha256: sha256(t.context.backup.body),
  });
  const stale = await scripts.run(
    "verify-restore.sh",
    env(t, CLINIC, { BACKUP_PREFIX: "stale", VERIFY_DATABASE: "verify_stale" }),
  );
  t.not(stale.code, 0);
  t.regex(stale.stderr, /newest backup stale\/2020\/01\/clinic_20200101_000000\.sql\.gz is \d+h old \(limit 26h\)/);

  const none = await scripts.run(
    "verify-restore.sh",
    env(t, CLINIC, { BACKUP_PREFIX: "empty", VERIFY_DATABASE: "verify_none" }),
  );
  t.not(none.code, 0);
  t.regex(none.stderr, /no backup of clinic under s3:\/\/zarish-backups\/empty\//);
});

test("restore verification never touches a database it did not create", async (t) => {
  const { pg, scripts } = t.context;
  await pg.psql("postgres", "CREATE DATABASE verify_foreign");
  await pg.psql("verify_foreign", "CREATE TABLE precious (id int); INSERT INTO precious VALUES (7)");
  const result = await scripts.run(
    "verify-restore.sh",
    env(t, CLINIC, { BACKUP_PREFIX: "database", VERIFY_DATABASE: "verify_foreign" }),
  );
  t.not(result.code, 0);
  t.regex(result.stderr, /a database named verify_foreign exists and was not created by this script/);
  t.is(await pg.psql("verify_foreign", "SELECT id FROM precious"), "7\n");

  const same = await scripts.run(
    "verify-restore.sh",
    env(t, CLINIC, { BACKUP_PREFIX: "database", VERIFY_DATABASE: CLINIC }),
  );
  t.not(same.code, 0);
  t.regex(same.stderr, /VERIFY_DATABASE must differ from PGDATABASE/);
});

// ---- database-maintenance.sh ----------------------------------------------------------------------------------

const isoWeekday = (offset = 0) => String(((new Date().getUTCDay() + 6 + offset) % 7) + 1);
const filenode = (pg: PostgresServer, db: string) => pg.psql(db, "SELECT pg_relation_filenode('encounters_patient')");

test("maintenance vacuums and analyzes, and reindexes concurrently only on the configured weekday", async (t) => {
  const { pg, scripts } = t.context;
  await pg.psql("postgres", "CREATE DATABASE maintained");
  await pg.psql("maintained", CLINIC_SQL);

  const before = await filenode(pg, "maintained");
  const otherDay = await scripts.run(
    "database-maintenance.sh",
    env(t, "maintained", { MAINTENANCE_REINDEX: "true", MAINTENANCE_REINDEX_WEEKDAY: isoWeekday(1) }),
  );
  t.is(otherDay.code, 0, otherDay.stderr);
  t.regex(otherDay.stderr, /VACUUM \(ANALYZE\) maintained/);
  t.regex(otherDay.stderr, /skipped/);
  t.is(await filenode(pg, "maintained"), before, "no reindex on another day");
  const vacuumed = await pg.psql(
    "maintained",
    "SELECT count(*) FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL",
  );
  t.is(vacuumed.trim(), "2");

  const today = await scripts.run(
    "database-maintenance.sh",
    env(t, "maintained", { MAINTENANCE_REINDEX: "true", MAINTENANCE_REINDEX_WEEKDAY: isoWeekday() }),
  );
  t.is(today.code, 0, today.stderr);
  t.regex(today.stderr, /REINDEX CONCURRENTLY of every index in maintained/);
  t.not(await filenode(pg, "maintained"), before, "the index was rebuilt");

  const off = await scripts.run(
    "database-maintenance.sh",
    env(t, "maintained", { MAINTENANCE_REINDEX_WEEKDAY: isoWeekday() }),
  );
  t.is(off.code, 0, off.stderr);
  t.notRegex(off.stderr, /REINDEX/, "reindexing is opt-in");
});

test("maintenance reports invalid indexes and refuses a bad weekday", async (t) => {
  const { pg, scripts } = t.context;
  await pg.psql("postgres", "CREATE DATABASE invalid_index");
  await pg.psql("invalid_index", CLINIC_SQL);
  await pg.psql(
    "invalid_index",
    "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'encounters_patient'::regclass",
  );
  const result = await scripts.run("database-maintenance.sh", env(t, "invalid_index"));
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /invalid indexes[^\n]*\nencounters_patient \(table clinical_encounters\)/);

  const bad = await scripts.run(
    "database-maintenance.sh",
    env(t, "invalid_index", { MAINTENANCE_REINDEX_WEEKDAY: "8" }),
  );
  t.not(bad.code, 0);
  t.regex(bad.stderr, /MAINTENANCE_REINDEX_WEEKDAY must be 1\.\.7 \(got '8'\)/);

  const down = await scripts.run("database-maintenance.sh", env(t, "invalid_index", { PGPASSWORD: "wrong" }));
  t.not(down.code, 0);
  t.regex(down.stderr, /VACUUM \(ANALYZE\) of invalid_index failed/);
});

// ---- health-report.sh -----------------------------------------------------------------------------------------

test("the weekly health report goes to stdout and to S3, with the seed's counts fixed", async (t) => {
  const { s3, scripts } = t.context;
  const result = await scripts.run(
    "health-report.sh",
    env(t, CLINIC, {
      HEALTH_REPORT_COUNT_TABLES: "clinical_patients clinical_encounters patients",
      BACKUP_PREFIX: "database",
      KUBERNETES_BACKUP_PREFIX: "kubernetes-none",
      REPORT_PREFIX: "reports",
    }),
  );
  t.is(result.code, 0, result.stderr);
  const report = result.stdout;
  t.regex(report, /^ZARISH SPHERE Health Report - \d{4}-\d{2}-\d{2} /);
  for (const section of [
    "Database",
    "Connections",
    "Record counts",
    "Largest tables",
    "Dead tuples",
    "Invalid indexes",
  ]) {
    t.regex(report, new RegExp(`^${section}`, "m"), section);
  }
  t.regex(report, /clinical_patients\s+\|\s+3000/);
  t.regex(report, /clinical_encounters\s+\|\s+4000/);
  t.regex(report, /patients\s+\|\s+absent/, "a missing table does not fail the report");
  t.regex(report, /pg_stat_statements is not installed/);
  t.regex(report, new RegExp(`database: newest s3://${BUCKET}/${t.context.backup.key}, \\d+h old`));
  t.regex(report, /kubernetes-none: NO BACKUP under/);
  t.notRegex(report, /ERROR/);

  const keys = await s3.keys(BUCKET, "reports/");
  t.is(keys.length, 1);
  t.regex(keys[0], /^reports\/\d{4}\/health-report_\d{8}_\d{6}\.txt$/);
  t.is((await s3.get(BUCKET, keys[0])).body.toString("utf8"), report);
});

// ---- backup-kubernetes.sh -------------------------------------------------------------------------------------

const KINDS = "namespaces deployments statefulsets daemonsets services configmaps persistentvolumeclaims";
const SECRETS_YAML =
  "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Secret\n  data:\n    password: c3VwZXItc2VjcmV0\n";

/** A stand-in kubectl: `get <kind> ...` prints a list of two items; FAKE_KUBECTL_FAIL=<kind> makes that kind fail. */
function fakeKubectl(dir: string): string {
  const bin = path.join(dir, "fake-kubectl-bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    path.join(bin, "kubectl"),
    `#!/usr/bin/env bash
set -eu
if [[ "$1" == version ]]; then echo "Client Version: v1.31.0"; exit 0; fi
[[ "$1" == get ]] || { echo "unexpected: $*" >&2; exit 2; }
kind=$2
if [[ "\${FAKE_KUBECTL_FAIL:-}" == "$kind" ]]; then echo "error: forbidden: $kind" >&2; exit 1; fi
if [[ "$kind" == secrets ]]; then printf '%s' '${SECRETS_YAML}'; exit 0; fi
printf 'apiVersion: v1\\nitems:\\n- apiVersion: v1\\n  kind: %s\\n  metadata: {name: a}\\n- apiVersion: v1\\n  kind: %s\\n  metadata: {name: b}\\nkind: List\\n' "$kind" "$kind"
`,
    { mode: 0o755 },
  );
  return bin;
}

async function rsaKey(dir: string, bits: number): Promise<{ privateKey: string; publicKey: string }> {
  const openssl = requireTool("openssl", "openssl");
  const privateKey = path.join(dir, `rsa-${bits}.pem`);
  const publicKey = path.join(dir, `rsa-${bits}.pub.pem`);
  await run(openssl, ["genpkey", "-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${bits}`, "-out", privateKey]);
  await run(openssl, ["pkey", "-in", privateKey, "-pubout", "-out", publicKey]);
  return { privateKey, publicKey };
}

test("the Kubernetes object backup uploads YAML per kind and Secrets only the private key can read", async (t) => {
  const { s3, scripts, dir } = t.context;
  const work = mkdtempSync(path.join(dir, "k8s-"));
  const keys = await rsaKey(work, 3072);
  const result = await scripts.run(
    "backup-kubernetes.sh",
    {
      ...s3.env,
      BACKUP_BUCKET: BUCKET,
      BACKUP_PREFIX: "kubernetes",
      BACKUP_KINDS: KINDS,
      SECRETS_PUBLIC_KEY_FILE: keys.publicKey,
    },
    { pathPrepend: [fakeKubectl(work)] },
  );
  t.is(result.code, 0, result.stderr);
  const key = lastLine(result.stdout);
  t.regex(key, /^kubernetes\/\d{4}\/\d{2}\/kubernetes_\d{8}_\d{6}\.tar\.gz$/);
  t.deepEqual(result.leftovers, []);

  const object = await s3.get(BUCKET, key);
  t.is(object.metadata.sha256, sha256(object.body));
  const extracted = path.join(work, "extracted");
  mkdirSync(extracted);
  writeFileSync(path.join(work, "archive.tar.gz"), object.body);
  await run("tar", ["-xzf", path.join(work, "archive.tar.gz"), "-C", extracted]);
  for (const kind of KINDS.split(" ")) {
    t.regex(readFileSync(path.join(extracted, `${kind}.yaml`), "utf8"), new RegExp(`kind: ${kind}\\n`), kind);
  }
  const manifest = readFileSync(path.join(extracted, "MANIFEST"), "utf8");
  t.regex(manifest, /^deployments\.yaml: 2 items$/m);
  t.regex(manifest, /^kubectl: Client Version: v1\.31\.0$/m);

  const encrypted = readFileSync(path.join(extracted, "secrets.yaml.enc"));
  t.false(encrypted.includes("c3VwZXItc2VjcmV0"), "no plain-text secret in the archive");
  // Decryption exactly as docs/runbooks/restore-kubernetes-objects.md describes it.
  const openssl = requireTool("openssl", "openssl");
  const dataKey = path.join(work, "data.key");
  await run(openssl, [
    "pkeyutl",
    "-decrypt",
    "-inkey",
    keys.privateKey,
    "-pkeyopt",
    "rsa_padding_mode:oaep",
    "-pkeyopt",
    "rsa_oaep_md:sha256",
    "-pkeyopt",
    "rsa_mgf1_md:sha256",
    "-in",
    path.join(extracted, "secrets.key.enc"),
    "-out",
    dataKey,
  ]);
  const { stdout } = await run(openssl, [
    "enc",
    "-d",
    "-aes-256-cbc",
    "-pbkdf2",
    "-iter",
    "100000",
    "-pass",
    `file:${dataKey}`,
    "-in",
    path.join(extracted, "secrets.yaml.enc"),
  ]);
  t.is(stdout, SECRETS_YAML);
});

test("the Kubernetes object backup uploads nothing when kubectl fails, and refuses weak or missing keys", async (t) => {
  const { s3, scripts, dir } = t.context;
  const work = mkdtempSync(path.join(dir, "k8s-fail-"));
  const kubectl = fakeKubectl(work);
  const strong = await rsaKey(work, 2048);
  const weak = await rsaKey(work, 1024);
  const base = { ...s3.env, BACKUP_BUCKET: BUCKET, BACKUP_PREFIX: "kubernetes-failed", BACKUP_KINDS: KINDS };
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "kubectl fails",
      { SECRETS_PUBLIC_KEY_FILE: strong.publicKey, FAKE_KUBECTL_FAIL: "statefulsets" },
      /kubectl get statefulsets failed/,
    ],
    [
      "secrets fail",
      { SECRETS_PUBLIC_KEY_FILE: strong.publicKey, FAKE_KUBECTL_FAIL: "secrets" },
      /kubectl get secrets or its encryption failed/,
    ],
    ["weak key", { SECRETS_PUBLIC_KEY_FILE: weak.publicKey }, /1024-bit RSA key; at least 2048 bits/],
    ["not a key", { SECRETS_PUBLIC_KEY_FILE: path.join(work, "rsa-2048.pem.missing") }, /is not a PEM RSA public key/],
    ["no key", {}, /not set: SECRETS_PUBLIC_KEY_FILE/],
    ["plain secrets", { BACKUP_SECRETS: "false", BACKUP_KINDS: `${KINDS} secrets` }, /never in BACKUP_KINDS/],
  ];
  for (const [name, extra, message] of cases) {
    const result = await scripts.run("backup-kubernetes.sh", { ...base, ...extra }, { pathPrepend: [kubectl] });
    t.not(result.code, 0, name);
    t.regex(result.stderr, message, name);
    t.is(result.stdout, "", name);
    t.deepEqual(result.leftovers, [], name);
  }
  t.deepEqual(await s3.keys(BUCKET, "kubernetes-failed/"), []);

  const withoutSecrets = await scripts.run(
    "backup-kubernetes.sh",
    { ...base, BACKUP_PREFIX: "kubernetes-nosecrets", BACKUP_SECRETS: "false" },
    { pathPrepend: [kubectl] },
  );
  t.is(withoutSecrets.code, 0, withoutSecrets.stderr);
  const archive = path.join(work, "nosecrets.tar.gz");
  writeFileSync(archive, (await s3.get(BUCKET, lastLine(withoutSecrets.stdout))).body);
  const { stdout: listing } = await run("tar", ["-tzf", archive]);
  t.regex(listing, /deployments\.yaml/);
  t.notRegex(listing, /secrets/);
});
