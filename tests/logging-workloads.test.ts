/** Defaults and validation of every logging workload: pure resolve*Args functions, no engine. */
import test from "ava";
import { images, resources } from "../components/k8s";
import { resolveBootstrapSnapshots } from "../components/logging/bootstrap";
import {
  type ElasticsearchArgs,
  elasticsearchConfigFiles,
  resolveElasticsearchArgs,
} from "../components/logging/elasticsearch";
import { exporterArgs, resolveElasticsearchExporterArgs } from "../components/logging/exporter";
import { resolveFilebeatArgs } from "../components/logging/filebeat";
import { resolveKibanaArgs } from "../components/logging/kibana";
import { type LoggingArgs, resolveLoggingArgs } from "../components/logging/logging";
import { type LogstashArgs, logstashVolumeNeed, resolveLogstashArgs } from "../components/logging/logstash";
import { testConfig } from "./helpers/config";

const esProd: ElasticsearchArgs = {
  namespace: "logging",
  environment: "prod",
  replicas: 3,
  heapSize: "2g",
  memoryLimit: "4Gi",
  cpuRequest: "1",
  cpuLimit: "2",
  storageClass: "gp3",
  storageSize: "100Gi",
};

test("Elasticsearch defaults: pinned image, required anti-affinity in prod, preferred in staging, green readiness with replicas", (t) => {
  t.deepEqual(resolveElasticsearchArgs(esProd), {
    ...esProd,
    antiAffinity: "required",
    snapshotRegion: undefined,
    image: images.elasticsearch,
    readinessHealth: "green",
  });
  const staging = resolveElasticsearchArgs({
    ...esProd,
    environment: "staging",
    replicas: 1,
    heapSize: "1g",
    memoryLimit: "2Gi",
  });
  t.is(staging.antiAffinity, "preferred");
  t.is(staging.readinessHealth, "yellow", "a one-node cluster never turns green");
  t.is(
    resolveElasticsearchArgs({ ...esProd, snapshots: { roleArn: "arn", region: "eu-west-1" } }).snapshotRegion,
    "eu-west-1",
  );
});

test("Elasticsearch config files: settings, bootstrap fragment and both scripts", (t) => {
  const files = elasticsearchConfigFiles(resolveElasticsearchArgs(esProd));
  t.deepEqual(Object.keys(files).sort(), [
    "elasticsearch.yml",
    "initial-master-nodes.yml",
    "prepare-config.sh",
    "readiness.sh",
  ]);
  t.true(files["readiness.sh"].includes("wait_for_status=green"));
  t.true(files["initial-master-nodes.yml"].includes("elasticsearch-2"));
});

const esProblems: [string, Partial<ElasticsearchArgs>, RegExp][] = [
  ["replicas >= 3 in prod", { replicas: 1 }, /replicas must be >= 3 in prod \(got 1\)/],
  ["no two-node cluster", { environment: "staging", replicas: 2 }, /must not be 2: two master-eligible nodes/],
  ["positive replicas", { replicas: 0 }, /replicas must be a positive integer \(got 0\)/],
  [
    "required anti-affinity in prod",
    { antiAffinity: "preferred" },
    /antiAffinity must be "required" in prod \(got "preferred"\)/,
  ],
  ["heap format", { heapSize: "2GB" }, /heapSize must be a JVM size like "2g" \(got "2GB"\)/],
  ["heap ceiling", { heapSize: "32g", memoryLimit: "64Gi" }, /heapSize must be <= 31g \(got "32g"\)/],
  ["memory limit >= 2x heap", { memoryLimit: "3Gi" }, /memoryLimit must be at least twice the heap \(2g\).*got "3Gi"/],
  ["memory limit format", { memoryLimit: "lots" }, /memoryLimit must be a Kubernetes quantity \(got "lots"\)/],
  ["cpu format", { cpuRequest: "one" }, /cpuRequest must be a Kubernetes quantity \(got "one"\)/],
  ["cpu limit >= request", { cpuRequest: "2", cpuLimit: "1" }, /cpuLimit must be >= cpuRequest \(got 1 < 2\)/],
  ["storage size", { storageSize: "big" }, /storageSize must be a positive Kubernetes quantity \(got "big"\)/],
  ["storage class", { storageClass: " " }, /storageClass must not be empty/],
];
for (const [rule, change, message] of esProblems) {
  test(`Elasticsearch validation: ${rule}`, (t) => {
    t.throws(() => resolveElasticsearchArgs({ ...esProd, ...change }), { message });
  });
}

test("Elasticsearch validation reports every problem at once", (t) => {
  const error = t.throws(() =>
    resolveElasticsearchArgs({ ...esProd, replicas: 1, memoryLimit: "1Gi", storageSize: "x" }),
  );
  t.regex(error.message, /replicas must be >= 3.*memoryLimit must be at least twice.*storageSize/);
});

