import test from "ava";
import { DEFAULT_EXEMPTIONS } from "../policies/exemptions";
import {
  evaluate,
  hardenedPodSpec,
  type Json,
  k8s,
  mandatoryPolicies,
  of,
  podSpecOf,
  type TestWorkloadKind,
  WORKLOAD_KINDS,
  workload,
} from "./helpers/policy";

const KINDS: readonly TestWorkloadKind[] = [...WORKLOAD_KINDS, "ReplicationController"];

/** Runs the pack on one workload after a change; returns every violation. */
function check(kind: TestWorkloadKind, name: string, change: (o: Json) => void, namespace = "apps", config?: Json) {
  const object = workload(kind, name, namespace, hardenedPodSpec(name));
  change(object);
  return evaluate([k8s(object)], { config });
}

type Target = "init container" | "container";
const pick = (o: Json, target: Target): Json =>
  target === "init container" ? podSpecOf(o).initContainers[0] : podSpecOf(o).containers[0];
const label = (target: Target) => (target === "init container" ? 'init container "init"' : 'container "app"');

interface ContainerRule {
  readonly policy: string;
  readonly change: (c: Json, o: Json) => void;
  readonly message: string;
}

const CONTAINER_RULES: readonly ContainerRule[] = [
  {
    policy: "no-privileged-containers",
    change: (c) => (c.securityContext.privileged = true),
    message: "runs privileged: remove securityContext.privileged and add only the capability it needs",
  },
  {
    policy: "no-host-ports",
    change: (c) => (c.ports = [{ containerPort: 9100, hostPort: 9100 }]),
    message: "binds host port 9100: remove hostPort and reach the pod through a Service",
  },
  {
    policy: "no-added-capabilities",
    change: (c) => (c.securityContext.capabilities.add = ["CAP_NET_ADMIN"]),
    message: "adds capability NET_ADMIN: remove it from securityContext.capabilities.add",
  },
  {
    policy: "no-privilege-escalation",
    change: (c) => delete c.securityContext.allowPrivilegeEscalation,
    message: "may gain privileges: set securityContext.allowPrivilegeEscalation to false",
  },
  {
    policy: "no-root-user",
    change: (c) => (c.securityContext.runAsUser = 0),
    message: "runs as root (runAsUser: 0): run as a non-zero UID",
  },
  {
    policy: "images-pinned",
    change: (c) => (c.image = "docker.io/library/busybox:latest"),
    message:
      'uses "docker.io/library/busybox:latest": "latest" moves; pin a version or digest (components/k8s/images.ts)',
  },
  {
    policy: "images-pinned",
    change: (c) => (c.image = "registry.example.com:5000/tools/busybox"),
    message:
      'uses the untagged image "registry.example.com:5000/tools/busybox": pin a version (add it to components/k8s/images.ts)',
  },
];

