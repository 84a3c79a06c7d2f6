/** The Logging component under the mock engine: what each stack sends, asserted on the recorded inputs. */
import test from "ava";
import * as yaml from "js-yaml";
import type { ServiceEndpoint } from "../components/k8s";
import { parseQuantity } from "../components/k8s";
import { Logging, type LoggingArgs } from "../components/logging";
import { pipelineFiles } from "../components/logging/logstash-config";
import { testConfig } from "./helpers/config";
import {
  containersOf,
  findResource,
  type RecordedResource,
  resourcesOfType,
  runComponent,
  SECRET,
} from "./helpers/harness";
import { containerNamed, kubernetesObjects, metadataOf, objectNamed, podSpecOf } from "./helpers/objects";
import { assertLoggingInvariants } from "./logging-helpers";

const CLIENTS = {
  grafana: { namespace: "monitoring", access: "logs-reader" },
  jaeger: { namespace: "monitoring", access: "jaeger-writer" },
} as const;

function args(stack: "staging" | "prod", snapshots = true): LoggingArgs {
  const config = testConfig(stack);
  return {
    namespace: "logging",
    agentsNamespace: "node-agents",
    environment: config.environment,
    config: config.logging,
    storageClass: config.kubernetes.storageClass,
    snapshots: snapshots
      ? {
          bucket: `zarish-${stack}-backups`,
          roleArn: `arn:aws:iam::123456789012:role/${stack}-es-snapshots`,
          region: "eu-west-1",
        }
      : undefined,
    clients: CLIENTS,
  };
}

async function render(
  name: string,
  stack: "staging" | "prod",
  snapshots = true,
): Promise<{ resources: RecordedResource[]; logging: Logging }> {
  let logging: Logging | undefined;
  const resources = await runComponent(() => {
    logging = new Logging(name, args(stack, snapshots));
  });
  return { resources, logging: logging! };
}

const prodRun = render("lp", "prod");
const stagingRun = render("ls", "staging", false);

test("prod: every object is named, labelled, schema-valid, has limits, and no ConfigMap holds a secret", async (t) => {
  const { resources } = await prodRun;
  await assertLoggingInvariants(t, resources);
});

test("staging: the same invariants hold", async (t) => {
  const { resources } = await stagingRun;
  await assertLoggingInvariants(t, resources);
});

test("prod Elasticsearch: 3 nodes, Parallel, 100Gi volumes of the configured class, 2g heap under a >= 4Gi limit", async (t) => {
  const { resources } = await prodRun;
  const config = testConfig("prod");
  const sts = objectNamed(resources, "StatefulSet", "elasticsearch", "logging");
  const spec = sts.inputs.spec as Record<string, any>;
  t.is(spec.replicas, 3);
  t.is(spec.podManagementPolicy, "Parallel");
  t.is(spec.serviceName, "elasticsearch-headless");
  t.deepEqual(spec.volumeClaimTemplates[0].spec, {
    accessModes: ["ReadWriteOnce"],
    storageClassName: config.kubernetes.storageClass,
    resources: { requests: { storage: "100Gi" } },
  });
  const es = containerNamed(sts, "elasticsearch");
  t.is(es.env.find((e: { name: string }) => e.name === "ES_JAVA_OPTS").value, "-Xms2g -Xmx2g");
  t.true(parseQuantity(es.resources.limits.memory)! >= 4 * 2 ** 30);
  t.is(es.resources.requests.memory, es.resources.limits.memory, "memory is not overcommitted");
  t.deepEqual(es.readinessProbe.exec.command, ["bash", "/mnt/configmap/readiness.sh"]);
  t.is(
    es.env.find((e: { name: string }) => e.name === "ELASTIC_PASSWORD").valueFrom.secretKeyRef.name,
    "elasticsearch-elastic-credentials",
  );
  t.is(es.securityContext.privileged, false);
  t.is(podSpecOf(sts).securityContext.fsGroup, 1000);
  t.false(
    containersOf(sts).some((c: Record<string, any>) => c.securityContext?.privileged === true),
    "no privileged container",
  );
});

