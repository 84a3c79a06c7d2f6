import test from "ava";
import { checksum, images, resources } from "../components/k8s";
import type { ElasticsearchClientAccess } from "../components/monitoring/common";
import {
  GRAFANA_DASHBOARDS_DIR,
  Grafana,
  type GrafanaArgs,
  grafanaEnv,
  providerPaths,
  resolveGrafanaArgs,
} from "../components/monitoring/grafana";
import { JAEGER_DEFAULTS, Jaeger, type JaegerArgs, resolveJaegerArgs } from "../components/monitoring/jaeger";
import { runComponent, SECRET } from "./helpers/harness";
import { containerNamed, objectNamed, objectsOfKind, podSpecOf } from "./helpers/objects";
import { assertMonitoringInvariants } from "./monitoring-workloads.helpers";

const DATASOURCES = { "datasources.yaml": "apiVersion: 1\ndatasources:\n  - name: Prometheus\n    type: prometheus\n" };
const ES_DATASOURCES = {
  "datasources.yaml": `apiVersion: 1\ndatasources:\n  - secureJsonData:\n      basicAuthPassword: ${"$"}{ES_PASSWORD}\n`,
};
const PROVIDERS = {
  "dashboards.yaml": `apiVersion: 1\nproviders:\n  - name: zarish-sphere\n    options:\n      path: ${GRAFANA_DASHBOARDS_DIR}\n`,
};
const DASHBOARDS = { "clinical.json": '{"uid":"clinical"}\n', "api.json": '{"uid":"api"}\n' };

function grafanaArgs(overrides: Partial<GrafanaArgs> = {}): GrafanaArgs {
  return {
    namespace: "monitoring",
    settings: { host: "grafana.staging.zarishsphere.com", storageSize: "10Gi" },
    storageClass: "gp3",
    datasources: DATASOURCES,
    dashboardProviders: PROVIDERS,
    dashboards: DASHBOARDS,
    ...overrides,
  };
}

