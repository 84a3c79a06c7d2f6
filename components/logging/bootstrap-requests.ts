import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  applicationIndexTemplate,
  applicationLogPolicy,
  auditIndexTemplate,
  auditLogPolicy,
  ilmRequestBody,
  LIFECYCLE_NAMES,
  MANAGED_BY,
} from "./lifecycle";
import { INDICES, SNAPSHOT_REPOSITORY, USERS } from "./names";
import { ROLES, type UserSpec } from "./security-model";

/**
 * The requests the bootstrap Job sends to Elasticsearch, as typed data, and their rendering into the files of its
 * ConfigMap (requests.tsv plus one JSON body per request; see files/bootstrap.sh for the format). Every request
 * is idempotent (PUT of a named object, or a read), so the Job can run again on every change.
 */

export interface BootstrapRequest {
  /** Printed by the script before the request. */
  readonly description: string;
  readonly method: "GET" | "PUT" | "POST";
  /** Absolute API path, e.g. "/_ilm/policy/x". */
  readonly path: string;
  readonly body?: unknown;
  /** Environment variable holding a password the script adds to the body as "password" (never in the ConfigMap). */
  readonly passwordEnv?: string;
  /** A substring the response must contain: a verification after a write. */
  readonly expect?: string;
  /** A 404 answer is accepted (a guard on an object that may not exist yet). */
  readonly allowMissing?: boolean;
}

export interface SnapshotSettings {
  readonly bucket: string;
  /** Key prefix inside the bucket. */
  readonly basePath: string;
  /** Snapshots older than this are deleted by SLM retention (keeping at least minCount). */
  readonly retentionDays: number;
  /** SLM cron (Elasticsearch's Quartz syntax, UTC). */
  readonly schedule: string;
}

export interface BootstrapInput {
  /** Elasticsearch nodes, for replica counts. */
  readonly nodes: number;
  readonly logRetentionDays: number;
  readonly auditRetentionDays: number;
  /** Users to create or update (platform users and clients). */
  readonly users: readonly UserSpec[];
  /** Environment variable holding the kibana_system password. */
  readonly kibanaSystemPasswordEnv: string;
  readonly snapshots: SnapshotSettings | undefined;
}

export const SNAPSHOT_POLICY = "nightly-snapshots";

