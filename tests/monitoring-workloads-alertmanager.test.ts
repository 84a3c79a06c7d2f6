import test from "ava";
import { checksum, images, resources } from "../components/k8s";
import {
  ALERTMANAGER_SECRETS_DIR,
  Alertmanager,
  type AlertmanagerArgs,
  alertmanagerPeers,
  referencedFiles,
  resolveAlertmanagerArgs,
} from "../components/monitoring/alertmanager";
import { renderAlertmanagerConfig } from "../components/monitoring/config/alertmanager";
import { testConfig } from "./helpers/config";
import { runComponent, SECRET } from "./helpers/harness";
import { containerNamed, objectNamed, objectsOfKind, podSpecOf } from "./helpers/objects";
import { assertMonitoringInvariants, fixtureSecrets } from "./monitoring-workloads.helpers";

const CONFIG = renderAlertmanagerConfig({
  alerting: testConfig("prod").monitoring.alerting,
  secretsDir: ALERTMANAGER_SECRETS_DIR,
});

function args(overrides: Partial<AlertmanagerArgs> = {}): AlertmanagerArgs {
  return {
    namespace: "monitoring",
    settings: { replicas: 1, storageSize: "5Gi" },
    storageClass: "gp3",
    config: CONFIG,
    secrets: fixtureSecrets(),
    ...overrides,
  };
}

test("the rendered alertmanager.yml reads every credential from the mounted Secret", (t) => {
  t.deepEqual(referencedFiles(CONFIG).sort(), [
    "/etc/alertmanager/secrets/pagerduty-routing-key",
    "/etc/alertmanager/secrets/slack-webhook-url",
    "/etc/alertmanager/secrets/smtp-password",
  ]);
});

test("Alertmanager defaults: one replica without gossip, config in a ConfigMap, credentials in a Secret", async (t) => {
  const recorded = await runComponent(() => new Alertmanager("am-default", args()));
  await assertMonitoringInvariants(t, recorded);

  t.deepEqual(objectNamed(recorded, "ConfigMap", "alertmanager-config").inputs.data, { "alertmanager.yml": CONFIG });
  const secret = objectNamed(recorded, "Secret", "alertmanager-receivers");
  t.is(secret.inputs.type, "Opaque");
  t.deepEqual(secret.inputs.stringData, {
    "slack-webhook-url": SECRET,
    "pagerduty-routing-key": SECRET,
    "smtp-password": SECRET,
  });
  t.deepEqual(objectsOfKind(recorded, "Secret").length, 1);

  const sts = objectNamed(recorded, "StatefulSet", "alertmanager");
  const spec = sts.inputs.spec as Record<string, any>;
  t.is(spec.replicas, 1);
  t.is(spec.serviceName, "alertmanager-cluster");
  t.deepEqual(spec.volumeClaimTemplates[0].spec, {
    accessModes: ["ReadWriteOnce"],
    storageClassName: "gp3",
    resources: { requests: { storage: "5Gi" } },
  });
  t.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
  t.is(spec.template.metadata.annotations["checksum/config"], checksum(CONFIG));
  const pod = podSpecOf(sts);
  t.false(pod.automountServiceAccountToken);
  t.like(pod.securityContext, { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534 });
  t.deepEqual(pod.volumes, [
    { name: "config", configMap: { name: "alertmanager-config" } },
    { name: "receivers", secret: { secretName: "alertmanager-receivers", defaultMode: 0o440 } },
  ]);
  const container = containerNamed(sts, "alertmanager");
  t.is(container.image, images.alertmanager);
  t.deepEqual(container.args, [
    "--config.file=/etc/alertmanager/config/alertmanager.yml",
    "--storage.path=/alertmanager",
    "--web.listen-address=:9093",
    "--cluster.listen-address=",
  ]);
  t.deepEqual(container.env, []);
  t.deepEqual(
    container.ports.map((p: { name: string }) => p.name),
    ["web"],
  );
  t.deepEqual(container.volumeMounts, [
    { name: "config", mountPath: "/etc/alertmanager/config", readOnly: true },
    { name: "receivers", mountPath: "/etc/alertmanager/secrets", readOnly: true },
    { name: "data", mountPath: "/alertmanager" },
  ]);
  t.deepEqual(container.resources, {
    requests: { cpu: "50m", memory: "128Mi" },
    limits: { cpu: "200m", memory: "256Mi" },
  });
  t.is(container.readinessProbe.httpGet.path, "/-/ready");
  t.is(container.livenessProbe.httpGet.path, "/-/healthy");
  t.like(container.securityContext, {
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  });

  const headless = objectNamed(recorded, "Service", "alertmanager-cluster").inputs.spec as Record<string, any>;
  t.is(headless.clusterIP, "None");
  t.true(headless.publishNotReadyAddresses);
  t.deepEqual((objectNamed(recorded, "Service", "alertmanager").inputs.spec as Record<string, any>).ports, [
    { name: "web", port: 9093, targetPort: "web" },
  ]);
});

