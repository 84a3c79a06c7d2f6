import test from "ava";
import { checksum, images } from "../components/k8s";
import {
  FALCO_SEVERITY_MAP,
  Falco,
  type FalcoArgs,
  falcoRulesProblems,
  falcosidekickEnv,
  resolveFalcoArgs,
} from "../components/security";
import { resolveFalcosidekickArgs } from "../components/security/falcosidekick";
import { findResource, runComponent } from "./helpers/harness";
import { assertObjectInvariants } from "./helpers/invariants";
import { metadataOf, objectNamed, podSpecOf } from "./helpers/objects";

const ALERTMANAGER = {
  namespace: "monitoring",
  service: "alertmanager",
  port: 9093,
  scheme: "http" as const,
  podSelector: { "app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": "alertmanager" },
};

function args(overrides: Partial<FalcoArgs> = {}): FalcoArgs {
  return {
    namespace: "node-agents",
    sidekickNamespace: "security",
    alertmanager: ALERTMANAGER,
    apiHost: "api.zarishsphere.com",
    databaseNamespace: "zarish-data",
    ...overrides,
  };
}

test("Falco defaults: DaemonSet `falco` in node-agents, pinned no-driver image, rules and config from ConfigMaps", async (t) => {
  const recorded = await runComponent(() => new Falco("falco-default", args()));
  await assertObjectInvariants(t, recorded);

  const ds = objectNamed(recorded, "DaemonSet", "falco", "node-agents");
  const pod = podSpecOf(ds);
  const [container] = pod.containers;
  t.is(container.image, images.falco);
  t.regex(container.image, /falco-no-driver:\d+\.\d+\.\d+$/);

  const config = objectNamed(recorded, "ConfigMap", "falco-config", "node-agents").inputs.data as Record<
    string,
    string
  >;
  const rules = objectNamed(recorded, "ConfigMap", "falco-rules", "node-agents").inputs.data as Record<string, string>;
  t.deepEqual(Object.keys(rules), ["zarish-rules.yaml"]);
  t.deepEqual(falcoRulesProblems(rules["zarish-rules.yaml"]), []);
  t.regex(config["falco.yaml"], /kind: modern_ebpf/);
  t.regex(config["falco.yaml"], /url: http:\/\/falcosidekick\.security\.svc:2801\//);
  t.is(
    (ds.inputs.spec as any).template.metadata.annotations["checksum/config"],
    checksum(config["falco.yaml"], rules["zarish-rules.yaml"]),
  );

  const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, m]));
  t.like(mounts["/etc/falco/rules.d"], { name: "rules", readOnly: true });
  t.like(mounts["/etc/falco/falco.yaml"], { name: "config", subPath: "falco.yaml", readOnly: true });
  t.like(mounts["/host/proc"], { readOnly: true });
  t.like(mounts["/host/etc"], { readOnly: true });
  t.like(mounts["/host/run/containerd/containerd.sock"], { name: "containerd", readOnly: true });
  const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
  t.is(volumes.rules.configMap.name, "falco-rules");
  t.deepEqual(volumes.proc.hostPath, { path: "/proc", type: "Directory" });
  t.deepEqual(volumes.containerd.hostPath, { path: "/run/containerd/containerd.sock", type: "Socket" });
  t.deepEqual(
    Object.values(volumes)
      .filter((v: any) => v.hostPath)
      .map((v: any) => v.hostPath.path)
      .sort(),
    ["/etc", "/proc", "/run/containerd/containerd.sock"],
  );
  const hostVolumes = new Set(pod.volumes.filter((v: any) => v.hostPath).map((v: any) => v.name));
  for (const mount of container.volumeMounts.filter((m: any) => hostVolumes.has(m.name))) {
    t.true(mount.readOnly, `host path ${mount.mountPath} is read-only`);
  }
});