test("Grafana defaults: one replica on its volume, generated admin password in a Secret, provisioning from ConfigMaps", async (t) => {
  const recorded = await runComponent(() => new Grafana("graf-default", grafanaArgs()));
  await assertMonitoringInvariants(t, recorded);

  const password = recorded.find((r) => r.type === "random:index/randomPassword:RandomPassword");
  t.is(password?.name, "graf-default-admin-password");
  t.like(password?.inputs, { length: 32, special: false });
  // The provider treats all of stringData as secret, the user name included.
  t.deepEqual(objectNamed(recorded, "Secret", "grafana-admin").inputs.stringData, {
    "admin-user": SECRET,
    "admin-password": SECRET,
  });

  t.deepEqual(objectNamed(recorded, "ConfigMap", "grafana-datasources").inputs.data, DATASOURCES);
  t.deepEqual(objectNamed(recorded, "ConfigMap", "grafana-dashboard-providers").inputs.data, PROVIDERS);
  t.deepEqual(objectNamed(recorded, "ConfigMap", "grafana-dashboards").inputs.data, DASHBOARDS);
  t.deepEqual(objectNamed(recorded, "PersistentVolumeClaim", "grafana-data").inputs.spec, {
    accessModes: ["ReadWriteOnce"],
    storageClassName: "gp3",
    resources: { requests: { storage: "10Gi" } },
  });

  const deployment = objectNamed(recorded, "Deployment", "grafana");
  const spec = deployment.inputs.spec as Record<string, any>;
  t.is(spec.replicas, 1);
  t.deepEqual(spec.strategy, { type: "Recreate" });
  t.is(spec.template.metadata.annotations["checksum/config"], checksum(DATASOURCES, PROVIDERS, DASHBOARDS));
  const pod = podSpecOf(deployment);
  t.false(pod.automountServiceAccountToken);
  t.like(pod.securityContext, { runAsNonRoot: true, runAsUser: 472, fsGroup: 472 });
  t.deepEqual(pod.volumes, [
    { name: "data", persistentVolumeClaim: { claimName: "grafana-data" } },
    { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    { name: "datasources", configMap: { name: "grafana-datasources" } },
    { name: "dashboard-providers", configMap: { name: "grafana-dashboard-providers" } },
    { name: "dashboards", configMap: { name: "grafana-dashboards" } },
  ]);
  const container = containerNamed(deployment, "grafana");
  t.is(container.image, images.grafana);
  t.deepEqual(container.resources, {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "500m", memory: "512Mi" },
  });
  t.is(container.readinessProbe.httpGet.path, "/api/health");
  const env = Object.fromEntries(
    (container.env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  );
  t.deepEqual(env, {
    GF_SERVER_DOMAIN: "grafana.staging.zarishsphere.com",
    GF_SERVER_ROOT_URL: "https://grafana.staging.zarishsphere.com/",
    GF_PATHS_DATA: "/var/lib/grafana",
    GF_PATHS_PROVISIONING: "/etc/grafana/provisioning",
    GF_LOG_MODE: "console",
    GF_USERS_ALLOW_SIGN_UP: "false",
    GF_AUTH_ANONYMOUS_ENABLED: "false",
    GF_SECURITY_COOKIE_SECURE: "true",
    GF_SECURITY_DISABLE_GRAVATAR: "true",
    GF_ANALYTICS_REPORTING_ENABLED: "false",
    GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
    GF_SECURITY_ADMIN_USER: { secretKeyRef: { name: "grafana-admin", key: "admin-user" } },
    GF_SECURITY_ADMIN_PASSWORD: { secretKeyRef: { name: "grafana-admin", key: "admin-password" } },
  });
  t.deepEqual(
    (container.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath),
    [
      "/var/lib/grafana",
      "/tmp",
      "/etc/grafana/provisioning/datasources",
      "/etc/grafana/provisioning/dashboards",
      GRAFANA_DASHBOARDS_DIR,
    ],
  );
  t.deepEqual((objectNamed(recorded, "Service", "grafana").inputs.spec as Record<string, any>).ports, [
    { name: "http", port: 3000, targetPort: "http" },
  ]);
});

test("Grafana custom: Elasticsearch credentials from Secrets as environment variables, compute, URL", async (t) => {
  let grafana: Grafana | undefined;
  const recorded = await runComponent(() => {
    grafana = new Grafana(
      "graf-custom",
      grafanaArgs({
        settings: { host: "grafana.zarishsphere.com", storageSize: "20Gi" },
        datasources: ES_DATASOURCES,
        elasticsearch: { password: { name: "es-grafana", key: "password" }, caCert: { name: "es-ca", key: "ca.crt" } },
        compute: resources("200m", "512Mi", "1", "1Gi"),
      }),
    );
  });
  await assertMonitoringInvariants(t, recorded);
  t.is(grafana?.url, "https://grafana.zarishsphere.com");
  t.like(grafana?.endpoint, { service: "grafana", port: 3000, scheme: "http" });
  const container = containerNamed(objectNamed(recorded, "Deployment", "grafana"), "grafana");
  const env = container.env as { name: string; valueFrom?: unknown }[];
  t.deepEqual(env.slice(-2), [
    { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: "es-grafana", key: "password" } } },
    { name: "ES_CA_CERT", valueFrom: { configMapKeyRef: { name: "es-ca", key: "ca.crt" } } },
  ]);
  t.deepEqual(container.resources.limits, { cpu: "1", memory: "1Gi" });
  t.is(
    (objectNamed(recorded, "PersistentVolumeClaim", "grafana-data").inputs.spec as any).resources.requests.storage,
    "20Gi",
  );
});

test("grafanaEnv and providerPaths are pure", (t) => {
  t.deepEqual(providerPaths(PROVIDERS["dashboards.yaml"]), [GRAFANA_DASHBOARDS_DIR]);
  t.is(grafanaEnv(resolveGrafanaArgs(grafanaArgs())).length, 13);
});

