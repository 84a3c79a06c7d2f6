import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { images, resources } from "../components/k8s";
import {
  NODE_EXPORTER_COMPUTE,
  NODE_EXPORTER_DISABLED_COLLECTORS,
  NodeExporter,
  resolveNodeExporterArgs,
} from "../components/monitoring/node-exporter";
import {
  PostgresExporter,
  type PostgresExporterArgs,
  resolvePostgresExporterArgs,
} from "../components/monitoring/postgres-exporter";
import {
  RedisExporter,
  type RedisExporterArgs,
  resolveRedisExporterArgs,
} from "../components/monitoring/redis-exporter";
import { runComponent, SECRET } from "./helpers/harness";
import { containerNamed, objectNamed, podSpecOf } from "./helpers/objects";
import { assertMonitoringInvariants, PLAIN_SECRETS } from "./monitoring-workloads.helpers";

test("node-exporter: sized exactly as the seed, /proc and /sys read-only, pinned, no host network or PID", async (t) => {
  const recorded = await runComponent(() => new NodeExporter("nodeexp-default", { namespace: "node-agents" }));
  await assertMonitoringInvariants(t, recorded);
  const ds = objectNamed(recorded, "DaemonSet", "node-exporter");
  t.is((ds.inputs.metadata as Record<string, string>).namespace, "node-agents");
  const container = containerNamed(ds, "node-exporter");
  // The seed: requests memory 128Mi / cpu 100m, limits memory 256Mi / cpu 200m.
  t.deepEqual(container.resources, {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "200m", memory: "256Mi" },
  });
  t.deepEqual(NODE_EXPORTER_COMPUTE, {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "200m", memory: "256Mi" },
  });
  t.is(container.image, images.nodeExporter);
  t.regex(container.image, /^quay\.io\/prometheus\/node-exporter:v\d+\.\d+\.\d+$/);
  t.deepEqual(container.ports, [{ name: "metrics", containerPort: 9100 }]);
  t.deepEqual(container.volumeMounts, [
    { name: "proc", mountPath: "/host/proc", readOnly: true },
    { name: "sys", mountPath: "/host/sys", readOnly: true },
  ]);
  t.deepEqual(container.args.slice(0, 3), [
    "--path.procfs=/host/proc",
    "--path.sysfs=/host/sys",
    "--web.listen-address=:9100",
  ]);
  t.false(container.args.some((a: string) => a.startsWith("--path.rootfs")));
  for (const collector of NODE_EXPORTER_DISABLED_COLLECTORS)
    t.true(container.args.includes(`--no-collector.${collector}`), collector);
  t.true(container.args.some((a: string) => a.startsWith("--collector.filesystem.mount-points-exclude=")));
  t.like(container.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65534,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
  });

  const pod = podSpecOf(ds);
  t.is(pod.hostNetwork, false);
  t.is(pod.hostPID, false);
  t.false(pod.automountServiceAccountToken);
  t.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
  // Exactly the seed's two host paths: the policy pack's node-exporter exemption lists these and no other.
  t.deepEqual(pod.volumes, [
    { name: "proc", hostPath: { path: "/proc", type: "Directory" } },
    { name: "sys", hostPath: { path: "/sys", type: "Directory" } },
  ]);
  const service = objectNamed(recorded, "Service", "node-exporter").inputs.spec as Record<string, any>;
  t.is(service.clusterIP, "None");
  t.deepEqual(service.ports, [{ name: "metrics", port: 9100, targetPort: "metrics" }]);
});

test("node-exporter with mountHostRoot: the node's / read-only at /host/root, every host path read-only", async (t) => {
  const recorded = await runComponent(
    () => new NodeExporter("nodeexp-readonly", { namespace: "node-agents", mountHostRoot: true }),
  );
  await assertMonitoringInvariants(t, recorded);
  const root = objectNamed(recorded, "DaemonSet", "node-exporter");
  t.true(containerNamed(root, "node-exporter").args.includes("--path.rootfs=/host/root"));
  t.deepEqual(podSpecOf(root).volumes.at(-1), { name: "root", hostPath: { path: "/", type: "Directory" } });
  t.deepEqual(containerNamed(root, "node-exporter").volumeMounts.at(-1), {
    name: "root",
    mountPath: "/host/root",
    readOnly: true,
    mountPropagation: "HostToContainer",
  });
  const ds = root;
  const hostVolumes = (podSpecOf(ds).volumes as { name: string; hostPath?: unknown }[])
    .filter((v) => v.hostPath !== undefined)
    .map((v) => v.name);
  const mounts = containerNamed(ds, "node-exporter").volumeMounts as { name: string; readOnly?: boolean }[];
  for (const name of hostVolumes) t.true(mounts.find((m) => m.name === name)?.readOnly, name);
});

