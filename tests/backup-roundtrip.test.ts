/**
 * The database backup and restore scripts, as the ConfigMap mounts them, against a real PostgreSQL and an
 * S3-compatible server: a backup restores into an identical database, and every failure the seed's script hid
 * (a failed pg_dump, a failed upload, a truncated archive, a restore that breaks half-way) fails loudly and
 * leaves nothing half-done behind.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import anyTest, { type TestFn } from "ava";
import { lastLine, type RenderedScripts, renderScripts } from "./helpers/backup";
import { fingerprint, freePort, type PostgresServer, startPostgres } from "./helpers/postgres";
import { awsCli, type S3Server, startS3 } from "./helpers/s3";

const run = promisify(execFile);
const test = anyTest as TestFn<Context>;
const BUCKET = "zarish-backups";
const SOURCE = "zarish_sphere";
/** A small database for the tests about uploads, where the size of the dump does not matter. */
const SMALL = "small_source";
const SEED = path.join(__dirname, "fixtures", "backup", "seed.sql");
const KEY_PATTERN = /^(?<prefix>[a-z-]+)\/(?<y>\d{4})\/(?<m>\d{2})\/zarish_sphere_(?<stamp>\d{8}_\d{6})\.sql\.gz$/;

interface Context {
  pg: PostgresServer;
  s3: S3Server;
  scripts: RenderedScripts;
  /** The key and content of one good backup of SOURCE, taken once for the tests that need an archive. */
  backup: { key: string; body: Buffer; sha256: string };
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function env(t: { context: Context }, database: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...t.context.pg.env(database), ...t.context.s3.env, BACKUP_BUCKET: BUCKET, ...extra };
}

async function createDatabase(pg: PostgresServer, name: string): Promise<void> {
  await pg.psql("postgres", `CREATE DATABASE ${name}`);
}

/** Uploads `body` as a backup object with the given sha256 metadata (or none). */
function putObject(t: { context: Context }, key: string, body: Buffer, sha: string | undefined): Promise<void> {
  return t.context.s3.put(BUCKET, key, body, sha === undefined ? {} : { sha256: sha });
}

test.before(async (t) => {
  const pg = await startPostgres();
  let s3: S3Server | undefined;
  try {
    s3 = await startS3([BUCKET]);
    await pg.psql("postgres", "CREATE ROLE clinician NOLOGIN");
    await pg.psql("postgres", "CREATE ROLE limited LOGIN PASSWORD 'limited-pw'");
    await createDatabase(pg, SMALL);
    await pg.psql(
      SMALL,
      "CREATE TABLE t (id int PRIMARY KEY, note text); INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, 100) i",
    );
    await createDatabase(pg, SOURCE);
    await run(path.join(pg.binDir, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", SEED], {
      env: { PATH: process.env.PATH ?? "", ...pg.env(SOURCE) },
    });
  } catch (error) {
    await s3?.stop();
    await pg.stop();
    throw error;
  }
  const scripts = renderScripts(pg.binDir);
  t.context = { pg, s3, scripts, backup: { key: "", body: Buffer.alloc(0), sha256: "" } };
  const result = await scripts.run("backup-database.sh", env(t, SOURCE, { BACKUP_PREFIX: "fixture" }));
  if (result.code !== 0) throw new Error(`fixture backup failed: ${result.stderr}`);
  const key = lastLine(result.stdout);
  const { body } = await s3.get(BUCKET, key);
  t.context.backup = { key, body, sha256: sha256(body) };
});

test.after.always(async (t) => {
  t.context.scripts?.remove();
  await t.context.s3?.stop();
  await t.context.pg?.stop();
});

test("the source database holds tens of thousands of varied rows", async (t) => {
  const rows = await t.context.pg.psql(
    SOURCE,
    "SELECT (SELECT count(*) FROM clinical.patients) + (SELECT count(*) FROM clinical.encounters) + (SELECT count(*) FROM clinical.observations) + (SELECT count(*) FROM audit.events)",
  );
  t.true(Number(rows) >= 60_000, `only ${rows.trim()} rows`);
});

