import test from "ava";
import { elasticsearchDays, flagValue, prometheusSeconds } from "../policies/retention";
import {
  awsResource,
  evaluate,
  hardenedContainer,
  hardenedPodSpec,
  type Json,
  k8s,
  of,
  podSpecOf,
  WORKLOAD_KINDS,
  workload,
} from "./helpers/policy";

// ---------------------------------------------------------------------------------------------------------------
// S3 lifecycle (a stack policy: the lifecycle configuration is linked to its bucket by propertyDependencies.bucket)

function bucketWithLifecycle(name: string, rules: Json[] | undefined, bucketInputs: Json = {}, stack = "staging") {
  const bucket = awsResource("aws:s3/bucket:Bucket", name, { bucket: name, ...bucketInputs }, { stack });
  const lifecycle =
    rules === undefined
      ? []
      : [
          awsResource(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            `${name}-lifecycle`,
            { bucket: `${name}-id`, rules },
            { bucketOf: bucket, stack },
          ),
        ];
  return [bucket, ...lifecycle];
}

const rule = (expirationDays?: number, noncurrentDays?: number, status = "Enabled"): Json => ({
  id: "r1",
  status,
  ...(expirationDays === undefined ? {} : { expiration: { days: expirationDays } }),
  ...(noncurrentDays === undefined ? {} : { noncurrentVersionExpiration: { noncurrentDays } }),
});

const lifecycleViolations = (resources: ReturnType<typeof bucketWithLifecycle>, config?: Json) =>
  of(evaluate(resources, { config }), "s3-lifecycle-retention");

test("s3-lifecycle-retention: a backup bucket keeping objects 30 days and versions 30 days passes in both environments", (t) => {
  t.deepEqual(lifecycleViolations(bucketWithLifecycle("db-backups-ok", [rule(30, 30)])), []);
  t.deepEqual(lifecycleViolations(bucketWithLifecycle("db-backups-ok-prod", [rule(30, 30)], {}, "prod")), []);
});

test("s3-lifecycle-retention: expiring objects before 30 days is refused, naming the bucket and the rule", (t) => {
  const v = lifecycleViolations(bucketWithLifecycle("db-backups-early", [rule(7)]));
  t.deepEqual(
    v.map((x) => x.message),
    ["bucket db-backups-early expires objects after 7 days (rule r1): keep them at least 30 days in staging"],
  );
  t.regex(v[0].urn, /aws:s3\/bucket:Bucket::db-backups-early$/);
});

test("s3-lifecycle-retention: noncurrent versions: 7 days pass in staging, prod needs 30", (t) => {
  t.deepEqual(lifecycleViolations(bucketWithLifecycle("db-backups-nc", [rule(30, 7)])), []);
  const v = lifecycleViolations(bucketWithLifecycle("db-backups-nc-prod", [rule(30, 7)], {}, "prod"));
  t.deepEqual(
    v.map((x) => x.message),
    [
      "bucket db-backups-nc-prod deletes noncurrent versions after 7 days (rule r1): keep them at least 30 days in prod",
    ],
  );
});

test("s3-lifecycle-retention: a backup bucket (by name or tag) must expire its objects through a lifecycle rule", (t) => {
  const message = /^bucket .* holds backups but no enabled lifecycle rule expires them/;
  t.regex(lifecycleViolations(bucketWithLifecycle("k8s-backups-none", undefined))[0]?.message ?? "", message);
  t.regex(
    lifecycleViolations(bucketWithLifecycle("k8s-backups-disabled", [rule(30, 30, "Disabled")]))[0]?.message ?? "",
    message,
  );
  t.regex(
    lifecycleViolations(bucketWithLifecycle("archive", undefined, { tags: { "zarish.health/backup": "true" } }))[0]
      ?.message ?? "",
    message,
  );
  // Not a backup bucket: no lifecycle required; tagged "false" opts a "backup"-named bucket out.
  t.deepEqual(lifecycleViolations(bucketWithLifecycle("static-assets", undefined)), []);
  t.deepEqual(
    lifecycleViolations(
      bucketWithLifecycle("backup-tool-artifacts", undefined, { tags: { "zarish.health/backup": "false" } }),
    ),
    [],
  );
});

