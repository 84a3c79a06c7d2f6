/**
 * The bootstrap script (components/logging/files/bootstrap.sh), shellcheck-clean and run for real with `sh`
 * and `curl` against a small HTTP server standing in for Elasticsearch and the Kubernetes API: it proves the
 * requests sent are the typed bodies, passwords come from the environment only, the guard and the verification
 * stop a wrong cluster, and the CA reaches the client namespaces.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import test from "ava";
import { bootstrapFiles, bootstrapRequests, bootstrapScript } from "../components/logging/bootstrap-requests";
import { auditIndexTemplate, auditLogPolicy, ilmRequestBody } from "../components/logging/lifecycle";
import { clientUser, platformUsers } from "../components/logging/security-model";
import { requireTool } from "./helpers/tools";

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** Overrides of the fake cluster's answers, by "METHOD path-without-query". */
type Answers = Record<string, { status: number; body: string }>;

const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakefakefake\nQUJDREVGRw==\n-----END CERTIFICATE-----\n";
const PASSWORDS = {
  ELASTIC_PASSWORD: "ElasticPw123",
  PASSWORD_LOGSTASH_WRITER: "LogstashPw456",
  PASSWORD_METRICS_EXPORTER: "ExporterPw789",
  PASSWORD_GRAFANA: "GrafanaPw000",
  PASSWORD_KIBANA_SYSTEM: "KibanaPw111",
};