test("prod Elasticsearch: required anti-affinity across nodes, a PDB of maxUnavailable 1, discovery before readiness", async (t) => {
  const { resources } = await prodRun;
  const pod = podSpecOf(objectNamed(resources, "StatefulSet", "elasticsearch"));
  const [term] = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  t.is(term.topologyKey, "kubernetes.io/hostname");
  t.deepEqual(term.labelSelector.matchLabels, {
    "app.kubernetes.io/name": "elasticsearch",
    "app.kubernetes.io/instance": "elasticsearch",
  });
  const pdb = objectNamed(resources, "PodDisruptionBudget", "elasticsearch").inputs.spec as Record<string, any>;
  t.is(pdb.maxUnavailable, 1);
  t.deepEqual(pdb.selector.matchLabels, term.labelSelector.matchLabels);
  const headless = objectNamed(resources, "Service", "elasticsearch-headless").inputs.spec as Record<string, any>;
  t.is(headless.clusterIP, "None");
  t.is(headless.publishNotReadyAddresses, true);
  const client = objectNamed(resources, "Service", "elasticsearch").inputs.spec as Record<string, any>;
  t.deepEqual(
    client.ports.map((p: { port: number }) => p.port),
    [9200],
  );
});

test("prod Elasticsearch: config has the pod names for the bootstrap and no single-node discovery", async (t) => {
  const { resources } = await prodRun;
  const data = objectNamed(resources, "ConfigMap", "elasticsearch-config").inputs.data as Record<string, string>;
  const settings = yaml.load(data["elasticsearch.yml"]) as Record<string, unknown>;
  t.is(settings["discovery.type"], undefined);
  t.deepEqual(settings["discovery.seed_hosts"], ["elasticsearch-headless.logging.svc"]);
  t.is(settings["s3.client.default.endpoint"], "s3.eu-west-1.amazonaws.com");
  t.deepEqual(
    (yaml.load(data["initial-master-nodes.yml"]) as Record<string, unknown>)["cluster.initial_master_nodes"],
    ["elasticsearch-0", "elasticsearch-1", "elasticsearch-2"],
  );
  const annotation = metadataOf(objectNamed(resources, "StatefulSet", "elasticsearch")).annotations;
  t.is(annotation, undefined);
  const podAnnotations = ((objectNamed(resources, "StatefulSet", "elasticsearch").inputs.spec as Record<string, any>)
    .template.metadata.annotations ?? {}) as Record<string, string>;
  t.regex(podAnnotations["checksum/config"], /^[0-9a-f]{16}$/);
});

test("prod: the snapshot role reaches the elasticsearch ServiceAccount (IRSA), which mounts no API token", async (t) => {
  const { resources } = await prodRun;
  const sa = objectNamed(resources, "ServiceAccount", "elasticsearch", "logging");
  t.is(metadataOf(sa).annotations?.["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/prod-es-snapshots");
  t.is(sa.inputs.automountServiceAccountToken, false);
});

test("staging: smaller as its config says, preferred anti-affinity, no snapshot repository", async (t) => {
  const { resources } = await stagingRun;
  const config = testConfig("staging").logging;
  const sts = objectNamed(resources, "StatefulSet", "elasticsearch");
  const spec = sts.inputs.spec as Record<string, any>;
  t.is(spec.replicas, config.elasticsearch.replicas);
  t.is(spec.volumeClaimTemplates[0].spec.resources.requests.storage, config.elasticsearch.storageSize);
  t.is(
    containerNamed(sts, "elasticsearch").env.find((e: { name: string }) => e.name === "ES_JAVA_OPTS").value,
    `-Xms${config.elasticsearch.heapSize} -Xmx${config.elasticsearch.heapSize}`,
  );
  t.truthy(spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution);
  t.is(spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined);
  t.is(
    metadataOf(objectNamed(resources, "ServiceAccount", "elasticsearch")).annotations?.["eks.amazonaws.com/role-arn"],
    undefined,
  );
  const files = objectNamed(resources, "ConfigMap", "elasticsearch-bootstrap-requests").inputs.data as Record<
    string,
    string
  >;
  t.false(files["requests.tsv"].includes("/_snapshot/"));
});

test("every password is a Pulumi secret in a Secret; the elastic password comes from @pulumi/random", async (t) => {
  const { resources } = await prodRun;
  const passwords = resourcesOfType(resources, "random:index/randomPassword:RandomPassword");
  t.true(passwords.length >= 8);
  for (const p of passwords) t.is(p.inputs.special, false, `${p.name}: alphanumeric`);
  for (const secret of kubernetesObjects(resources).filter((r) => r.inputs.kind === "Secret")) {
    const data = secret.inputs.stringData as Record<string, string>;
    for (const [key, value] of Object.entries(data)) {
      if (key === "username") t.notRegex(value, /mock-/);
      else t.is(value, SECRET, `${metadataOf(secret).name}/${key}`);
    }
  }
  const elastic = objectNamed(resources, "Secret", "elasticsearch-elastic-credentials");
  t.true(
    elastic.dependencies.some((urn) => urn.includes("RandomPassword")),
    "elastic password from RandomPassword",
  );
});

test("clients get a user, a Secret and the CA ConfigMap in their own namespace", async (t) => {
  const { resources, logging } = await prodRun;
  t.deepEqual(logging.elasticsearchCredentials.grafana, {
    namespace: "monitoring",
    username: "grafana",
    secretName: "elasticsearch-grafana-credentials",
    usernameKey: "username",
    passwordKey: "password",
    caConfigMap: "logging-ca",
    caKey: "ca.crt",
  });
  for (const client of ["grafana", "jaeger"]) {
    objectNamed(resources, "Secret", `elasticsearch-${client}-credentials`, "monitoring");
    objectNamed(resources, "Secret", `elasticsearch-${client}-credentials`, "logging");
  }
  for (const ns of ["monitoring", "node-agents"]) {
    const ca = objectNamed(resources, "ConfigMap", "logging-ca", ns);
    t.is(ca.inputs.data, undefined, "filled by the bootstrap Job, not by Pulumi");
    const role = objectNamed(resources, "Role", "logging-ca-publisher", ns).inputs.rules as Record<string, any>[];
    t.deepEqual(role, [
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["logging-ca"], verbs: ["get", "patch"] },
    ]);
  }
});