for (const kind of KINDS) {
  const k = kind.toLowerCase();
  test(`a hardened ${kind} passes every policy, advisory ones included`, (t) => {
    t.deepEqual(
      check(kind, `sec-ok-${k}`, () => {}),
      [],
    );
  });

  CONTAINER_RULES.forEach((rule, index) => {
    for (const target of ["init container", "container"] as const) {
      test(`${rule.policy} (${index}): refuses the ${target} of a ${kind}`, (t) => {
        const v = check(kind, `sec-${index}-${target === "container" ? "c" : "i"}-${k}`, (o) =>
          rule.change(pick(o, target), o),
        );
        t.deepEqual(mandatoryPolicies(v), [rule.policy]);
        t.deepEqual(
          of(v, rule.policy).map((x) => x.message),
          [`${label(target)} ${rule.message}`],
        );
      });
    }
  });

  for (const [field, policy, what] of [
    ["hostPID", "no-host-pid", "process namespace"],
    ["hostIPC", "no-host-ipc", "IPC namespace"],
    ["hostNetwork", "no-host-network", "network namespace"],
  ] as const) {
    test(`${policy}: refuses a ${kind} with ${field}`, (t) => {
      const v = check(kind, `sec-${field.toLowerCase()}-${k}`, (o) => (podSpecOf(o)[field] = true));
      t.deepEqual(mandatoryPolicies(v), [policy]);
      t.deepEqual(
        of(v, policy).map((x) => x.message),
        [`shares the host's ${what}: remove spec.${field} from the pod template`],
      );
    });
  }

  test(`no-host-path-volumes: refuses a ${kind} mounting a host path`, (t) => {
    const v = check(kind, `sec-hostpath-${k}`, (o) => {
      podSpecOf(o).volumes = [{ name: "logs", hostPath: { path: "/var/log/" } }];
    });
    t.deepEqual(mandatoryPolicies(v), ["no-host-path-volumes"]);
    t.deepEqual(
      of(v, "no-host-path-volumes").map((x) => x.message),
      [
        'volume "logs" mounts the node\'s "/var/log/": use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume',
      ],
    );
  });

  test(`no-container-runtime-socket: refuses a ${kind} mounting the containerd socket`, (t) => {
    const v = check(kind, `sec-socket-${k}`, (o) => {
      podSpecOf(o).volumes = [{ name: "cri", hostPath: { path: "/run/containerd/containerd.sock" } }];
    });
    t.deepEqual(mandatoryPolicies(v), ["no-container-runtime-socket", "no-host-path-volumes"]);
    t.regex(
      of(v, "no-container-runtime-socket")[0].message,
      /exposes the container runtime socket \/run\/containerd\/containerd.sock/,
    );
  });
}

test("no-container-runtime-socket: a folder that holds a socket counts as the socket", (t) => {
  for (const path of ["/var/run", "/run/", "/", "/var/run/docker.sock"]) {
    const v = check("DaemonSet", `sec-socket-dir-${path.length}`, (o) => {
      podSpecOf(o).volumes = [{ name: "run", hostPath: { path } }];
    });
    t.is(of(v, "no-container-runtime-socket").length, 1, path);
  }
  const other = check(
    "DaemonSet",
    "sec-socket-other",
    (o) => (podSpecOf(o).volumes = [{ name: "logs", hostPath: { path: "/var/log" } }]),
  );
  t.deepEqual(of(other, "no-container-runtime-socket"), []);
});