test("backup, then restore into a fresh database: the two databases are identical", async (t) => {
  const { pg, s3, scripts } = t.context;
  const backup = await scripts.run("backup-database.sh", env(t, SOURCE, { BACKUP_PREFIX: "database" }));
  t.is(backup.code, 0, backup.stderr);
  const key = lastLine(backup.stdout);
  const groups = KEY_PATTERN.exec(key)?.groups ?? {};
  t.is(groups.prefix, "database", `unexpected key ${key}`);
  t.is(`${groups.y}${groups.m}`, groups.stamp?.slice(0, 6), "folder and file name agree");
  t.deepEqual(await s3.keys(BUCKET, "database/"), [key]);
  t.deepEqual(backup.leftovers, [], "the staging directory is removed");

  // The object carries the sha256 of its content.
  const object = await s3.get(BUCKET, key);
  t.is(object.metadata.sha256, sha256(object.body));
  t.is(gunzipSync(object.body).subarray(0, 5).toString("latin1"), "PGDMP", "a pg_dump custom archive, gzipped");

  await createDatabase(pg, "restored_roundtrip");
  const restore = await scripts.run(
    "restore-database.sh",
    env(t, "restored_roundtrip", { BACKUP_PREFIX: "database", BACKUP_SOURCE_DATABASE: SOURCE }),
  );
  t.is(restore.code, 0, restore.stderr);
  t.is(lastLine(restore.stdout), key, "the newest backup was restored, and its key printed last");
  t.deepEqual(restore.leftovers, []);

  const [source, restored] = await Promise.all([fingerprint(pg, SOURCE), fingerprint(pg, "restored_roundtrip")]);
  t.is(restored.schema, source.schema);
  t.deepEqual(restored.tables, source.tables);
  t.true(Object.keys(source.tables).length >= 8, `tables compared: ${Object.keys(source.tables).join(", ")}`);
  t.is(restored.sequences, source.sequences);
  t.regex(source.sequences, /audit\.event_seq.*987689321/s, "the advanced sequence value is compared");
  t.is(restored.largeObjects, source.largeObjects);
  t.not(source.largeObjects.trim(), "");
});

test("the restore picks the newest backup of the database by the timestamp in its name", async (t) => {
  const { pg, scripts } = t.context;
  const { body, sha256: sha } = t.context.backup;
  await putObject(t, "newest/2000/01/zarish_sphere_20000101_000000.sql.gz", Buffer.from("old and broken"), sha);
  await putObject(t, "newest/2099/12/zarish_sphere_20991231_235959.sql.gz", body, sha);
  await putObject(t, "newest/2100/01/other_db_21000101_000000.sql.gz", Buffer.from("another database"), sha);
  await putObject(t, "newest/2101/01/zarish_sphere_21010101_000000.sql.gz.partial", Buffer.from("not a backup"), sha);

  await createDatabase(pg, "restored_newest");
  const restore = await scripts.run(
    "restore-database.sh",
    env(t, "restored_newest", { BACKUP_PREFIX: "newest", BACKUP_SOURCE_DATABASE: SOURCE }),
  );
  t.is(restore.code, 0, restore.stderr);
  t.is(lastLine(restore.stdout), "newest/2099/12/zarish_sphere_20991231_235959.sql.gz");

  // Without the database filter the newest backup of any database is chosen: here, a broken one, refused.
  await createDatabase(pg, "restored_any");
  const any = await scripts.run("restore-database.sh", env(t, "restored_any", { BACKUP_PREFIX: "newest" }));
  t.not(any.code, 0);
  t.regex(any.stderr, /other_db_21000101_000000\.sql\.gz/);
});