export function bootstrapRequests(input: BootstrapInput): BootstrapRequest[] {
  const requests: BootstrapRequest[] = [
    {
      description: "ILM policy of the application log indices",
      method: "PUT",
      path: `/_ilm/policy/${LIFECYCLE_NAMES.applicationPolicy}`,
      body: ilmRequestBody(applicationLogPolicy(input.logRetentionDays)),
    },
    {
      description: "ILM policy of the audit indices",
      method: "PUT",
      path: `/_ilm/policy/${LIFECYCLE_NAMES.auditPolicy}`,
      body: ilmRequestBody(auditLogPolicy(input.auditRetentionDays)),
    },
    {
      description: "index template of the application log indices",
      method: "PUT",
      path: `/_index_template/${LIFECYCLE_NAMES.applicationTemplate}`,
      body: applicationIndexTemplate({ nodes: input.nodes, retentionDays: input.logRetentionDays }),
    },
    {
      description: "guard: an existing audit template must be ours before it is replaced",
      method: "GET",
      path: `/_index_template/${LIFECYCLE_NAMES.auditTemplate}`,
      expect: `"managed_by":"${MANAGED_BY}"`,
      allowMissing: true,
    },
    {
      description: "index template of the audit indices",
      method: "PUT",
      path: `/_index_template/${LIFECYCLE_NAMES.auditTemplate}`,
      body: auditIndexTemplate({ nodes: input.nodes, retentionDays: input.auditRetentionDays }),
    },
    {
      description: "verify: a new audit index resolves to the audit retention policy",
      method: "POST",
      path: `/_index_template/_simulate_index/${INDICES.auditPrefix}2000-01-01`,
      expect: `"name":"${LIFECYCLE_NAMES.auditPolicy}"`,
    },
    ...Object.entries(ROLES).map(
      ([name, body]): BootstrapRequest => ({
        description: `role ${name}`,
        method: "PUT",
        path: `/_security/role/${name}`,
        body,
      }),
    ),
    ...input.users.map(
      (user): BootstrapRequest => ({
        description: `user ${user.username}`,
        method: "PUT",
        path: `/_security/user/${user.username}`,
        body: { roles: user.roles, full_name: user.fullName, metadata: { managed_by: MANAGED_BY } },
        passwordEnv: user.passwordEnv,
      }),
    ),
    {
      description: "password of the built-in kibana_system user",
      method: "POST",
      path: `/_security/user/${USERS.kibanaSystem}/_password`,
      body: {},
      passwordEnv: input.kibanaSystemPasswordEnv,
    },
  ];
  if (input.snapshots !== undefined) {
    requests.push(
      {
        description: `snapshot repository ${SNAPSHOT_REPOSITORY} (S3, verified by Elasticsearch)`,
        method: "PUT",
        path: `/_snapshot/${SNAPSHOT_REPOSITORY}`,
        body: {
          type: "s3",
          settings: { bucket: input.snapshots.bucket, base_path: input.snapshots.basePath, client: "default" },
        },
      },
      {
        description: `snapshot lifecycle policy ${SNAPSHOT_POLICY}`,
        method: "PUT",
        path: `/_slm/policy/${SNAPSHOT_POLICY}`,
        body: {
          schedule: input.snapshots.schedule,
          name: "<nightly-{now/d}>",
          repository: SNAPSHOT_REPOSITORY,
          // Every index and the cluster state with its feature states (security users and roles among them).
          config: { indices: ["*"], include_global_state: true },
          retention: { expire_after: `${input.snapshots.retentionDays}d`, min_count: 7, max_count: 200 },
        },
      },
    );
  }
  return requests;
}

/** ConfigMap keys: the script, the request list and one body file per request that has a body. */
export const BOOTSTRAP_SCRIPT_KEY = "bootstrap.sh";
export const BOOTSTRAP_LIST_KEY = "requests.tsv";

/** The bootstrap script, a real file in the repository (shellcheck-clean). */
export function bootstrapScript(): string {
  return readFileSync(path.join(__dirname, "files", BOOTSTRAP_SCRIPT_KEY), "utf8");
}

/** "/_ilm/policy/zarish-audit-retention" -> "ilm-policy-zarish-audit-retention". */
function bodySlug(apiPath: string): string {
  return apiPath
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** Renders the requests into the files the script reads. Throws on a field that would break the list format. */
export function bootstrapFiles(requests: readonly BootstrapRequest[]): Record<string, string> {
  const files: Record<string, string> = {};
  const lines = ["# method\tpath\tbody\tpassword-env\texpect\tallow-missing\tdescription"];
  requests.forEach((request, index) => {
    // A readable key (e.g. 002-ilm-policy-zarish-audit-retention.json): the offline plan's files/ and the policy
    // pack's audit retention check find the audit ILM policy by name.
    const bodyKey =
      request.body === undefined ? "-" : `${String(index + 1).padStart(3, "0")}-${bodySlug(request.path)}.json`;
    if (request.body !== undefined) files[bodyKey] = JSON.stringify(request.body);
    if (request.passwordEnv !== undefined && !(typeof request.body === "object" && request.body !== null)) {
      throw new Error(`bootstrap request ${request.path}: a password needs a JSON object body`);
    }
    const fields = [
      request.method,
      request.path,
      bodyKey,
      request.passwordEnv ?? "-",
      request.expect ?? "-",
      request.allowMissing === true ? "yes" : "-",
      request.description,
    ];
    for (const field of fields) {
      if (field === "" || /[\t\n\r]/.test(field)) {
        throw new Error(`bootstrap request ${request.path}: field "${field}" is empty or holds a tab or newline`);
      }
    }
    lines.push(fields.join("\t"));
  });
  files[BOOTSTRAP_LIST_KEY] = `${lines.join("\n")}\n`;
  return files;
}