async function startFake(answers: Answers): Promise<{ server: Server; url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "";
      requests.push({
        method: req.method ?? "",
        url,
        authorization: req.headers.authorization,
        contentType: req.headers["content-type"],
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const key = `${req.method} ${url.split("?")[0]}`;
      const answer =
        answers[key] ??
        (key === "GET /_index_template/zarish-audit"
          ? { status: 404, body: '{"error":"index_template_missing_exception"}' }
          : key.startsWith("POST /_index_template/_simulate_index/")
            ? {
                status: 200,
                body: '{"template":{"settings":{"index":{"lifecycle":{"name":"zarish-audit-retention"}}}}}',
              }
            : { status: 200, body: '{"acknowledged":true}' });
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function run(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      [script],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Writes the ConfigMap's files and the service-account files to a temp dir, runs the script, stops the server. */
async function runBootstrap(answers: Answers = {}, envOverrides: Record<string, string> = {}) {
  requireTool("curl", "curl");
  const fake = await startFake(answers);
  const dir = mkdtempSync(path.join(tmpdir(), "logging-bootstrap-"));
  try {
    const requests = bootstrapRequests({
      nodes: 3,
      logRetentionDays: 90,
      auditRetentionDays: 2192,
      users: [...platformUsers(), clientUser("grafana", "logs-reader")],
      kibanaSystemPasswordEnv: "PASSWORD_KIBANA_SYSTEM",
      snapshots: undefined,
    });
    const configDir = path.join(dir, "config");
    const saDir = path.join(dir, "sa");
    for (const d of [configDir, saDir]) mkdirSync(d);
    for (const [name, content] of Object.entries({ ...bootstrapFiles(requests), "bootstrap.sh": bootstrapScript() })) {
      writeFileSync(path.join(configDir, name), content);
    }
    writeFileSync(path.join(dir, "ca.crt"), CA_PEM);
    writeFileSync(path.join(saDir, "token"), "service-account-token");
    writeFileSync(path.join(saDir, "ca.crt"), CA_PEM);
    const result = await run(path.join(configDir, "bootstrap.sh"), {
      ES_URL: fake.url,
      REQUESTS_DIR: configDir,
      CA_FILE: path.join(dir, "ca.crt"),
      CA_NAMESPACES: "monitoring node-agents",
      CA_CONFIGMAP: "logging-ca",
      KUBERNETES_API: fake.url,
      SA_DIR: saDir,
      WAIT_SECONDS: "20",
      TMPDIR: dir,
      ...PASSWORDS,
      ...envOverrides,
    });
    return { ...result, requests: fake.requests, typed: requests };
  } finally {
    fake.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

test("bootstrap.sh is shellcheck-clean (POSIX sh, as the curl image runs it)", async (t) => {
  const shellcheck = requireTool("shellcheck", "shellcheck");
  const dir = mkdtempSync(path.join(tmpdir(), "logging-shellcheck-"));
  try {
    writeFileSync(path.join(dir, "bootstrap.sh"), bootstrapScript());
    const result = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        shellcheck,
        ["--shell=sh", "--severity=style", path.join(dir, "bootstrap.sh")],
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: stdout + stderr }),
      ),
    );
    t.is(result.code, 0, result.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bootstrap.sh sends every typed request in order, as elastic, with passwords only from the environment", async (t) => {
  const { code, stderr, requests, typed } = await runBootstrap();
  t.is(code, 0, stderr);
  const es = requests.filter((r) => !r.url.startsWith("/api/"));
  t.is(es[0].url, "/_cluster/health?wait_for_status=yellow&timeout=5s");
  t.deepEqual(
    es.slice(1).map((r) => `${r.method} ${r.url}`),
    typed.map((r) => `${r.method} ${r.path}`),
  );
  for (const r of es) t.is(r.authorization, basic("elastic", PASSWORDS.ELASTIC_PASSWORD), `${r.method} ${r.url}`);
  const body = (p: string) => JSON.parse(es.find((r) => r.url === p && r.method !== "GET")?.body ?? "null");
  t.deepEqual(body("/_ilm/policy/zarish-audit-retention"), ilmRequestBody(auditLogPolicy(2192)));
  t.deepEqual(
    body("/_index_template/zarish-audit"),
    JSON.parse(JSON.stringify(auditIndexTemplate({ nodes: 3, retentionDays: 2192 }))),
  );
  t.deepEqual(body("/_security/user/logstash_writer"), {
    password: PASSWORDS.PASSWORD_LOGSTASH_WRITER,
    roles: ["logstash_writer"],
    full_name: "Logstash",
    metadata: { managed_by: "zarish-sphere-ops" },
  });
  t.is(body("/_security/user/grafana").password, PASSWORDS.PASSWORD_GRAFANA);
  t.deepEqual(body("/_security/user/kibana_system/_password"), { password: PASSWORDS.PASSWORD_KIBANA_SYSTEM });
  t.is(es.find((r) => r.method === "GET" && r.url === "/_index_template/zarish-audit")?.body, "");
});

test("bootstrap.sh publishes the CA to each client namespace with the service account token", async (t) => {
  const { code, stderr, requests } = await runBootstrap();
  t.is(code, 0, stderr);
  const patches = requests.filter((r) => r.url.startsWith("/api/"));
  t.deepEqual(
    patches.map((r) => `${r.method} ${r.url}`),
    [
      "PATCH /api/v1/namespaces/monitoring/configmaps/logging-ca",
      "PATCH /api/v1/namespaces/node-agents/configmaps/logging-ca",
    ],
  );
  for (const r of patches) {
    t.is(r.authorization, "Bearer service-account-token");
    t.is(r.contentType, "application/merge-patch+json");
    t.deepEqual(JSON.parse(r.body), { data: { "ca.crt": CA_PEM } });
  }
});

test("bootstrap.sh refuses to replace an audit template another owner wrote", async (t) => {
  const { code, stderr, requests } = await runBootstrap({
    "GET /_index_template/zarish-audit": {
      status: 200,
      body: '{"index_templates":[{"name":"zarish-audit","index_template":{"_meta":{"managed_by":"someone-else"}}}]}',
    },
  });
  t.not(code, 0);
  t.regex(stderr, /does not contain "managed_by":"zarish-sphere-ops"/);
  t.false(
    requests.some((r) => r.method === "PUT" && r.url === "/_index_template/zarish-audit"),
    "the template was overwritten",
  );
});

test("bootstrap.sh fails when a new audit index would not get the audit retention policy", async (t) => {
  const { code, stderr } = await runBootstrap({
    "POST /_index_template/_simulate_index/zarish-audit-2000-01-01": {
      status: 200,
      body: '{"template":{"settings":{"index":{"lifecycle":{"name":"someone-elses-policy"}}}}}',
    },
  });
  t.not(code, 0);
  t.regex(stderr, /does not contain "name":"zarish-audit-retention"/);
});

test("bootstrap.sh stops at the first refused request, naming it", async (t) => {
  const { code, stderr, requests } = await runBootstrap({
    "PUT /_security/role/logstash_writer": { status: 400, body: '{"error":"bad role"}' },
  });
  t.not(code, 0);
  t.regex(stderr, /PUT \/_security\/role\/logstash_writer answered HTTP 400: \{"error":"bad role"\}/);
  t.false(requests.some((r) => r.url.startsWith("/_security/user/")));
});

test("bootstrap.sh refuses a missing or non-alphanumeric password before sending it", async (t) => {
  const missing = await runBootstrap({}, { PASSWORD_GRAFANA: "" });
  t.not(missing.code, 0);
  t.regex(missing.stderr, /PASSWORD_GRAFANA must be a non-empty alphanumeric password/);
  t.false(missing.requests.some((r) => r.url === "/_security/user/grafana"));
  const quoted = await runBootstrap({}, { PASSWORD_GRAFANA: 'a"b' });
  t.not(quoted.code, 0);
  t.regex(quoted.stderr, /PASSWORD_GRAFANA must be a non-empty alphanumeric password/);
});

test("bootstrap.sh gives up when Elasticsearch never becomes available", async (t) => {
  const { code, stderr } = await runBootstrap(
    { "GET /_cluster/health": { status: 503, body: "{}" } },
    { WAIT_SECONDS: "0" },
  );
  t.not(code, 0);
  t.regex(stderr, /did not become available within 0s/);
});