test("a truncated, corrupt or unverifiable archive is refused and the target left untouched", async (t) => {
  const { pg, scripts } = t.context;
  const { body, sha256: sha } = t.context.backup;
  await createDatabase(pg, "restore_target_kept");
  await pg.psql("restore_target_kept", "CREATE TABLE keep (id int); INSERT INTO keep VALUES (1), (2)");
  const before = await fingerprint(pg, "restore_target_kept");

  const half = body.subarray(0, Math.floor(body.length / 2));
  const archive = gunzipSync(body);
  // Valid gzip around an archive cut short: only reading the whole archive notices.
  const cut = gzipSync(archive.subarray(0, Math.floor(archive.length * 0.8)));
  const notADump = gzipSync(Buffer.from("SELECT 1;\n"));
  const cases: [string, Buffer, string | undefined, RegExp][] = [
    ["truncated", half, sha256(half), /not a valid gzip stream/],
    ["checksum", half, sha, /checksum mismatch/],
    ["cut-dump", cut, sha256(cut), /not a complete pg_dump archive/],
    ["not-a-dump", notADump, sha256(notADump), /not a complete pg_dump archive/],
    ["no-metadata", body, undefined, /no sha256 metadata/],
  ];
  for (const [name, content, checksum, message] of cases) {
    const key = `refused/2024/01/${name}_20240101_000000.sql.gz`;
    await putObject(t, key, content, checksum);
    const result = await scripts.run("restore-database.sh", env(t, "restore_target_kept", { BACKUP_KEY: key }));
    t.not(result.code, 0, name);
    t.regex(result.stderr, message, name);
    t.is(result.stdout, "", name);
    t.deepEqual(result.leftovers, [], name);
  }
  const missing = await scripts.run(
    "restore-database.sh",
    env(t, "restore_target_kept", { BACKUP_KEY: "refused/2024/01/absent_20240101_000000.sql.gz" }),
  );
  t.not(missing.code, 0);
  t.regex(missing.stderr, /download of .* failed/);
  t.deepEqual(await fingerprint(pg, "restore_target_kept"), before);
});

test("a restore into a database that is not empty is refused before it starts", async (t) => {
  const { pg, scripts } = t.context;
  await createDatabase(pg, "restore_target_busy");
  await pg.psql("restore_target_busy", "CREATE TABLE existing (id int)");
  const result = await scripts.run(
    "restore-database.sh",
    env(t, "restore_target_busy", { BACKUP_KEY: t.context.backup.key }),
  );
  t.not(result.code, 0);
  t.regex(result.stderr, /is not empty \(1 relations\)/);
  t.is(
    await pg.psql(
      "restore_target_busy",
      "SELECT string_agg(relname, ',') FROM pg_class WHERE relnamespace = 'public'::regnamespace",
    ),
    "existing\n",
  );
});

test("a restore that fails half-way is rolled back: the target stays empty", async (t) => {
  const { pg, scripts } = t.context;
  // A database whose last restore step (its grants, after every table, row and large object) will fail: the
  // grantee role is dropped after the backup.
  await pg.psql("postgres", "CREATE ROLE vanishing NOLOGIN");
  await createDatabase(pg, "halfway_source");
  await pg.psql(
    "halfway_source",
    "CREATE TABLE records (id int PRIMARY KEY, body text); INSERT INTO records SELECT i, md5(i::text) FROM generate_series(1, 5000) i; SELECT lo_from_bytea(0, 'blob'); GRANT SELECT ON records TO vanishing",
  );
  const backup = await scripts.run("backup-database.sh", env(t, "halfway_source", { BACKUP_PREFIX: "halfway" }));
  t.is(backup.code, 0, backup.stderr);
  await pg.psql("postgres", "DROP DATABASE halfway_source");
  await pg.psql("postgres", "DROP ROLE vanishing");

  await createDatabase(pg, "restore_target_halfway");
  const result = await scripts.run(
    "restore-database.sh",
    env(t, "restore_target_halfway", { BACKUP_KEY: lastLine(backup.stdout) }),
  );
  t.not(result.code, 0);
  t.regex(result.stderr, /role "vanishing" does not exist/);
  t.regex(result.stderr, /rolled back/);
  t.is(result.stdout, "");
  const relations = await pg.psql(
    "restore_target_halfway",
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'",
  );
  t.is(relations.trim(), "0", "no table survived");
  t.is((await pg.psql("restore_target_halfway", "SELECT count(*) FROM pg_largeobject_metadata")).trim(), "0");
});