const GRAFANA_INVALID: [string, Partial<GrafanaArgs>, string][] = [
  ["namespace", { namespace: "mon.itoring" }, 'namespace must be a DNS-1123 label (got "mon.itoring")'],
  ["name", { name: "Grafana" }, 'name must be a DNS-1123 label (got "Grafana")'],
  [
    "host",
    { settings: { host: "https://grafana.example.org", storageSize: "10Gi" } },
    'monitoring.grafana.host must be a DNS name such as grafana.zarishsphere.com (got "https://grafana.example.org")',
  ],
  [
    "storageSize",
    { settings: { host: "grafana.example.org", storageSize: "ten" } },
    'monitoring.grafana.storageSize must be a Kubernetes quantity (got "ten")',
  ],
  ["storageClass", { storageClass: "" }, "kubernetes.storageClass must not be empty"],
  ["datasources", { datasources: {} }, "datasources must hold at least one provisioning file"],
  ["dashboards", { dashboards: {} }, "dashboards must hold at least one dashboard"],
  ["dashboard providers", { dashboardProviders: {} }, "dashboardProviders must hold at least one provider file"],
  [
    "provider path",
    { dashboardProviders: { "d.yaml": "providers:\n  - options:\n      path: /var/lib/grafana/dashboards\n" } },
    `a dashboard provider reads /var/lib/grafana/dashboards, but the dashboards are mounted at ${GRAFANA_DASHBOARDS_DIR}`,
  ],
  [
    "Elasticsearch secrets",
    { datasources: ES_DATASOURCES },
    "the data sources read ES_PASSWORD / ES_CA_CERT from the environment, but no elasticsearch Secret was given",
  ],
];
for (const [rule, overrides, message] of GRAFANA_INVALID) {
  test(`Grafana rejects an invalid ${rule}`, (t) => {
    const error = t.throws(() => resolveGrafanaArgs(grafanaArgs(overrides)));
    t.true(error?.message.startsWith("Grafana: "), error?.message);
    t.true(error?.message.includes(message), error?.message);
  });
}

const ES: ElasticsearchClientAccess = {
  endpoint: { namespace: "logging", service: "elasticsearch", port: 9200, scheme: "https", podSelector: {} },
  username: "jaeger-writer",
  password: { name: "es-jaeger", key: "password" },
  caCert: { name: "es-ca", key: "ca.crt" },
};

function jaegerArgs(overrides: Partial<JaegerArgs> = {}): JaegerArgs {
  return { namespace: "monitoring", settings: { mode: "all-in-one", retentionDays: 3 }, ...overrides };
}

test("Jaeger defaults (all-in-one): bounded memory, limits, both Services on the one pod", async (t) => {
  let jaeger: Jaeger | undefined;
  const recorded = await runComponent(() => {
    jaeger = new Jaeger("jaeger-default", jaegerArgs());
  });
  await assertMonitoringInvariants(t, recorded);
  t.deepEqual(objectsOfKind(recorded, "Deployment").length, 1);
  t.deepEqual(objectsOfKind(recorded, "CronJob"), []);
  const deployment = objectNamed(recorded, "Deployment", "jaeger-all-in-one");
  const container = containerNamed(deployment, "all-in-one");
  t.is(container.image, images.jaegerAllInOne);
  t.deepEqual(container.args, ["--memory.max-traces=25000"]);
  t.deepEqual(container.env, [{ name: "SPAN_STORAGE_TYPE", value: "memory" }]);
  t.deepEqual(container.resources, { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } });
  t.like(container.readinessProbe, { httpGet: { path: "/", port: 14269 } });
  t.like(podSpecOf(deployment).securityContext, { runAsUser: 10001, runAsNonRoot: true });
  const selector = { "app.kubernetes.io/name": "jaeger-all-in-one", "app.kubernetes.io/instance": "jaeger-all-in-one" };
  t.deepEqual(objectNamed(recorded, "Service", "jaeger-collector").inputs.spec, {
    selector,
    ports: [
      { name: "otlp-grpc", port: 4317, targetPort: "otlp-grpc" },
      { name: "otlp-http", port: 4318, targetPort: "otlp-http" },
    ],
  });
  t.deepEqual(objectNamed(recorded, "Service", "jaeger-query").inputs.spec, {
    selector,
    ports: [{ name: "query", port: 16686, targetPort: "query" }],
  });
  t.deepEqual(jaeger?.collector, {
    namespace: "monitoring",
    service: "jaeger-collector",
    port: 4317,
    scheme: "tcp",
    podSelector: selector,
  });
  t.deepEqual(jaeger?.query, {
    namespace: "monitoring",
    service: "jaeger-query",
    port: 16686,
    scheme: "http",
    podSelector: selector,
  });
  t.deepEqual(jaeger?.elasticsearchClients, []);
  const r = resolveJaegerArgs(jaegerArgs());
  t.is(r.maxTraces, JAEGER_DEFAULTS.maxTraces);
  t.is(r.collectorReplicas, 2);
  t.is(r.indexCleanerSchedule, "55 23 * * *");
});