test("Alertmanager custom: three replicas gossip through the headless Service", async (t) => {
  const recorded = await runComponent(
    () =>
      new Alertmanager(
        "am-custom",
        args({
          name: "am",
          namespace: "alerting",
          settings: { replicas: 3, storageSize: "10Gi" },
          storageClass: "io2",
          compute: resources("100m", "256Mi", "500m", "512Mi"),
        }),
      ),
  );
  await assertMonitoringInvariants(t, recorded);
  const sts = objectNamed(recorded, "StatefulSet", "am");
  t.is((sts.inputs.spec as Record<string, any>).replicas, 3);
  const container = containerNamed(sts, "alertmanager");
  t.deepEqual(container.args.slice(3), [
    "--cluster.listen-address=0.0.0.0:9094",
    "--cluster.advertise-address=$(POD_IP):9094",
    "--cluster.peer=am-0.am-cluster.alerting.svc:9094",
    "--cluster.peer=am-1.am-cluster.alerting.svc:9094",
    "--cluster.peer=am-2.am-cluster.alerting.svc:9094",
  ]);
  t.deepEqual(container.env, [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }]);
  t.deepEqual(
    container.ports.map((p: { name: string; protocol?: string }) => `${p.name}/${p.protocol ?? "TCP"}`),
    ["web/TCP", "cluster-tcp/TCP", "cluster-udp/UDP"],
  );
  t.deepEqual(container.resources.limits, { cpu: "500m", memory: "512Mi" });
  t.is((sts.inputs.spec as Record<string, any>).volumeClaimTemplates[0].spec.resources.requests.storage, "10Gi");
  t.truthy(podSpecOf(sts).affinity.podAntiAffinity);
  t.is(alertmanagerPeers(resolveAlertmanagerArgs(args({ settings: { replicas: 2, storageSize: "5Gi" } }))).length, 2);
});

test("Alertmanager outputs: the Service, the per-replica endpoint for Prometheus, and the pod peer", async (t) => {
  let am: Alertmanager | undefined;
  await runComponent(() => {
    am = new Alertmanager("am-outputs", args());
  });
  t.like(am?.endpoint, { namespace: "monitoring", service: "alertmanager", port: 9093, scheme: "http" });
  t.like(am?.clusterEndpoint, { namespace: "monitoring", service: "alertmanager-cluster", port: 9093 });
  t.deepEqual(am?.peer.podSelector, {
    "app.kubernetes.io/name": "alertmanager",
    "app.kubernetes.io/instance": "alertmanager",
  });
});

const INVALID: [string, Partial<AlertmanagerArgs>, string][] = [
  ["namespace", { namespace: "mon_itoring" }, 'namespace must be a DNS-1123 label (got "mon_itoring")'],
  ["name", { name: "-am" }, 'name must be a DNS-1123 label (got "-am")'],
  [
    "replicas",
    { settings: { replicas: 1.5, storageSize: "5Gi" } },
    "monitoring.alertmanager.replicas must be an integer >= 1 (got 1.5)",
  ],
  [
    "storageSize",
    { settings: { replicas: 1, storageSize: "0" } },
    'monitoring.alertmanager.storageSize must be a Kubernetes quantity (got "0")',
  ],
  ["storageClass", { storageClass: "" }, "kubernetes.storageClass must not be empty"],
  ["config", { config: " \n" }, "config (alertmanager.yml) must not be empty"],
  [
    "credential path",
    { config: "receivers:\n  - name: slack\n    slack_configs:\n      - api_url_file: /etc/slack/url\n" },
    "alertmanager.yml reads /etc/slack/url, which is not mounted",
  ],
];
for (const [rule, overrides, message] of INVALID) {
  test(`Alertmanager rejects an invalid ${rule}`, (t) => {
    const error = t.throws(() => resolveAlertmanagerArgs(args(overrides)));
    t.true(error?.message.startsWith("Alertmanager: "), error?.message);
    t.true(error?.message.includes(message), error?.message);
  });
}