test("Falco runs least-privileged for modern eBPF: four capabilities, not privileged, no host PID or network", async (t) => {
  const recorded = await runComponent(() => new Falco("falco-privs", args()));
  const pod = podSpecOf(objectNamed(recorded, "DaemonSet", "falco"));
  t.false(pod.hostPID);
  t.false(pod.hostNetwork);
  t.false(pod.automountServiceAccountToken);
  const sc = pod.containers[0].securityContext;
  t.false(sc.privileged);
  t.false(sc.allowPrivilegeEscalation);
  t.true(sc.readOnlyRootFilesystem);
  t.deepEqual(sc.capabilities, { drop: ["ALL"], add: ["BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"] });
  t.is(sc.runAsUser, 0);
  t.deepEqual(pod.tolerations, [
    { operator: "Exists", effect: "NoSchedule" },
    { operator: "Exists", effect: "NoExecute" },
  ]);
  t.deepEqual(pod.containers[0].resources, {
    requests: { cpu: "100m", memory: "512Mi" },
    limits: { cpu: "1", memory: "1Gi" },
  });
});

test("falcosidekick forwards WARNING and above to Alertmanager's v2 API, with the platform's severities", async (t) => {
  const recorded = await runComponent(() => new Falco("falco-sidekick", args()));
  const deployment = objectNamed(recorded, "Deployment", "falcosidekick", "security");
  const pod = podSpecOf(deployment);
  const container = pod.containers[0];
  t.is(container.image, images.falcosidekick);
  t.like(container.securityContext, {
    runAsNonRoot: true,
    runAsUser: 1234,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
  });
  t.deepEqual(Object.fromEntries(container.env.map((e: any) => [e.name, e.value])), {
    LISTENPORT: "2801",
    ALERTMANAGER_HOSTPORT: "http://alertmanager.monitoring.svc:9093",
    ALERTMANAGER_ENDPOINT: "/api/v2/alerts",
    ALERTMANAGER_MINIMUMPRIORITY: "warning",
    ALERTMANAGER_CUSTOMSEVERITYMAP:
      "emergency:critical,alert:critical,critical:critical,error:critical,warning:warning,notice:info,informational:info,debug:info",
    ALERTMANAGER_EXTRALABELS: "source:falco",
  });
  t.is((deployment.inputs.spec as any).replicas, 2);
  t.is(metadataOf(objectNamed(recorded, "PodDisruptionBudget", "falcosidekick", "security")).namespace, "security");
  t.deepEqual((objectNamed(recorded, "Service", "falcosidekick", "security").inputs.spec as any).ports, [
    { name: "http", port: 2801, targetPort: 2801, protocol: "TCP" },
  ]);
  t.is(FALCO_SEVERITY_MAP.ERROR, "critical");
  t.is(FALCO_SEVERITY_MAP.WARNING, "warning");
});

test("Falco's flows: Falco to falcosidekick, falcosidekick to Alertmanager", async (t) => {
  let falco: Falco | undefined;
  await runComponent(() => {
    falco = new Falco("falco-flows", args());
  });
  t.deepEqual(
    falco?.flows.map((f) => [
      f.name,
      f.from.namespace,
      "service" in f.to ? `${f.to.namespace}/${f.to.service}:${f.to.port}` : "",
    ]),
    [
      ["falco-to-falcosidekick", "node-agents", "security/falcosidekick:2801"],
      ["falcosidekick-to-alertmanager", "security", "monitoring/alertmanager:9093"],
    ],
  );
  t.deepEqual(falco?.metricsEndpoint, {
    namespace: "node-agents",
    service: "falco",
    port: 8765,
    scheme: "http",
    podSelector: { "app.kubernetes.io/name": "falco", "app.kubernetes.io/instance": "falco" },
  });
});