test("Jaeger production: collector and query on Elasticsearch over TLS, index cleaner keeps retentionDays", async (t) => {
  let jaeger: Jaeger | undefined;
  const recorded = await runComponent(() => {
    jaeger = new Jaeger(
      "jaeger-prod",
      jaegerArgs({ settings: { mode: "production", retentionDays: 14 }, elasticsearch: ES }),
    );
  });
  await assertMonitoringInvariants(t, recorded);
  const esEnv = [
    { name: "SPAN_STORAGE_TYPE", value: "elasticsearch" },
    { name: "ES_SERVER_URLS", value: "https://elasticsearch.logging.svc:9200" },
    { name: "ES_USERNAME", value: "jaeger-writer" },
    { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: "es-jaeger", key: "password" } } },
    { name: "ES_TLS_ENABLED", value: "true" },
    { name: "ES_TLS_CA", value: "/etc/jaeger/elasticsearch-ca/ca.crt" },
  ];
  const caVolume = {
    name: "elasticsearch-ca",
    configMap: { name: "es-ca", items: [{ key: "ca.crt", path: "ca.crt" }] },
  };

  const collector = objectNamed(recorded, "Deployment", "jaeger-collector");
  t.is((collector.inputs.spec as Record<string, any>).replicas, 2);
  const c = containerNamed(collector, "collector");
  t.is(c.image, images.jaegerCollector);
  t.deepEqual(c.env, [...esEnv, { name: "ES_NUM_SHARDS", value: "1" }, { name: "ES_NUM_REPLICAS", value: "1" }]);
  t.deepEqual(c.resources, { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
  t.deepEqual(podSpecOf(collector).volumes, [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }, caVolume]);
  t.truthy(podSpecOf(collector).affinity);

  const query = objectNamed(recorded, "Deployment", "jaeger-query");
  const q = containerNamed(query, "query");
  t.is(q.image, images.jaegerQuery);
  t.deepEqual(q.env, esEnv);
  t.like(q.readinessProbe, { httpGet: { path: "/", port: 16687 } });
  t.deepEqual(q.resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } });

  const cleaner = objectNamed(recorded, "CronJob", "jaeger-index-cleaner");
  const cronSpec = cleaner.inputs.spec as Record<string, any>;
  t.like(cronSpec, { schedule: "55 23 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
  const k = containerNamed(cleaner, "index-cleaner");
  t.is(k.image, images.jaegerIndexCleaner);
  t.deepEqual(k.args, ["14", "https://elasticsearch.logging.svc:9200"]);
  t.deepEqual(k.env, esEnv.slice(2));
  t.deepEqual(k.resources, { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } });
  t.deepEqual(podSpecOf(cleaner).volumes, [caVolume]);
  t.is(podSpecOf(cleaner).restartPolicy, "OnFailure");

  t.deepEqual(
    jaeger?.elasticsearchClients.map((p) => p.podSelector["app.kubernetes.io/name"]),
    ["jaeger-collector", "jaeger-query", "jaeger-index-cleaner"],
  );
  t.is(jaeger?.collector.podSelector["app.kubernetes.io/name"], "jaeger-collector");
  t.is(jaeger?.query.podSelector["app.kubernetes.io/name"], "jaeger-query");
});