test("a dump that fails exits non-zero and uploads nothing", async (t) => {
  const { scripts, s3 } = t.context;
  const closedPort = String(await freePort());
  const cases: [string, Record<string, string>, RegExp][] = [
    ["wrong password", { PGPASSWORD: "not-the-password" }, /password authentication failed/],
    ["unreachable host", { PGPORT: closedPort }, /Connection refused|could not connect/],
    // Connects, then may not read the tables: the seed's `pg_dump | gzip` turned this into a valid, empty .gz.
    ["permission denied half-way", { PGUSER: "limited", PGPASSWORD: "limited-pw" }, /permission denied/],
    ["missing database", { PGDATABASE: "no_such_database" }, /does not exist/],
  ];
  for (const [name, override, message] of cases) {
    const prefix = `failed-dump-${name.replace(/\W+/g, "-")}`;
    const result = await scripts.run("backup-database.sh", {
      ...env(t, SOURCE, { BACKUP_PREFIX: prefix }),
      ...override,
    });
    t.not(result.code, 0, name);
    t.regex(result.stderr, message, name);
    t.regex(result.stderr, /nothing uploaded/, name);
    t.is(result.stdout, "", `${name}: no key printed`);
    t.deepEqual(await s3.keys(BUCKET, `${prefix}/`), [], `${name}: bucket untouched`);
    t.deepEqual(result.leftovers, [], name);
  }
});

test("an upload that fails exits non-zero and prints no key", async (t) => {
  const { scripts } = t.context;
  const wrongBucket = await scripts.run(
    "backup-database.sh",
    env(t, SMALL, { BACKUP_PREFIX: "upload", BACKUP_BUCKET: "no-such-bucket" }),
  );
  t.not(wrongBucket.code, 0);
  t.regex(wrongBucket.stderr, /NoSuchBucket/);
  t.regex(wrongBucket.stderr, /upload to s3:\/\/no-such-bucket\/upload\/.* failed/);
  t.is(wrongBucket.stdout, "");

  const serverDown = await scripts.run(
    "backup-database.sh",
    env(t, SMALL, {
      BACKUP_PREFIX: "upload",
      S3_ENDPOINT_URL: `http://127.0.0.1:${await freePort()}`,
      AWS_MAX_ATTEMPTS: "1",
    }),
  );
  t.not(serverDown.code, 0);
  t.regex(serverDown.stderr, /upload to .* failed/);
  t.is(serverDown.stdout, "");
  t.deepEqual(await t.context.s3.keys(BUCKET, "upload/"), []);
  t.deepEqual(serverDown.leftovers, []);
});

test("KMS_KEY_ID asks for SSE-KMS with that key on upload", async (t) => {
  const { scripts, s3 } = t.context;
  // A wrapper first on PATH records the CLI's arguments, then runs the real CLI.
  const bin = path.join(s3.dir, "wrapper-bin");
  const argsFile = path.join(s3.dir, "aws-args");
  const realAws = awsCli();
  await run("mkdir", ["-p", bin]);
  writeFileSync(path.join(bin, "aws"), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argsFile}'\nexec '${realAws}' "$@"\n`, {
    mode: 0o755,
  });
  const result = await scripts.run(
    "backup-database.sh",
    env(t, SMALL, { BACKUP_PREFIX: "kms", KMS_KEY_ID: "alias/zarish-backups" }),
    {
      pathPrepend: [bin],
    },
  );
  t.is(result.code, 0, result.stderr);
  const args = readFileSync(argsFile, "utf8").split("\n");
  const sse = args.indexOf("--sse");
  t.not(sse, -1, args.join(" "));
  t.deepEqual(args.slice(sse, sse + 4), ["--sse", "aws:kms", "--sse-kms-key-id", "alias/zarish-backups"]);
  t.true(args.includes("--endpoint-url"));
});

test("missing configuration fails before anything runs, naming every missing variable", async (t) => {
  const result = await t.context.scripts.run("backup-database.sh", {});
  t.not(result.code, 0);
  t.regex(result.stderr, /not set: PGDATABASE BACKUP_BUCKET BACKUP_PREFIX/);
  const restore = await t.context.scripts.run("restore-database.sh", { PGDATABASE: "x", BACKUP_BUCKET: BUCKET });
  t.not(restore.code, 0);
  t.regex(restore.stderr, /not set: BACKUP_PREFIX/);
});