test("node-exporter custom name, and invalid names rejected at once", async (t) => {
  let exporter: NodeExporter | undefined;
  const recorded = await runComponent(() => {
    exporter = new NodeExporter("nodeexp-custom", { namespace: "agents", name: "node-metrics" });
  });
  objectNamed(recorded, "DaemonSet", "node-metrics");
  t.deepEqual(exporter?.endpoint, {
    namespace: "agents",
    service: "node-metrics",
    port: 9100,
    scheme: "http",
    podSelector: { "app.kubernetes.io/name": "node-metrics", "app.kubernetes.io/instance": "node-metrics" },
  });
  const error = t.throws(() => resolveNodeExporterArgs({ namespace: "Agents", name: "node_exporter" }));
  t.is(
    error?.message,
    'NodeExporter: namespace must be a DNS-1123 label (got "Agents"); name must be a DNS-1123 label (got "node_exporter")',
  );
});

function postgresArgs(overrides: Partial<PostgresExporterArgs> = {}): PostgresExporterArgs {
  return {
    namespace: "monitoring",
    exporters: { postgresAddress: "postgres.zarish-data.svc:5432", postgresUser: "postgres_exporter" },
    password: pulumi.secret(PLAIN_SECRETS.postgresExporterPassword),
    ...overrides,
  };
}

test("postgres-exporter defaults: the seed's postgres-exporter:9187 target, connection from a Secret", async (t) => {
  let exporter: PostgresExporter | undefined;
  const recorded = await runComponent(() => {
    exporter = new PostgresExporter("pgexp-default", postgresArgs());
  });
  await assertMonitoringInvariants(t, recorded);
  t.deepEqual(objectNamed(recorded, "Secret", "postgres-exporter-connection").inputs.stringData, {
    DATA_SOURCE_URI: SECRET,
    DATA_SOURCE_USER: SECRET,
    DATA_SOURCE_PASS: SECRET,
  });
  const deployment = objectNamed(recorded, "Deployment", "postgres-exporter");
  const container = containerNamed(deployment, "postgres-exporter");
  t.is(container.image, images.postgresExporter);
  t.deepEqual(container.env, [
    {
      name: "DATA_SOURCE_URI",
      valueFrom: { secretKeyRef: { name: "postgres-exporter-connection", key: "DATA_SOURCE_URI" } },
    },
    {
      name: "DATA_SOURCE_USER",
      valueFrom: { secretKeyRef: { name: "postgres-exporter-connection", key: "DATA_SOURCE_USER" } },
    },
    {
      name: "DATA_SOURCE_PASS",
      valueFrom: { secretKeyRef: { name: "postgres-exporter-connection", key: "DATA_SOURCE_PASS" } },
    },
  ]);
  t.deepEqual(container.args, ["--web.listen-address=:9187", "--log.format=json"]);
  t.deepEqual(container.resources, {
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { cpu: "200m", memory: "128Mi" },
  });
  t.deepEqual(container.readinessProbe.tcpSocket, { port: "metrics" });
  t.false(podSpecOf(deployment).automountServiceAccountToken);
  t.deepEqual((objectNamed(recorded, "Service", "postgres-exporter").inputs.spec as Record<string, any>).ports, [
    { name: "metrics", port: 9187, targetPort: "metrics" },
  ]);
  t.like(exporter?.endpoint, { service: "postgres-exporter", port: 9187, namespace: "monitoring" });
  const r = resolvePostgresExporterArgs(postgresArgs());
  t.is(r.dataSourceUri, "postgres.zarish-data.svc:5432/postgres?sslmode=require");
  t.is(r.sslMode, "require");
  t.is(r.database, "postgres");
});

test("postgres-exporter custom: database, sslmode, compute", async (t) => {
  const r = resolvePostgresExporterArgs(
    postgresArgs({ database: "zarish", sslMode: "verify-full", compute: resources("100m", "128Mi", "500m", "256Mi") }),
  );
  t.is(r.dataSourceUri, "postgres.zarish-data.svc:5432/zarish?sslmode=verify-full");
  const recorded = await runComponent(
    () => new PostgresExporter("pgexp-custom", postgresArgs({ name: "pg-metrics", compute: r.compute })),
  );
  await assertMonitoringInvariants(t, recorded);
  t.deepEqual(containerNamed(objectNamed(recorded, "Deployment", "pg-metrics"), "postgres-exporter").resources.limits, {
    cpu: "500m",
    memory: "256Mi",
  });
});