test("s3-lifecycle-retention: a fixed expiration date is refused", (t) => {
  const v = lifecycleViolations(
    bucketWithLifecycle("db-backups-date", [
      { id: "d", status: "Enabled", expiration: { date: "2030-01-01T00:00:00Z" } },
    ]),
  );
  t.deepEqual(
    v.map((x) => x.message),
    [
      "bucket db-backups-date expires objects on a fixed date (rule d): use expiration.days (at least 30)",
      "bucket db-backups-date holds backups but no enabled lifecycle rule expires them: add an aws.s3.BucketLifecycleConfiguration (bucket: <bucket>.id) with expiration.days >= 30; retention is enforced by S3, not by scripts",
    ],
  );
});

test("s3-lifecycle-retention: the deprecated inline lifecycleRules are checked too", (t) => {
  const v = lifecycleViolations(
    bucketWithLifecycle("db-backups-inline", undefined, {
      lifecycleRules: [{ id: "old", enabled: true, expiration: { days: 3 } }],
    }),
  );
  t.deepEqual(
    v.map((x) => x.message),
    ["bucket db-backups-inline expires objects after 3 days (rule old): keep them at least 30 days in staging"],
  );
});

test("s3-lifecycle-retention: thresholds come from config, per environment", (t) => {
  const config = { "s3-lifecycle-retention": { minExpirationDays: { staging: 60, prod: 400 } } };
  t.is(lifecycleViolations(bucketWithLifecycle("db-backups-cfg", [rule(90, 90)]), config).length, 0);
  t.is(lifecycleViolations(bucketWithLifecycle("db-backups-cfg-prod", [rule(365, 90)], {}, "prod"), config).length, 1);
  const pinned = { "s3-lifecycle-retention": { environment: "prod" } };
  t.is(lifecycleViolations(bucketWithLifecycle("db-backups-env", [rule(30, 7)]), pinned).length, 1);
});

