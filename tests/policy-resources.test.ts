import test from "ava";
import { evaluate, hardenedPodSpec, type Json, k8s, of, podSpecOf, WORKLOAD_KINDS, workload } from "./helpers/policy";

// container-resources: every container and init container of every workload kind requests and limits CPU and
// memory, limit >= request, below the configurable ceiling.

function violationsFor(
  kind: (typeof WORKLOAD_KINDS)[number] | "ReplicationController",
  name: string,
  change: (o: Json) => void,
  config?: Json,
) {
  const object = workload(kind, name, "apps", hardenedPodSpec(name));
  change(object);
  return of(evaluate([k8s(object)], { config }), "container-resources");
}

const init = (o: Json) => podSpecOf(o).initContainers[0];
const main = (o: Json) => podSpecOf(o).containers[0];

for (const kind of [...WORKLOAD_KINDS, "ReplicationController"] as const) {
  const k = kind.toLowerCase();
  test(`container-resources: a hardened ${kind} passes`, (t) => {
    t.deepEqual(
      violationsFor(kind, `res-ok-${k}`, () => {}),
      [],
    );
  });

  test(`container-resources: ${kind} init container without a CPU request is refused`, (t) => {
    const v = violationsFor(kind, `res-init-cpu-${k}`, (o) => delete init(o).resources.requests.cpu);
    t.deepEqual(
      v.map((x) => x.message),
      ['init container "init" has no cpu request: set resources.requests.cpu'],
    );
    t.is(v[0].level, "mandatory");
  });

  test(`container-resources: ${kind} container without a memory limit is refused`, (t) => {
    const v = violationsFor(kind, `res-main-mem-${k}`, (o) => delete main(o).resources.limits.memory);
    t.deepEqual(
      v.map((x) => x.message),
      ['container "app" has no memory limit: set resources.limits.memory'],
    );
  });

  test(`container-resources: ${kind} init container without any resources is refused four times`, (t) => {
    const v = violationsFor(kind, `res-init-none-${k}`, (o) => delete init(o).resources);
    t.is(v.length, 4);
    t.true(v.every((x) => x.message.startsWith('init container "init" has no ')));
  });
}

test("container-resources: a limit below its request is refused", (t) => {
  const v = violationsFor("Deployment", "res-below", (o) => (main(o).resources.limits.cpu = "50m"));
  t.deepEqual(
    v.map((x) => x.message),
    ['container "app" has a cpu limit (50m) below its request (100m): raise the limit or lower the request'],
  );
});

test("container-resources: a malformed quantity is refused", (t) => {
  const v = violationsFor("Deployment", "res-malformed", (o) => (init(o).resources.requests.memory = "lots"));
  t.deepEqual(
    v.map((x) => x.message),
    ['init container "init" has a malformed memory request "lots"'],
  );
});

test("container-resources: the default ceilings are 8 CPUs and 32Gi per container", (t) => {
  t.deepEqual(
    violationsFor("StatefulSet", "res-ceiling-ok", (o) => (main(o).resources.limits = { cpu: "8", memory: "32Gi" })),
    [],
  );
  const v = violationsFor(
    "StatefulSet",
    "res-ceiling",
    (o) => (main(o).resources.limits = { cpu: "8500m", memory: "33Gi" }),
  );
  t.deepEqual(
    v.map((x) => x.message),
    [
      'container "app" has a cpu limit (8500m) above the ceiling of one container: split the work or raise maxCpu',
      'container "app" has a memory limit (33Gi) above the ceiling of one container: split the work or raise maxMemory',
    ],
  );
});

test("container-resources: the ceilings come from config", (t) => {
  const config = { "container-resources": { maxCpu: "150m", maxMemory: "100Mi" } };
  const v = violationsFor("CronJob", "res-config", () => {}, config);
  t.deepEqual(
    v.map((x) => x.message),
    [
      'init container "init" has a cpu limit (200m) above the ceiling of one container: split the work or raise maxCpu',
      'init container "init" has a memory limit (128Mi) above the ceiling of one container: split the work or raise maxMemory',
      'container "app" has a cpu limit (200m) above the ceiling of one container: split the work or raise maxCpu',
      'container "app" has a memory limit (128Mi) above the ceiling of one container: split the work or raise maxMemory',
    ],
  );
});

test("container-resources: ephemeral containers are not required to set resources (the API refuses them there)", (t) => {
  const v = violationsFor("Pod", "res-ephemeral", (o) => {
    podSpecOf(o).ephemeralContainers = [
      { name: "debug", image: "docker.io/library/busybox:1.36", targetContainerName: "app" },
    ];
  });
  t.deepEqual(v, []);
});

test("container-resources: numeric quantities are accepted", (t) => {
  t.deepEqual(
    violationsFor(
      "Job",
      "res-numbers",
      (o) => (main(o).resources = { requests: { cpu: 1, memory: 1e8 }, limits: { cpu: 2, memory: 2e8 } }),
    ),
    [],
  );
});