const logstash: LogstashArgs = {
  namespace: "logging",
  elasticsearchUrl: "https://elasticsearch.logging.svc:9200",
  replicas: 2,
  queueSize: "8gb",
  storageSize: "20Gi",
  storageClass: "gp3",
};

test("Logstash defaults: 1g heap, 2 workers, DLQ a tenth of the queue, both audit sources, pinned image", (t) => {
  t.deepEqual(resolveLogstashArgs(logstash), {
    namespace: "logging",
    elasticsearchUrl: "https://elasticsearch.logging.svc:9200",
    replicas: 2,
    queueMaxBytes: "8192mb",
    deadLetterQueueMaxBytes: "819mb",
    storageSize: "20Gi",
    storageClass: "gp3",
    auditSources: ["zarish-sphere-api", "zarish-sphere-fhir"],
    heapSize: "1g",
    workers: 2,
    compute: resources("500m", "2Gi", "2", "2Gi"),
    image: images.logstash,
  });
  t.is(resolveLogstashArgs({ ...logstash, queueSize: "4Gi", storageSize: "10Gi" }).queueMaxBytes, "4096mb");
});

test("Logstash: both stacks' queue sizes fit their volumes", (t) => {
  for (const stack of ["staging", "prod"] as const) {
    const config = testConfig(stack).logging.logstash;
    t.notThrows(
      () => resolveLogstashArgs({ ...logstash, queueSize: config.queueSize, storageSize: config.storageSize }),
      stack,
    );
  }
  t.is(logstashVolumeNeed(2 ** 30, 2 ** 27), 2 * (2 ** 30 + 64 * 2 ** 20 + 2 ** 27 + 10 * 2 ** 20));
});

const logstashProblems: [string, Partial<LogstashArgs>, RegExp][] = [
  [
    "queues fit the volume",
    { queueSize: "16gb" },
    /storageSize "20Gi" cannot hold 2 pipelines' persisted queues of 16gb .*needs at least \d+Mi/,
  ],
  ["queue size format", { queueSize: "lots" }, /queueSize must be a byte size of at least 64mb.*got "lots"/],
  [
    "DLQ size format",
    { deadLetterQueueSize: "x" },
    /deadLetterQueueSize must be a byte size like "1024mb" \(got "x"\)/,
  ],
  ["replicas", { replicas: 0 }, /logstash.replicas must be a positive integer \(got 0\)/],
  ["heap under the limit", { heapSize: "2g" }, /memory limit must be at least 1.5x the heap 2g \(got "2Gi"\)/],
  ["audit sources", { auditSources: [] }, /auditSources must be non-empty service names/],
  ["workers", { workers: 0 }, /workers must be a positive integer \(got 0\)/],
  ["storage class", { storageClass: "" }, /storageClass must not be empty/],
];
for (const [rule, change, message] of logstashProblems) {
  test(`Logstash validation: ${rule}`, (t) => {
    t.throws(() => resolveLogstashArgs({ ...logstash, ...change }), { message });
  });
}

test("Kibana defaults and validation", (t) => {
  const args = {
    namespace: "logging",
    elasticsearchUrl: "https://es:9200",
    publicHost: "kibana.zarishsphere.com",
    replicas: 2,
  };
  t.deepEqual(resolveKibanaArgs(args), {
    ...args,
    compute: resources("500m", "1Gi", "1", "2Gi"),
    image: images.kibana,
    heapMiB: 1536,
  });
  t.throws(() => resolveKibanaArgs({ ...args, replicas: 0 }), {
    message: /kibana.replicas must be a positive integer \(got 0\)/,
  });
  t.throws(() => resolveKibanaArgs({ ...args, publicHost: "https://kibana" }), {
    message: /kibana.host must be a DNS name/,
  });
  t.throws(() => resolveKibanaArgs({ ...args, compute: resources("1", "512Mi", "1", "512Mi") }), {
    message: /kibana memory limit must be at least 1Gi \(got "512Mi"\)/,
  });
});

test("Filebeat defaults and validation", (t) => {
  const endpoint = { namespace: "logging", service: "logstash", port: 5044, scheme: "tcp" as const, podSelector: {} };
  t.deepEqual(resolveFilebeatArgs({ namespace: "node-agents", environment: "prod", logstash: endpoint }), {
    namespace: "node-agents",
    environment: "prod",
    logstashHost: "logstash.logging.svc:5044",
    compute: resources("100m", "128Mi", "500m", "512Mi"),
    image: images.filebeat,
  });
  t.throws(
    () =>
      resolveFilebeatArgs({
        namespace: "node-agents",
        environment: "prod",
        logstash: { ...endpoint, scheme: "https" },
      }),
    {
      message: /must be a tcp \(Beats\) endpoint/,
    },
  );
});