test("Jaeger custom: trace bound, collector replicas, schedule and compute", async (t) => {
  const recorded = await runComponent(
    () =>
      new Jaeger(
        "jaeger-custom",
        jaegerArgs({
          settings: { mode: "production", retentionDays: 30 },
          elasticsearch: ES,
          collectorReplicas: 3,
          indexCleanerSchedule: "15 1 * * *",
          collectorCompute: resources("500m", "512Mi", "2", "1Gi"),
          name: "tracing",
        }),
      ),
  );
  await assertMonitoringInvariants(t, recorded);
  t.is((objectNamed(recorded, "Deployment", "tracing-collector").inputs.spec as Record<string, any>).replicas, 3);
  t.is(
    (objectNamed(recorded, "CronJob", "tracing-index-cleaner").inputs.spec as Record<string, any>).schedule,
    "15 1 * * *",
  );
  t.deepEqual(containerNamed(objectNamed(recorded, "CronJob", "tracing-index-cleaner"), "index-cleaner").args[0], "30");
  t.deepEqual(containerNamed(objectNamed(recorded, "Deployment", "tracing-collector"), "collector").resources.limits, {
    cpu: "2",
    memory: "1Gi",
  });
  objectNamed(recorded, "Service", "tracing-collector");

  const small = await runComponent(() => new Jaeger("jaeger-small", jaegerArgs({ maxTraces: 5000 })));
  t.deepEqual(containerNamed(objectNamed(small, "Deployment", "jaeger-all-in-one"), "all-in-one").args, [
    "--memory.max-traces=5000",
  ]);
});

const JAEGER_INVALID: [string, Partial<JaegerArgs>, string][] = [
  ["namespace", { namespace: "" }, 'namespace must be a DNS-1123 label (got "")'],
  ["name", { name: "Jaeger" }, 'name must be a DNS-1123 label (got "Jaeger")'],
  [
    "mode",
    { settings: { mode: "cluster" as "production", retentionDays: 3 } },
    'monitoring.jaeger.mode must be "all-in-one" or "production" (got "cluster")',
  ],
  [
    "retentionDays",
    { settings: { mode: "all-in-one", retentionDays: 0 } },
    "monitoring.jaeger.retentionDays must be an integer >= 1 (got 0)",
  ],
  ["maxTraces", { maxTraces: -1 }, "maxTraces must be an integer >= 1 (got -1)"],
  ["collectorReplicas", { collectorReplicas: 0 }, "collectorReplicas must be an integer >= 1 (got 0)"],
  [
    "indexCleanerSchedule",
    { indexCleanerSchedule: "daily" },
    'indexCleanerSchedule must be a five-field cron schedule (got "daily")',
  ],
  [
    "production without Elasticsearch",
    { settings: { mode: "production", retentionDays: 7 } },
    'monitoring.jaeger.mode "production" stores spans in Elasticsearch, but no elasticsearch was given',
  ],
  [
    "plain-text Elasticsearch",
    {
      settings: { mode: "production", retentionDays: 7 },
      elasticsearch: { ...ES, endpoint: { ...ES.endpoint, scheme: "http" } },
    },
    "the Elasticsearch endpoint for Jaeger must use https (got http)",
  ],
];
for (const [rule, overrides, message] of JAEGER_INVALID) {
  test(`Jaeger rejects an invalid ${rule}`, (t) => {
    const error = t.throws(() => resolveJaegerArgs(jaegerArgs(overrides)));
    t.true(error?.message.startsWith("Jaeger: "), error?.message);
    t.true(error?.message.includes(message), error?.message);
  });
}
