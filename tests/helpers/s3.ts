/**
 * An S3-compatible server for the backup tests (the npm package s3rver, in this process, on a free port), and the
 * AWS CLI configured for it with dummy credentials. Scripts under test must be run asynchronously (the server
 * answers from this process's event loop).
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { requireTool } from "./tools";

const run = promisify(execFile);

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3rver = require("s3rver") as new (options: Record<string, unknown>) => S3rverInstance;

/**
 * The AWS CLI executable. A pyenv shim costs half a second per call (it starts bash and pyenv first); the
 * scripts call the CLI several times per run, so the tests put the real executable's folder on PATH.
 */
export function awsCli(): string {
  const found = requireTool("aws", "awscli");
  if (!found.includes("/.pyenv/shims/")) return found;
  try {
    return execFileSync("pyenv", ["which", "aws"], { encoding: "utf8" }).trim() || found;
  } catch {
    return found;
  }
}

/** An object as the tests read or write it directly (anonymous HTTP: s3rver accepts unsigned requests). */
export interface S3Object {
  readonly body: Buffer;
  /** x-amz-meta-* headers, without the prefix. */
  readonly metadata: Record<string, string>;
}

export interface S3Server {
  readonly endpoint: string;
  /** The directory the AWS CLI uses as HOME and config folder. */
  readonly dir: string;
  /** Environment for the AWS CLI (credentials, config file, region) plus S3_ENDPOINT_URL. */
  readonly env: Record<string, string>;
  /** Runs `aws --endpoint-url <server> ...args` and returns stdout. */
  aws(...args: string[]): Promise<string>;
  /** Every key in `bucket` under `prefix` (at most 1000). */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** Writes an object directly (fast: no CLI start-up), with the given user metadata. */
  put(bucket: string, key: string, body: Buffer, metadata?: Record<string, string>): Promise<void>;
  /** Reads an object directly; throws if it does not exist. */
  get(bucket: string, key: string): Promise<S3Object>;
  stop(): Promise<void>;
}

export async function startS3(buckets: readonly string[]): Promise<S3Server> {
  const awsBin = awsCli();
  const dir = mkdtempSync(path.join(tmpdir(), "zarish-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: path.join(dir, "data"),
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // Path-style addressing (no per-bucket host names on 127.0.0.1), and checksums only where S3 requires them:
  // s3rver predates the CLI's default CRC trailers (botocore 1.36+), which real S3 accepts.
  writeFileSync(
    path.join(dir, "config"),
    [
      "[default]",
      "region = us-east-1",
      "request_checksum_calculation = when_required",
      "response_checksum_validation = when_required",
      "s3 =",
      "  addressing_style = path",
      "",
    ].join("\n"),
  );
  const env = {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: path.join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_MAX_ATTEMPTS: "2",
    S3_ENDPOINT_URL: endpoint,
  };
  let stopped = false;
  const aws = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(awsBin, ["--endpoint-url", endpoint, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: dir, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  };
  return {
    endpoint,
    dir,
    env,
    aws,
    async keys(bucket: string, prefix = ""): Promise<string[]> {
      const response = await fetch(`${endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
      if (!response.ok) throw new Error(`listing ${bucket}/${prefix}: HTTP ${response.status}`);
      const xml = await response.text();
      const xmlText = (s: string) =>
        s
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&quot;/g, '"')
          .replace(/&amp;/g, "&");
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlText(m[1])).sort();
    },
    async put(bucket: string, key: string, body: Buffer, metadata: Record<string, string> = {}): Promise<void> {
      const headers: Record<string, string> = { "content-type": "application/gzip" };
      for (const [k, v] of Object.entries(metadata)) headers[`x-amz-meta-${k}`] = v;
      const response = await fetch(`${endpoint}/${bucket}/${objectPath(key)}`, { method: "PUT", body, headers });
      if (!response.ok) throw new Error(`PUT ${bucket}/${key}: HTTP ${response.status} ${await response.text()}`);
    },
    async get(bucket: string, key: string): Promise<S3Object> {
      const response = await fetch(`${endpoint}/${bucket}/${objectPath(key)}`);
      if (!response.ok) throw new Error(`GET ${bucket}/${key}: HTTP ${response.status}`);
      const metadata: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = value;
      });
      return { body: Buffer.from(await response.arrayBuffer()), metadata };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      try {
        await server.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function objectPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}