test("s3-lifecycle-retention: a lifecycle configuration linked to no bucket does not count for any bucket", (t) => {
  const bucket = awsResource("aws:s3/bucket:Bucket", "db-backups-unlinked", { bucket: "db-backups-unlinked" });
  // Same bucket name typed as a string, without the dependency: not linked (names prove nothing).
  const lifecycle = awsResource(
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "unlinked-lifecycle",
    {
      bucket: "db-backups-unlinked",
      rules: [rule(30, 30)],
    },
  );
  const v = evaluate([bucket, lifecycle]);
  t.is(of(v, "s3-lifecycle-retention").length, 1);
  t.deepEqual(
    of(v, "s3-bucket-settings-linked").map((x) => x.urn),
    [lifecycle.urn],
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Elasticsearch audit retention

function ilmConfigMap(name: string, key: string, deleteMinAge: string | undefined, extra: Json = {}): Json {
  const phases: Json = { hot: { actions: { rollover: { max_age: "1d" } } } };
  if (deleteMinAge !== "none")
    phases.delete = { ...(deleteMinAge === undefined ? {} : { min_age: deleteMinAge }), actions: { delete: {} } };
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "logging" },
    data: { [key]: JSON.stringify({ policy: { phases } }), ...extra },
  };
}

const auditViolations = (object: Json, stack = "prod") =>
  of(evaluate([k8s(object, stack)]), "elasticsearch-audit-retention");

test("elasticsearch-audit-retention: six years (2192d) passes in prod; no delete phase keeps them forever", (t) => {
  t.deepEqual(auditViolations(ilmConfigMap("ilm-ok", "zarish-audit.json", "2192d")), []);
  t.deepEqual(auditViolations(ilmConfigMap("ilm-forever", "zarish-audit.json", "none")), []);
});

test("elasticsearch-audit-retention: deleting audit indices before 2192 days is refused in prod", (t) => {
  const v = auditViolations(ilmConfigMap("ilm-short", "zarish-audit.json", "365d"));
  t.deepEqual(
    v.map((x) => x.message),
    [
      'ILM policy zarish-audit.json (key zarish-audit.json) deletes audit indices after 365d: keep them at least 2192 days in prod (delete phase min_age >= "2192d")',
    ],
  );
  t.is(v[0].level, "mandatory");
});

test("elasticsearch-audit-retention: a delete phase without min_age deletes at once and is refused", (t) => {
  t.is(auditViolations(ilmConfigMap("ilm-zero", "audit-policy.json", undefined)).length, 1);
});

test("elasticsearch-audit-retention: hours count as fractions of a day; an unreadable min_age is refused", (t) => {
  t.is(auditViolations(ilmConfigMap("ilm-hours", "zarish-audit.json", `${2192 * 24}h`)).length, 0);
  t.is(auditViolations(ilmConfigMap("ilm-hours-short", "zarish-audit.json", `${2191 * 24}h`)).length, 1);
  t.regex(
    auditViolations(ilmConfigMap("ilm-garbage", "zarish-audit.json", "six years"))[0]?.message ?? "",
    /unreadable delete min_age/,
  );
});

test("elasticsearch-audit-retention: application log policies and staging are not held to six years", (t) => {
  t.deepEqual(auditViolations(ilmConfigMap("ilm-logs", "zarish-sphere.json", "14d")), []);
  t.deepEqual(auditViolations(ilmConfigMap("ilm-staging", "zarish-audit.json", "30d"), "staging"), []);
  const config = { "elasticsearch-audit-retention": { minDays: { staging: 90, prod: 2192 } } };
  t.is(
    of(
      evaluate([k8s(ilmConfigMap("ilm-staging-cfg", "zarish-audit.json", "30d"), "staging")], { config }),
      "elasticsearch-audit-retention",
    ).length,
    1,
  );
});

test("elasticsearch-audit-retention: a file of several named policies is read per policy", (t) => {
  const body = JSON.stringify({
    "zarish-sphere": { policy: { phases: { delete: { min_age: "14d", actions: { delete: {} } } } } },
    "zarish-audit": { policy: { phases: { delete: { min_age: "90d", actions: { delete: {} } } } } },
  });
  const object = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "ilm-multi", namespace: "logging" },
    data: { "policies.json": body, "notes.txt": "phases: not JSON" },
  };
  t.deepEqual(
    auditViolations(object).map((x) => x.message.split(" deletes")[0]),
    ["ILM policy zarish-audit (key policies.json)"],
  );
});

test("elasticsearch-audit-retention: an audit ConfigMap name marks its single policy as the audit one", (t) => {
  t.is(auditViolations(ilmConfigMap("audit-ilm", "policy.json", "30d")).length, 1);
});

// ---------------------------------------------------------------------------------------------------------------
// Prometheus retention

const PROMETHEUS = "quay.io/prometheus/prometheus:v2.53.3";

function prometheus(
  kind: (typeof WORKLOAD_KINDS)[number],
  name: string,
  args: string[] | undefined,
  where: "container" | "init container" = "container",
) {
  const spec = hardenedPodSpec(name);
  const container = {
    ...hardenedContainer("prometheus", { image: PROMETHEUS }),
    ...(args ? { args } : {}),
    volumeMounts: [{ name: "data", mountPath: "/prometheus" }],
  };
  if (where === "container") spec.containers = [container];
  else spec.initContainers = [{ ...container, livenessProbe: undefined, readinessProbe: undefined }];
  spec.volumes = [{ name: "data", persistentVolumeClaim: { claimName: `${name}-data` } }];
  return workload(kind, name, "monitoring", spec);
}