const POSTGRES_INVALID: [string, Partial<PostgresExporterArgs>, string][] = [
  ["namespace", { namespace: "Mon" }, 'namespace must be a DNS-1123 label (got "Mon")'],
  ["name", { name: "pg exporter" }, 'name must be a DNS-1123 label (got "pg exporter")'],
  [
    "address",
    { exporters: { postgresAddress: "postgres.zarish-data.svc", postgresUser: "postgres_exporter" } },
    'monitoring.exporters.postgresAddress must be host:port (got "postgres.zarish-data.svc")',
  ],
  [
    "user",
    { exporters: { postgresAddress: "postgres:5432", postgresUser: "exporter;drop" } },
    'monitoring.exporters.postgresUser must be a PostgreSQL role name (got "exporter;drop")',
  ],
  ["database", { database: "db?sslmode=disable" }, 'database must be a database name (got "db?sslmode=disable")'],
  [
    "sslMode",
    { sslMode: "allow" as "require" },
    'sslMode must be one of disable, require, verify-ca, verify-full (got "allow")',
  ],
];
for (const [rule, overrides, message] of POSTGRES_INVALID) {
  test(`postgres-exporter rejects an invalid ${rule}`, (t) => {
    const error = t.throws(() => resolvePostgresExporterArgs(postgresArgs(overrides)));
    t.true(error?.message.startsWith("PostgresExporter: "), error?.message);
    t.true(error?.message.includes(message), error?.message);
  });
}

function redisArgs(overrides: Partial<RedisExporterArgs> = {}): RedisExporterArgs {
  return {
    namespace: "monitoring",
    exporters: { redisAddress: "redis://redis.zarish-data.svc:6379" },
    password: pulumi.secret(PLAIN_SECRETS.redisPassword),
    ...overrides,
  };
}

test("redis-exporter defaults: the seed's redis-exporter:9121 target, address and password from a Secret", async (t) => {
  const recorded = await runComponent(() => new RedisExporter("redisexp-default", redisArgs()));
  await assertMonitoringInvariants(t, recorded);
  t.deepEqual(objectNamed(recorded, "Secret", "redis-exporter-connection").inputs.stringData, {
    REDIS_ADDR: SECRET,
    REDIS_PASSWORD: SECRET,
  });
  const deployment = objectNamed(recorded, "Deployment", "redis-exporter");
  const container = containerNamed(deployment, "redis-exporter");
  t.is(container.image, images.redisExporter);
  t.deepEqual(container.env, [
    { name: "REDIS_ADDR", valueFrom: { secretKeyRef: { name: "redis-exporter-connection", key: "REDIS_ADDR" } } },
    {
      name: "REDIS_PASSWORD",
      valueFrom: { secretKeyRef: { name: "redis-exporter-connection", key: "REDIS_PASSWORD" } },
    },
    { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: ":9121" },
    { name: "REDIS_EXPORTER_LOG_FORMAT", value: "json" },
  ]);
  t.deepEqual(container.resources, {
    requests: { cpu: "25m", memory: "32Mi" },
    limits: { cpu: "100m", memory: "64Mi" },
  });
  t.like(podSpecOf(deployment).securityContext, { runAsUser: 59000, runAsNonRoot: true });
  t.is(container.livenessProbe.httpGet.path, "/health");
  t.deepEqual((objectNamed(recorded, "Service", "redis-exporter").inputs.spec as Record<string, any>).ports, [
    { name: "metrics", port: 9121, targetPort: "metrics" },
  ]);
});

test("redis-exporter custom: TLS address, compute and name", async (t) => {
  const recorded = await runComponent(
    () =>
      new RedisExporter(
        "redisexp-custom",
        redisArgs({
          name: "cache-metrics",
          exporters: { redisAddress: "rediss://redis.zarish-data.svc:6380" },
          compute: resources("50m", "64Mi", "200m", "128Mi"),
        }),
      ),
  );
  await assertMonitoringInvariants(t, recorded);
  t.deepEqual(containerNamed(objectNamed(recorded, "Deployment", "cache-metrics"), "redis-exporter").resources.limits, {
    cpu: "200m",
    memory: "128Mi",
  });
  t.is(
    resolveRedisExporterArgs(redisArgs({ exporters: { redisAddress: "rediss://redis.zarish-data.svc:6380" } })).address,
    "rediss://redis.zarish-data.svc:6380",
  );
});

const REDIS_INVALID: [string, Partial<RedisExporterArgs>, string][] = [
  ["namespace", { namespace: "mon/itoring" }, 'namespace must be a DNS-1123 label (got "mon/itoring")'],
  ["name", { name: "Redis" }, 'name must be a DNS-1123 label (got "Redis")'],
  [
    "address",
    { exporters: { redisAddress: "redis.zarish-data.svc:6379" } },
    'monitoring.exporters.redisAddress must be redis://host:port or rediss://host:port (got "redis.zarish-data.svc:6379")',
  ],
];
for (const [rule, overrides, message] of REDIS_INVALID) {
  test(`redis-exporter rejects an invalid ${rule}`, (t) => {
    const error = t.throws(() => resolveRedisExporterArgs(redisArgs(overrides)));
    t.true(error?.message.startsWith("RedisExporter: "), error?.message);
    t.true(error?.message.includes(message), error?.message);
  });
}