test("exporter defaults: pinned image, all nodes, indices and snapshots, CA-verified", (t) => {
  const r = resolveElasticsearchExporterArgs({
    namespace: "logging",
    elasticsearchUrl: "https://elasticsearch.logging.svc:9200",
  });
  t.deepEqual(r.compute, resources("50m", "64Mi", "200m", "128Mi"));
  t.is(r.image, images.elasticsearchExporter);
  t.regex(r.image, /elasticsearch-exporter:v\d+\.\d+\.\d+$/);
  t.deepEqual(exporterArgs(r), [
    "--es.uri=https://elasticsearch.logging.svc:9200",
    "--es.all",
    "--es.indices",
    "--es.snapshots",
    "--es.timeout=30s",
    "--es.ca=/etc/elasticsearch/ca/ca.crt",
    "--web.listen-address=:9114",
  ]);
  t.false(
    exporterArgs(r).some((a) => a.includes("@")),
    "no credentials in the URI",
  );
});

test("bootstrap snapshot defaults and validation", (t) => {
  t.is(resolveBootstrapSnapshots(undefined), undefined);
  t.deepEqual(resolveBootstrapSnapshots({ bucket: "b" }), {
    basePath: "elasticsearch",
    retentionDays: 30,
    schedule: "0 30 1 * * ?",
  });
  t.throws(() => resolveBootstrapSnapshots({ bucket: "b", retentionDays: 0 }), {
    message: /snapshot retentionDays must be a positive integer \(got 0\)/,
  });
  t.throws(() => resolveBootstrapSnapshots({ bucket: "b", basePath: "/x" }), {
    message: /snapshot basePath is not a key prefix/,
  });
});

function loggingArgs(stack: "staging" | "prod", change: Partial<LoggingArgs> = {}): LoggingArgs {
  const config = testConfig(stack);
  return {
    namespace: "logging",
    agentsNamespace: "node-agents",
    environment: config.environment,
    config: config.logging,
    storageClass: config.kubernetes.storageClass,
    snapshots: undefined,
    ...change,
  };
}

test("Logging defaults: no clients, the CA goes to the agents' namespace and each client's", (t) => {
  t.deepEqual(resolveLoggingArgs(loggingArgs("prod")).caNamespaces, ["node-agents"]);
  t.deepEqual(resolveLoggingArgs(loggingArgs("prod")).clients, {});
  const withClients = resolveLoggingArgs(
    loggingArgs("prod", {
      clients: {
        grafana: { namespace: "monitoring", access: "logs-reader" },
        jaeger: { namespace: "monitoring", access: "jaeger-writer" },
      },
    }),
  );
  t.deepEqual(withClients.caNamespaces, ["node-agents", "monitoring"]);
});

const loggingProblems: [string, (a: LoggingArgs) => Partial<LoggingArgs>, RegExp][] = [
  [
    "audit retention >= 2192 days in prod",
    (a) => ({ config: { ...a.config, auditRetentionDays: 2191 } }),
    /auditRetentionDays must be >= 2192 \(six years, HIPAA\) in prod \(got 2191\)/,
  ],
  [
    "audit kept at least as long as logs",
    (a) => ({ config: { ...a.config, logRetentionDays: 3000, auditRetentionDays: 2192 } }),
    /auditRetentionDays must be >= logRetentionDays \(got 2192 < 3000\)/,
  ],
  [
    "positive log retention",
    (a) => ({ config: { ...a.config, logRetentionDays: 0 } }),
    /logRetentionDays must be a positive integer \(got 0\)/,
  ],
  ["namespace", () => ({ namespace: "Logging" }), /namespace must be a DNS-1123 label \(got "Logging"\)/],
  [
    "reserved client name",
    () => ({ clients: { kibana_system: { namespace: "monitoring", access: "logs-reader" } } }),
    /"kibana_system" is reserved/,
  ],
  [
    "client name format",
    () => ({ clients: { "Grafana!": { namespace: "monitoring", access: "logs-reader" } } }),
    /client user name must be lowercase/,
  ],
  [
    "client outside the stack",
    () => ({ clients: { grafana: { namespace: "logging", access: "logs-reader" } } }),
    /clients run outside the logging namespace/,
  ],
];
for (const [rule, change, message] of loggingProblems) {
  test(`Logging validation: ${rule}`, (t) => {
    const args = loggingArgs("prod");
    t.throws(() => resolveLoggingArgs({ ...args, ...change(args) }), { message });
  });
}

test("staging may keep audit logs shorter (the six-year floor is prod's)", (t) => {
  const args = loggingArgs("staging");
  t.notThrows(() =>
    resolveLoggingArgs({ ...args, config: { ...args.config, auditRetentionDays: 30, logRetentionDays: 14 } }),
  );
});