test("the bootstrap Job: pinned curl image, ILM with the audit floor, credentials only from Secrets, before the workloads", async (t) => {
  const { resources } = await prodRun;
  const job = kubernetesObjects(resources).find((r) => r.inputs.kind === "Job")!;
  t.regex(metadataOf(job).name!, /^elasticsearch-bootstrap-[0-9a-f]{10}$/);
  const container = containerNamed(job, "bootstrap");
  t.regex(container.image, /^docker\.io\/curlimages\/curl:\d+\.\d+\.\d+$/);
  for (const env of container.env as { name: string; value?: string; valueFrom?: unknown }[]) {
    if (env.name.includes("PASSWORD")) t.truthy(env.valueFrom, `${env.name} from a Secret`);
  }
  const files = objectNamed(resources, "ConfigMap", "elasticsearch-bootstrap-requests").inputs.data as Record<
    string,
    string
  >;
  const line = files["requests.tsv"].split("\n").find((l) => l.includes("/_ilm/policy/zarish-audit-retention"))!;
  const audit = JSON.parse(files[line.split("\t")[2]]);
  t.true(Number(/^(\d+)d$/.exec(audit.policy.phases.delete.min_age)![1]) >= 2192);
  t.true(files["requests.tsv"].includes("PUT\t/_snapshot/zarish-s3"));
  t.true(files["bootstrap.sh"].startsWith("#!/bin/sh"));
  // Kibana, Logstash, the exporter and Filebeat wait for it (their users and the CA exist by then).
  for (const [kind, name] of [
    ["Deployment", "kibana"],
    ["StatefulSet", "logstash"],
    ["Deployment", "elasticsearch-exporter"],
    ["DaemonSet", "filebeat"],
  ]) {
    t.true(
      objectNamed(resources, kind, name).dependencies.includes(job.urn),
      `${kind} ${name} after the bootstrap Job`,
    );
  }
  t.true(
    job.dependencies.includes(objectNamed(resources, "StatefulSet", "elasticsearch").urn),
    "the Job waits for Elasticsearch",
  );
});

test("Logstash: a StatefulSet with the seed's pipeline files, persisted queues on per-pod volumes", async (t) => {
  const { resources } = await prodRun;
  const config = testConfig("prod").logging.logstash;
  const sts = objectNamed(resources, "StatefulSet", "logstash", "logging");
  const spec = sts.inputs.spec as Record<string, any>;
  t.is(spec.replicas, config.replicas);
  t.is(spec.volumeClaimTemplates[0].spec.resources.requests.storage, config.storageSize);
  const pipelines = objectNamed(resources, "ConfigMap", "logstash-pipelines").inputs.data as Record<string, string>;
  t.deepEqual(
    pipelines,
    pipelineFiles({
      elasticsearchUrl: "https://elasticsearch.logging.svc:9200",
      auditSources: ["zarish-sphere-api", "zarish-sphere-fhir"],
    }),
  );
  const settings = objectNamed(resources, "ConfigMap", "logstash-config").inputs.data as Record<string, string>;
  const pipelinesYml = yaml.load(settings["pipelines.yml"]) as Record<string, unknown>[];
  t.deepEqual(
    pipelinesYml.map((p) => [p["queue.type"], p["queue.max_bytes"]]),
    [
      ["persisted", "8192mb"],
      ["persisted", "8192mb"],
    ],
  );
  const logstash = containerNamed(sts, "logstash");
  t.deepEqual(
    logstash.ports.map((p: { containerPort: number }) => p.containerPort),
    [5044, 9600],
  );
  t.is(logstash.volumeMounts.find((m: { name: string }) => m.name === "data").mountPath, "/usr/share/logstash/data");
});

