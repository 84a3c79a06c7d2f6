/**
 * A real, throw-away PostgreSQL server for the backup tests: initdb into a temporary folder, started with pg_ctl
 * on a free port of 127.0.0.1 (password authentication, scram-sha-256) and a unix socket in the same folder.
 * PostgreSQL refuses to run as root, so when the tests run as root the server runs as `nobody` (setpriv).
 */
import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { requireTool } from "./tools";

const run = promisify(execFile);
const NOBODY = 65534;

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The folder holding psql, pg_dump, ... of the same version as the server. */
  readonly binDir: string;
  /** libpq environment for `database` (TCP to 127.0.0.1, so the password is checked). */
  env(database: string): Record<string, string>;
  /** Runs SQL through psql (ON_ERROR_STOP, unaligned, tuples only) and returns stdout. */
  psql(database: string, sql: string): Promise<string>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  // The server's own folder (a PATH entry may be a symlink to it): psql and pg_dump of the same version.
  const initdb = realpathSync(requireTool("initdb", "postgresql"));
  const binDir = path.dirname(initdb);
  const pgCtl = path.join(binDir, "pg_ctl");
  const psqlBin = path.join(binDir, "psql");
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot
      ? [
          requireTool("setpriv", "util-linux"),
          [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", cmd, ...args],
        ]
      : [cmd, args];

  const dir = mkdtempSync(path.join(tmpdir(), "zarish-pg-"));
  const password = "roundtrip-Secret-1";
  writeFileSync(path.join(dir, "pwfile"), `${password}\n`);
  if (asRoot) {
    chownSync(dir, NOBODY, NOBODY);
    chownSync(path.join(dir, "pwfile"), NOBODY, NOBODY);
  }
  const data = path.join(dir, "data");
  const port = await freePort();
  await run(
    ...wrap(initdb, [
      "-D",
      data,
      "-U",
      "postgres",
      `--pwfile=${path.join(dir, "pwfile")}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--no-locale",
      "--no-sync",
    ]),
  );
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off`;
  await run(...wrap(pgCtl, ["-D", data, "-o", options, "-l", path.join(dir, "server.log"), "-w", "start"]));

  const env = (database: string): Record<string, string> => ({
    PGHOST: "127.0.0.1",
    PGPORT: String(port),
    PGUSER: "postgres",
    PGPASSWORD: password,
    PGDATABASE: database,
    PGCONNECT_TIMEOUT: "5",
  });
  let stopped = false;
  return {
    host: "127.0.0.1",
    port,
    user: "postgres",
    password,
    binDir,
    env,
    async psql(database: string, sql: string): Promise<string> {
      const { stdout } = await run(psqlBin, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], {
        env: { PATH: process.env.PATH ?? "", ...env(database) },
        maxBuffer: 64 * 1024 * 1024,
      });
      return stdout;
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      try {
        await run(...wrap(pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** What makes two databases "the same" for the backup tests, each part comparable with deepEqual. */
export interface DatabaseFingerprint {
  /** pg_dump --schema-only, without the per-run \restrict keys. */
  readonly schema: string;
  /** "schema.table" -> "<md5 of the rows as text, in text order>:<row count>", tables and materialized views. */
  readonly tables: Record<string, string>;
  /** Every sequence's definition, last value and is_called. */
  readonly sequences: string;
  /** Large objects: oid and md5 of the content. */
  readonly largeObjects: string;
}

const FINGERPRINT_TABLES = `
SELECT format('%I.%I', n.nspname, c.relname),
       (xpath('/row/h/text()', query_to_xml(format(
          'SELECT md5(coalesce(string_agg(x::text, E''\\n'' ORDER BY x::text COLLATE "C"), '''')) || '':'' || count(*) AS h FROM %I.%I x',
          n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
ORDER BY 1`;

const FINGERPRINT_SEQUENCES = `
SELECT format('%I.%I', schemaname, sequencename), data_type, start_value, min_value, max_value, increment_by, cycle,
       cache_size, query_to_xml(format('SELECT last_value, is_called FROM %I.%I', schemaname, sequencename), false, true, '')
FROM pg_sequences ORDER BY 1`;

export async function fingerprint(server: PostgresServer, database: string): Promise<DatabaseFingerprint> {
  const { stdout: schema } = await run(path.join(server.binDir, "pg_dump"), ["--schema-only", "--no-password"], {
    env: { PATH: process.env.PATH ?? "", ...server.env(database) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const tables: Record<string, string> = {};
  for (const line of (await server.psql(database, FINGERPRINT_TABLES)).split("\n").filter(Boolean)) {
    const [name, hash] = line.split("|");
    tables[name] = hash;
  }
  return {
    schema: schema.replace(/^\\(un)?restrict .*$/gm, ""),
    tables,
    sequences: await server.psql(database, FINGERPRINT_SEQUENCES),
    largeObjects: await server.psql(database, "SELECT oid, md5(lo_get(oid)) FROM pg_largeobject_metadata ORDER BY oid"),
  };
}