for (const kind of WORKLOAD_KINDS) {
  test(`prometheus-retention: a ${kind} running Prometheus with 1d is refused in staging; 7d passes`, (t) => {
    const k = kind.toLowerCase();
    const short = of(
      evaluate([k8s(prometheus(kind, `prom-short-${k}`, ["--storage.tsdb.retention.time=1d"]))]),
      "prometheus-retention",
    );
    t.deepEqual(
      short.map((x) => x.message),
      ['container "prometheus" keeps metrics 1d: keep them at least 7d in staging'],
    );
    t.deepEqual(
      of(
        evaluate([k8s(prometheus(kind, `prom-ok-${k}`, ["--storage.tsdb.retention.time", "7d"]))]),
        "prometheus-retention",
      ),
      [],
    );
  });
}

test("prometheus-retention: prod needs 30d; a Prometheus hidden in an init container is checked too", (t) => {
  const v = of(
    evaluate([k8s(prometheus("StatefulSet", "prom-prod", ["--storage.tsdb.retention.time=1w"]), "prod")]),
    "prometheus-retention",
  );
  t.deepEqual(
    v.map((x) => x.message),
    ['container "prometheus" keeps metrics 1w: keep them at least 30d in prod'],
  );
  const hidden = of(
    evaluate([k8s(prometheus("Deployment", "prom-init", ["--storage.tsdb.retention.time=2h"], "init container"))]),
    "prometheus-retention",
  );
  t.deepEqual(
    hidden.map((x) => x.message),
    ['init container "prometheus" keeps metrics 2h: keep them at least 7d in staging'],
  );
});

test("prometheus-retention: a missing or malformed flag is refused; the minimum comes from config", (t) => {
  t.regex(
    of(evaluate([k8s(prometheus("StatefulSet", "prom-none", undefined))]), "prometheus-retention")[0]?.message ?? "",
    /leaves the retention to Prometheus's default/,
  );
  t.regex(
    of(
      evaluate([k8s(prometheus("StatefulSet", "prom-bad", ["--storage.tsdb.retention.time=30 days"]))]),
      "prometheus-retention",
    )[0]?.message ?? "",
    /malformed --storage.tsdb.retention.time "30 days"/,
  );
  const config = { "prometheus-retention": { minRetention: { staging: "15d", prod: "90d" } } };
  t.is(
    of(
      evaluate([k8s(prometheus("StatefulSet", "prom-cfg", ["--storage.tsdb.retention.time=10d"]))], { config }),
      "prometheus-retention",
    ).length,
    1,
  );
});

test("prometheus-retention: durations and flags are read as Prometheus reads them", (t) => {
  t.is(prometheusSeconds("1y2w3d4h5m6s7ms"), 365 * 86400 + 2 * 7 * 86400 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6 + 0.007);
  t.is(prometheusSeconds("30 d"), undefined);
  t.is(flagValue(["--a=1", "--b", "2"], "--b"), "2");
  t.is(flagValue(["--a=1"], "--a"), "1");
  t.is(elasticsearchDays("36h"), 1.5);
  t.is(elasticsearchDays("2192d"), 2192);
  t.is(elasticsearchDays("1y"), undefined);
});

// ---------------------------------------------------------------------------------------------------------------
// Stateful data on persistent volumes

const STATEFUL: readonly [string, string, string][] = [
  ["elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.15.3", "/usr/share/elasticsearch/data"],
  ["prometheus", PROMETHEUS, "/prometheus"],
  ["alertmanager", "quay.io/prometheus/alertmanager:v0.27.0", "/alertmanager"],
  ["grafana", "docker.io/grafana/grafana:11.3.0", "/var/lib/grafana"],
];