test("Filebeat: DaemonSet in node-agents, read-only host log mounts only, root without any capability", async (t) => {
  const { resources } = await prodRun;
  const ds = objectNamed(resources, "DaemonSet", "filebeat", "node-agents");
  const pod = podSpecOf(ds);
  const hostPaths = (pod.volumes as Record<string, any>[]).filter((v) => v.hostPath);
  t.deepEqual(hostPaths.map((v) => v.hostPath.path).sort(), ["/var/log/containers", "/var/log/pods"]);
  const filebeat = containerNamed(ds, "filebeat");
  for (const v of hostPaths) {
    t.is(filebeat.volumeMounts.find((m: { name: string }) => m.name === v.name).readOnly, true, `${v.name} read-only`);
  }
  t.like(filebeat.securityContext, {
    runAsUser: 0,
    runAsNonRoot: false,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  });
  t.falsy(pod.hostNetwork);
  t.falsy(pod.hostPID);
  const config = yaml.load(
    (objectNamed(resources, "ConfigMap", "filebeat-config", "node-agents").inputs.data as Record<string, string>)[
      "filebeat.yml"
    ],
  ) as Record<string, any>;
  t.deepEqual(config["output.logstash"].hosts, ["logstash.logging.svc:5044"]);
  t.deepEqual(config["filebeat.inputs"][0].fields, { environment: "prod" });
  const role = findResource(
    resources,
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "lp-filebeat-cluster-role",
  );
  t.deepEqual((role.inputs.rules as Record<string, any>[])[0].verbs, ["get", "list", "watch"]);
});

test("Kibana: its own credentials, ClusterIP Service, configured replicas", async (t) => {
  const { resources } = await prodRun;
  const deployment = objectNamed(resources, "Deployment", "kibana", "logging");
  t.is((deployment.inputs.spec as Record<string, any>).replicas, testConfig("prod").logging.kibana.replicas);
  const kibana = containerNamed(deployment, "kibana");
  t.is(
    kibana.env.find((e: { name: string }) => e.name === "KIBANA_SYSTEM_PASSWORD").valueFrom.secretKeyRef.name,
    "kibana-credentials",
  );
  t.is((objectNamed(resources, "Service", "kibana").inputs.spec as Record<string, any>).type, "ClusterIP");
  const yml = yaml.load(
    (objectNamed(resources, "ConfigMap", "kibana-config").inputs.data as Record<string, string>)["kibana.yml"],
  ) as Record<string, unknown>;
  t.is(yml["elasticsearch.username"], "kibana_system");
});

test("typed outputs: endpoints for monitoring, backup and network policies", async (t) => {
  const { logging } = await prodRun;
  const endpoint = (service: string, port: number, scheme: ServiceEndpoint["scheme"]) => ({
    namespace: "logging",
    service,
    port,
    scheme,
    podSelector: { "app.kubernetes.io/name": service, "app.kubernetes.io/instance": service },
  });
  t.deepEqual(logging.elasticsearch, endpoint("elasticsearch", 9200, "https"));
  t.deepEqual(logging.elasticsearchTransport, {
    ...endpoint("elasticsearch", 9300, "tcp"),
    service: "elasticsearch-headless",
  });
  t.deepEqual(logging.logstash, endpoint("logstash", 5044, "tcp"));
  t.deepEqual(logging.kibana, endpoint("kibana", 5601, "https"));
  t.deepEqual(logging.metrics, endpoint("elasticsearch-exporter", 9114, "http"));
  t.is(logging.peers.filebeat.namespace, "node-agents");
  t.is(logging.snapshotRepository, "zarish-s3");
  t.deepEqual(logging.elasticCredentials, { name: "elasticsearch-elastic-credentials", key: "password" });
});

test("the Logging component validates its arguments before registering anything", async (t) => {
  const bad = { ...args("prod"), config: { ...testConfig("prod").logging, auditRetentionDays: 365 } };
  let resources: RecordedResource[] = [];
  await t.throwsAsync(
    async () => {
      resources = await runComponent(() => new Logging("lbad", bad));
    },
    { message: /auditRetentionDays must be >= 2192/ },
  );
  t.is(resources.length, 0);
});