test("no-added-capabilities: NET_BIND_SERVICE is allowed by default, and the list comes from config", (t) => {
  const bind = (o: Json) => (podSpecOf(o).containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"]);
  t.deepEqual(of(check("Deployment", "sec-cap-bind", bind), "no-added-capabilities"), []);
  const config = { "no-added-capabilities": { allowedCapabilities: [] } };
  t.is(of(check("Deployment", "sec-cap-bind-config", bind, "apps", config), "no-added-capabilities").length, 1);
});

test("no-root-user: runAsUser 0 on the pod counts for containers that do not override it", (t) => {
  const v = check("Deployment", "sec-root-pod", (o) => {
    podSpecOf(o).securityContext.runAsUser = 0;
    delete podSpecOf(o).initContainers[0].securityContext.runAsUser;
  });
  t.deepEqual(
    of(v, "no-root-user").map((x) => x.message),
    ['init container "init" runs as root (runAsUser: 0): run as a non-zero UID'],
  );
});

test("no-privilege-escalation and images-pinned cover ephemeral containers too", (t) => {
  const v = check("Pod", "sec-ephemeral", (o) => {
    podSpecOf(o).ephemeralContainers = [{ name: "debug", image: "busybox" }];
  });
  t.deepEqual(mandatoryPolicies(v), ["images-pinned", "no-privilege-escalation"]);
  t.regex(of(v, "images-pinned")[0].message, /^ephemeral container "debug" uses the untagged image "busybox"/);
});

test("images-pinned: a digest pins an image, with or without a tag; a malformed digest does not", (t) => {
  const digest = `sha256:${"a".repeat(64)}`;
  const withImage = (image: string) => (o: Json) => (podSpecOf(o).containers[0].image = image);
  t.deepEqual(
    of(check("Deployment", "img-digest", withImage(`docker.io/library/busybox@${digest}`)), "images-pinned"),
    [],
  );
  t.deepEqual(
    of(check("Deployment", "img-tag-digest", withImage(`docker.io/library/busybox:latest@${digest}`)), "images-pinned"),
    [],
  );
  const bad = of(
    check("Deployment", "img-bad-digest", withImage("docker.io/library/busybox@sha256:abc")),
    "images-pinned",
  );
  t.deepEqual(
    bad.map((x) => x.message),
    ['container "app" has a malformed digest in "docker.io/library/busybox@sha256:abc": use @sha256:<64 hex digits>'],
  );
  const none = of(
    check("Deployment", "img-none", (o) => delete podSpecOf(o).containers[0].image),
    "images-pinned",
  );
  t.deepEqual(
    none.map((x) => x.message),
    ['container "app" has no image'],
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Advisory policies

const ADVISORY: readonly [string, (o: Json) => void, string][] = [
  [
    "containers-read-only-root-filesystem",
    (o) => delete podSpecOf(o).containers[0].securityContext.readOnlyRootFilesystem,
    'container "app" has a writable root filesystem',
  ],
  [
    "containers-run-as-non-root",
    (o) => {
      delete podSpecOf(o).containers[0].securityContext.runAsNonRoot;
      delete podSpecOf(o).securityContext.runAsNonRoot;
    },
    'container "app" may run as root',
  ],
  [
    "containers-seccomp-profile",
    (o) => {
      delete podSpecOf(o).containers[0].securityContext.seccompProfile;
      podSpecOf(o).securityContext.seccompProfile = { type: "Unconfined" };
    },
    'container "app" has no seccomp profile',
  ],
  [
    "containers-drop-all-capabilities",
    (o) => (podSpecOf(o).initContainers[0].securityContext.capabilities = {}),
    'init container "init" keeps the default capabilities',
  ],
  [
    "containers-probes",
    (o) => delete podSpecOf(o).containers[0].readinessProbe,
    'container "app" has no readinessProbe: add one',
  ],
  ["multi-replica-anti-affinity", (o) => delete podSpecOf(o).affinity, "2 replicas may land on one node"],
];

for (const [policy, change, message] of ADVISORY) {
  test(`${policy} is advisory and says what to change`, (t) => {
    const v = check("Deployment", `adv-${policy}`, change);
    t.deepEqual(mandatoryPolicies(v), []);
    t.is(of(v, policy).length, 1);
    t.is(of(v, policy)[0].level, "advisory");
    t.true(of(v, policy)[0].message.startsWith(message), of(v, policy)[0].message);
  });
}

test("containers-probes: Jobs, CronJobs and run-once Pods need no probes", (t) => {
  const noProbes = (o: Json) => {
    delete podSpecOf(o).containers[0].livenessProbe;
    delete podSpecOf(o).containers[0].readinessProbe;
  };
  t.deepEqual(of(check("Job", "probes-job", noProbes), "containers-probes"), []);
  t.deepEqual(of(check("CronJob", "probes-cronjob", noProbes), "containers-probes"), []);
  const runOnce = (o: Json) => {
    noProbes(o);
    o.spec.restartPolicy = "Never";
  };
  t.deepEqual(of(check("Pod", "probes-pod-once", runOnce), "containers-probes"), []);
  t.is(of(check("DaemonSet", "probes-ds", noProbes), "containers-probes").length, 1);
});

test("multi-replica-anti-affinity: topology spread counts, one replica needs nothing", (t) => {
  const spread = (o: Json) => {
    delete podSpecOf(o).affinity;
    podSpecOf(o).topologySpreadConstraints = [
      { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule" },
    ];
  };
  t.deepEqual(of(check("StatefulSet", "aa-spread", spread), "multi-replica-anti-affinity"), []);
  const single = (o: Json) => {
    delete podSpecOf(o).affinity;
    o.spec.replicas = 1;
  };
  t.deepEqual(of(check("Deployment", "aa-single", single), "multi-replica-anti-affinity"), []);
});

// ---------------------------------------------------------------------------------------------------------------
// Exemptions

/** The node agents' specs as the built-in exemptions describe them. */
function agentSpec(agent: "node-exporter" | "filebeat" | "falco"): (o: Json) => void {
  return (o) => {
    const spec = podSpecOf(o);
    const container = spec.containers[0];
    const paths = DEFAULT_EXEMPTIONS.find((e) => e.name === agent && e.policy === "no-host-path-volumes")?.values ?? [];
    spec.volumes = paths.map((path, i) => ({ name: `host-${i}`, hostPath: { path } }));
    if (agent !== "node-exporter") container.securityContext.runAsUser = 0;
    if (agent === "falco")
      container.securityContext.capabilities.add = ["BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"];
  };
}

for (const agent of ["node-exporter", "filebeat", "falco"] as const) {
  test(`exemptions: the ${agent} DaemonSet in node-agents passes with exactly its host access`, (t) => {
    const object = workload("DaemonSet", agent, "node-agents", hardenedPodSpec(agent));
    agentSpec(agent)(object);
    t.deepEqual(mandatoryPolicies(evaluate([k8s(object)])), []);
  });

  test(`exemptions: the same spec as ${agent} under another name or namespace is refused`, (t) => {
    for (const [name, namespace] of [
      [`${agent}-copy`, "node-agents"],
      [agent, "apps"],
    ]) {
      const object = workload("DaemonSet", name, namespace, hardenedPodSpec(name));
      agentSpec(agent)(object);
      const expected = DEFAULT_EXEMPTIONS.filter((e) => e.name === agent).map((e) => e.policy);
      t.deepEqual(mandatoryPolicies(evaluate([k8s(object)])), [...new Set(expected)].sort(), `${namespace}/${name}`);
    }
  });

  test(`exemptions: the ${agent} exemption covers its own policies only`, (t) => {
    const object = workload("DaemonSet", agent, "node-agents", hardenedPodSpec(agent));
    agentSpec(agent)(object);
    podSpecOf(object).hostIPC = true;
    podSpecOf(object).containers[0].securityContext.privileged = true;
    t.deepEqual(mandatoryPolicies(evaluate([k8s(object)])), ["no-host-ipc", "no-privileged-containers"]);
  });

  test(`exemptions: the ${agent} exemption does not cover another kind of workload`, (t) => {
    const object = workload("Deployment", agent, "node-agents", hardenedPodSpec(agent));
    agentSpec(agent)(object);
    t.not(mandatoryPolicies(evaluate([k8s(object)])).length, 0);
  });
}

test("exemptions: a host path beyond the exempted values is refused, naming that path only", (t) => {
  const object = workload("DaemonSet", "node-exporter", "node-agents", hardenedPodSpec("node-exporter"));
  podSpecOf(object).volumes = [
    { name: "proc", hostPath: { path: "/proc" } },
    { name: "root", hostPath: { path: "/etc" } },
  ];
  const v = of(evaluate([k8s(object)]), "no-host-path-volumes");
  t.deepEqual(
    v.map((x) => x.message),
    ['volume "root" mounts the node\'s "/etc": use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume'],
  );
});

test("exemptions: a configured list replaces the built-in one; entries need a reason", (t) => {
  const object = workload("DaemonSet", "node-exporter", "node-agents", hardenedPodSpec("node-exporter"));
  agentSpec("node-exporter")(object);
  t.is(
    of(evaluate([k8s(object)], { config: { "no-host-path-volumes": { exemptions: [] } } }), "no-host-path-volumes")
      .length,
    2,
  );
  const custom = {
    "no-host-path-volumes": {
      exemptions: [{ kind: "DaemonSet", namespace: "apps", name: "scanner", reason: "reads the image cache" }],
    },
  };
  const scanner = workload("DaemonSet", "scanner", "apps", hardenedPodSpec("scanner"));
  podSpecOf(scanner).volumes = [{ name: "cache", hostPath: { path: "/var/lib/containerd" } }];
  t.deepEqual(of(evaluate([k8s(scanner)], { config: custom }), "no-host-path-volumes"), []);
  t.throws(
    () =>
      evaluate([k8s(scanner)], {
        config: { "no-host-path-volumes": { exemptions: [{ namespace: "apps", name: "scanner" }] } },
      }),
    {
      message: /no-host-path-volumes\.exemptions\.0: must have required property 'reason'/,
    },
  );
});

test("exemptions: every built-in entry is for a node agent in node-agents and states a reason", (t) => {
  t.true(DEFAULT_EXEMPTIONS.length > 0);
  for (const e of DEFAULT_EXEMPTIONS) {
    t.is(e.namespace, "node-agents");
    t.true(["node-exporter", "filebeat", "falco"].includes(e.name), e.name);
    t.is(e.kind, "DaemonSet");
    t.true(e.reason.length > 20, e.reason);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Services

function service(name: string, type: string | undefined, annotations?: Json): Json {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "apps", ...(annotations ? { annotations } : {}) },
    spec: { ...(type ? { type } : {}), ports: [{ port: 80 }] },
  };
}

test("no-external-services: ClusterIP passes; LoadBalancer and NodePort are refused", (t) => {
  t.deepEqual(evaluate([k8s(service("svc-default", undefined)), k8s(service("svc-cluster", "ClusterIP"))]), []);
  for (const type of ["LoadBalancer", "NodePort"]) {
    const v = evaluate([k8s(service(`svc-${type.toLowerCase()}`, type))]);
    t.deepEqual(mandatoryPolicies(v), ["no-external-services"]);
    t.true(v[0].message.startsWith(`is a ${type} Service, reachable from outside the cluster`));
  }
});

test("no-external-services: an annotation with a reason, or a config entry, allows one Service", (t) => {
  const annotated = service("svc-annotated", "LoadBalancer", {
    "zarish.health/allow-external-service": "public ingress",
  });
  t.deepEqual(evaluate([k8s(annotated)]), []);
  const empty = service("svc-empty-reason", "LoadBalancer", { "zarish.health/allow-external-service": " " });
  t.is(evaluate([k8s(empty)]).length, 1);
  const config = {
    "no-external-services": { allowed: [{ namespace: "apps", name: "svc-config", reason: "partner VPN endpoint" }] },
  };
  t.deepEqual(evaluate([k8s(service("svc-config", "NodePort"))], { config }), []);
  t.is(evaluate([k8s(service("svc-other", "NodePort"))], { config }).length, 1);
});

test("no-host-path-volumes: an exempted host path mounted writable is refused all the same", (t) => {
  const object = workload("DaemonSet", "node-exporter", "node-agents", hardenedPodSpec("node-exporter"));
  podSpecOf(object).volumes = [{ name: "proc", hostPath: { path: "/proc" } }];
  podSpecOf(object).containers[0].volumeMounts = [{ name: "proc", mountPath: "/host/proc", readOnly: true }];
  t.deepEqual(evaluate([k8s(object)]), []);
  podSpecOf(object).initContainers[0].volumeMounts = [{ name: "proc", mountPath: "/host/proc" }];
  t.deepEqual(
    of(evaluate([k8s(object)]), "no-host-path-volumes").map((x) => x.message),
    ['init container "init" mounts the node\'s "/proc" writable: set readOnly: true on its volumeMount'],
  );
});