function statefulApp(
  kind: (typeof WORKLOAD_KINDS)[number],
  name: string,
  image: string,
  mountPath: string,
  volume: Json | "claimTemplate" | "none",
): Json {
  const spec = hardenedPodSpec(name);
  const container: Json = {
    ...hardenedContainer("server", { image }),
    args: ["--storage.tsdb.retention.time=30d"],
    volumeMounts: volume === "none" ? [{ name: "tmp", mountPath: "/tmp" }] : [{ name: "data", mountPath }],
  };
  spec.containers = [container];
  spec.volumes = [
    { name: "tmp", emptyDir: {} },
    ...(volume === "none" || volume === "claimTemplate" ? [] : [{ name: "data", ...volume }]),
  ];
  const object = workload(kind, name, "monitoring", spec);
  if (volume === "claimTemplate")
    object.spec.volumeClaimTemplates = [
      { metadata: { name: "data" }, spec: { resources: { requests: { storage: "10Gi" } } } },
    ];
  return object;
}

const persistence = (object: Json) => of(evaluate([k8s(object)]), "stateful-data-on-persistent-volumes");

for (const [app, image, path] of STATEFUL) {
  test(`stateful-data-on-persistent-volumes: ${app} on a claim passes; on emptyDir or no volume it is refused`, (t) => {
    t.deepEqual(persistence(statefulApp("StatefulSet", `${app}-claim`, image, path, "claimTemplate")), []);
    t.deepEqual(
      persistence(
        statefulApp("Deployment", `${app}-pvc`, image, path, { persistentVolumeClaim: { claimName: "data" } }),
      ),
      [],
    );
    const empty = persistence(statefulApp("StatefulSet", `${app}-empty`, image, path, { emptyDir: {} }));
    t.deepEqual(
      empty.map((x) => x.message),
      [
        `container "server" (${app}) keeps its data at ${path} on volume "data" (emptyDir), lost when the pod goes: mount a PersistentVolumeClaim there (volumeClaimTemplates for a StatefulSet)`,
      ],
    );
    const none = persistence(statefulApp("Deployment", `${app}-none`, image, path, "none"));
    t.regex(none[0]?.message ?? "", new RegExp(`keeps its data at ${path} on the container's own filesystem`));
  });
}

for (const kind of WORKLOAD_KINDS) {
  test(`stateful-data-on-persistent-volumes: Grafana on emptyDir is refused in a ${kind}`, (t) => {
    const object = statefulApp(kind, `grafana-empty-${kind.toLowerCase()}`, STATEFUL[3][1], "/var/lib/grafana", {
      emptyDir: {},
    });
    t.is(persistence(object).length, 1);
  });
}

test("stateful-data-on-persistent-volumes: a generic ephemeral volume or hostPath is not persistent; data paths follow the flags", (t) => {
  const ephemeral = statefulApp("StatefulSet", "es-ephemeral", STATEFUL[0][1], STATEFUL[0][2], {
    ephemeral: { volumeClaimTemplate: { spec: {} } },
  });
  t.regex(persistence(ephemeral)[0]?.message ?? "", /\(ephemeral\)/);
  const moved = statefulApp("StatefulSet", "prom-moved", PROMETHEUS, "/data", "claimTemplate");
  podSpecOf(moved).containers[0].args = ["--storage.tsdb.path=/data", "--storage.tsdb.retention.time=30d"];
  t.deepEqual(persistence(moved), []);
  const grafana = statefulApp("Deployment", "grafana-moved", STATEFUL[3][1], "/srv/grafana", {
    persistentVolumeClaim: { claimName: "g" },
  });
  podSpecOf(grafana).containers[0].env = [{ name: "GF_PATHS_DATA", value: "/srv/grafana" }];
  t.deepEqual(persistence(grafana), []);
});

test("stateful-data-on-persistent-volumes: other images, and sidecars named differently, are not held to it", (t) => {
  const object = statefulApp(
    "Deployment",
    "exporter",
    "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
    "/data",
    "none",
  );
  t.deepEqual(persistence(object), []);
});