test("custom priorities and database namespaces reach the rules and falcosidekick", async (t) => {
  const recorded = await runComponent(
    () =>
      new Falco(
        "falco-custom",
        args({
          minimumAlertPriority: "ERROR",
          minimumRulePriority: "WARNING",
          databaseClientNamespaces: ["backup"],
          databaseEgressImages: ["docker.io/amazon/aws-cli"],
          sidekickReplicas: 1,
        }),
      ),
  );
  const rules = (objectNamed(recorded, "ConfigMap", "falco-rules").inputs.data as Record<string, string>)[
    "zarish-rules.yaml"
  ];
  t.regex(rules, /- zarish-data\n\s+- backup/);
  t.regex(rules, /not container\.image\.repository in \(database_egress_images\)/);
  t.regex(
    (objectNamed(recorded, "ConfigMap", "falco-config").inputs.data as any)["falco.yaml"],
    /^priority: warning$/m,
  );
  const env = podSpecOf(objectNamed(recorded, "Deployment", "falcosidekick")).containers[0].env;
  t.deepEqual(
    env.find((e: any) => e.name === "ALERTMANAGER_MINIMUMPRIORITY"),
    { name: "ALERTMANAGER_MINIMUMPRIORITY", value: "error" },
  );
  t.throws(() => findResource(recorded, "kubernetes:policy/v1:PodDisruptionBudget", "falco-custom-sidekick-pdb"));
});

test("falcosidekick's Alertmanager URL comes from the endpoint", (t) => {
  const env = falcosidekickEnv(
    resolveFalcosidekickArgs({ namespace: "security", alertmanager: { ...ALERTMANAGER, scheme: "https", port: 9443 } }),
  );
  t.is(env.ALERTMANAGER_HOSTPORT, "https://alertmanager.monitoring.svc:9443");
});

const invalid: [string, Partial<FalcoArgs>, RegExp][] = [
  ["namespace", { namespace: "Node_Agents" }, /namespace must be a DNS-1123 label \(got "Node_Agents"\)/],
  ["sidekick namespace", { sidekickNamespace: "" }, /sidekickNamespace must be a DNS-1123 label/],
  ["database namespace", { databaseNamespace: "zarish data" }, /databaseNamespace must be a DNS-1123 label/],
  [
    "database client namespace",
    { databaseClientNamespaces: ["Backup"] },
    /databaseClientNamespaces\[0\] must be a DNS-1123 label/,
  ],
  [
    "API host with a quote",
    { apiHost: 'api.zarishsphere.com" or proc.name="x' },
    /apiHost must be a lower-case DNS host name/,
  ],
  [
    "egress image with a tag",
    { databaseEgressImages: ["docker.io/amazon/aws-cli:2.18.0"] },
    /databaseEgressImages\[0\] must be an image repository without tag/,
  ],
  [
    "alert priority",
    { minimumAlertPriority: "HIGH" as never },
    /minimumAlertPriority must be one of EMERGENCY .* \(got "HIGH"\)/,
  ],
  [
    "rule priority",
    { minimumRulePriority: "MEDIUM" as never },
    /minimumRulePriority must be one of .* \(got "MEDIUM"\)/,
  ],
  [
    "alert threshold below the loaded rules",
    { minimumAlertPriority: "NOTICE", minimumRulePriority: "ERROR" },
    /minimumAlertPriority NOTICE is below minimumRulePriority ERROR/,
  ],
];
for (const [rule, overrides, message] of invalid) {
  test(`Falco rejects a bad ${rule}`, (t) => {
    t.throws(() => resolveFalcoArgs(args(overrides)), { message });
  });
}

const invalidSidekick: [string, Parameters<typeof resolveFalcosidekickArgs>[0], RegExp][] = [
  ["namespace", { namespace: "Security", alertmanager: ALERTMANAGER }, /namespace must be a DNS-1123 label/],
  [
    "replicas",
    { namespace: "security", alertmanager: ALERTMANAGER, replicas: 0 },
    /replicas must be an integer >= 1 \(got 0\)/,
  ],
  [
    "priority",
    { namespace: "security", alertmanager: ALERTMANAGER, minimumPriority: "HIGH" as never },
    /minimumPriority must be one of/,
  ],
  [
    "tcp endpoint",
    { namespace: "security", alertmanager: { ...ALERTMANAGER, scheme: "tcp" } },
    /alertmanager must be an http or https endpoint/,
  ],
];
for (const [rule, value, message] of invalidSidekick) {
  test(`falcosidekick rejects a bad ${rule}`, (t) => {
    t.throws(() => resolveFalcosidekickArgs(value), { message });
  });
}
