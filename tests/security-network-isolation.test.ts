import test from "ava";
import { type PodPeer, type ServiceEndpoint, selectorLabels } from "../components/k8s";
import {
  type CidrDestination,
  connectionAllowed,
  type Endpoint,
  type Flow,
  flowPolicies,
  flowProblems,
  internetHttps,
  kubeApiServerFlows,
  NetworkIsolation,
  type NetworkPolicyObject,
  type PodRef,
  selectorMatches,
} from "../components/security";
import { runComponent } from "./helpers/harness";
import { assertObjectInvariants } from "./helpers/invariants";
import { metadataOf, objectsOfKind } from "./helpers/objects";

// ---------------------------------------------------------------------------------------------------------------
// The evaluator itself: Kubernetes NetworkPolicy semantics, one rule per test.

const pod = (namespace: string, labels: Record<string, string>): PodRef => ({ namespace, labels });
const policy = (namespace: string, spec: NetworkPolicyObject["spec"]): NetworkPolicyObject => ({
  metadata: { name: "p", namespace },
  spec,
});
const A = pod("a", { app: "client" });
const B = pod("b", { app: "server" });

test("evaluator: with no policy selecting either pod, everything is allowed", (t) => {
  t.true(connectionAllowed([], A, B, 80));
  t.true(connectionAllowed([policy("c", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })], A, B, 80));
});

test("evaluator: default-deny on one side is enough to deny", (t) => {
  const denyIngress = policy("b", { podSelector: {}, policyTypes: ["Ingress"] });
  const denyEgress = policy("a", { podSelector: {}, policyTypes: ["Egress"] });
  t.false(connectionAllowed([denyIngress], A, B, 80));
  t.false(connectionAllowed([denyEgress], A, B, 80));
});

test("evaluator: policyTypes defaults to Ingress, plus Egress only when egress rules are present", (t) => {
  const ingressOnly = policy("a", { podSelector: {} });
  t.true(connectionAllowed([ingressOnly], A, B, 80), "a policy without egress rules does not isolate egress");
  const withEgress = policy("a", { podSelector: {}, egress: [] });
  t.false(connectionAllowed([withEgress], A, B, 80));
});

test("evaluator: a podSelector peer without namespaceSelector means the policy's own namespace", (t) => {
  const deny = policy("b", { podSelector: {}, policyTypes: ["Ingress"] });
  const sameNs = policy("b", {
    podSelector: {},
    ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }] }],
  });
  t.false(connectionAllowed([deny, sameNs], A, B, 80));
  t.true(connectionAllowed([deny, sameNs], pod("b", { app: "client" }), B, 80));
  const anyNs = policy("b", {
    podSelector: {},
    ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "client" } } }] }],
  });
  t.true(connectionAllowed([deny, anyNs], A, B, 80));
});

test("evaluator: ports, endPort ranges, protocols, and named ports", (t) => {
  const deny = policy("b", { podSelector: {}, policyTypes: ["Ingress"] });
  const ranged = policy("b", { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8010 }] }] });
  t.true(connectionAllowed([deny, ranged], A, B, 8005));
  t.false(connectionAllowed([deny, ranged], A, B, 8011));
  t.false(connectionAllowed([deny, ranged], A, B, 8005, "UDP"), "ports default to TCP");
  const named = policy("b", { podSelector: {}, ingress: [{ ports: [{ port: "http" }] }] });
  t.false(connectionAllowed([deny, named], A, B, 80), "named ports are not resolved: denied");
  const anyPort = policy("b", { podSelector: {}, ingress: [{}] });
  t.true(connectionAllowed([deny, anyPort], A, B, 12345), "a rule without ports and peers allows everything");
});

test("evaluator: ipBlock with except, and external endpoints", (t) => {
  const deny = policy("a", { podSelector: {}, policyTypes: ["Egress"] });
  const internet: NetworkPolicyObject = policy("a", {
    podSelector: {},
    egress: [
      { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "169.254.0.0/16"] } }], ports: [{ port: 443 }] },
    ],
  });
  t.true(connectionAllowed([deny, internet], A, { ip: "52.216.10.1" }, 443));
  t.false(connectionAllowed([deny, internet], A, { ip: "10.3.4.5" }, 443));
  t.false(connectionAllowed([deny, internet], A, { ip: "169.254.169.254" }, 443));
  t.false(connectionAllowed([deny, internet], A, B, 443), "an ipBlock does not match a pod without a known IP");
});

test("evaluator: matchExpressions operators", (t) => {
  const labels = { tier: "db", env: "prod" };
  t.true(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["db", "cache"] }] }, labels));
  t.false(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] }, labels));
  t.true(selectorMatches({ matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, labels));
  t.false(selectorMatches({ matchExpressions: [{ key: "team", operator: "Exists" }] }, labels));
  t.true(selectorMatches({}, labels), "the empty selector selects everything");
  t.false(selectorMatches({ matchLabels: { tier: "db", env: "staging" } }, labels));
});

// ---------------------------------------------------------------------------------------------------------------
// The platform's flows, assembled the way components/platform does from component outputs, on top of the
// default-deny and DNS policies every platform namespace gets.

const peer = (namespace: string, name: string): PodPeer => ({ namespace, podSelector: selectorLabels({ name }) });
const endpoint = (
  namespace: string,
  name: string,
  port: number,
  scheme: ServiceEndpoint["scheme"] = "http",
): ServiceEndpoint => ({
  namespace,
  service: name,
  port,
  scheme,
  podSelector: selectorLabels({ name }),
});

const NS = {
  monitoring: "monitoring",
  logging: "logging",
  security: "security",
  backup: "backup",
  nodeAgents: "node-agents",
  app: "zarish-sphere",
  data: "zarish-data",
  certManager: "cert-manager",
};
const API_SERVER = { cidrs: ["10.0.0.0/16"], port: 443 };
const prometheus = peer(NS.monitoring, "prometheus");
const grafana = peer(NS.monitoring, "grafana");
const jaeger = peer(NS.monitoring, "jaeger");
const logstash = peer(NS.logging, "logstash");
const kibana = peer(NS.logging, "kibana");
const filebeat = peer(NS.nodeAgents, "filebeat");
const databaseBackup = peer(NS.backup, "database-backup");
const objectBackup = peer(NS.backup, "object-backup");
const falco = peer(NS.nodeAgents, "falco");
const falcosidekick = peer(NS.security, "falcosidekick");

const ELASTICSEARCH = endpoint(NS.logging, "elasticsearch", 9200, "https");
const ALERTMANAGER = endpoint(NS.monitoring, "alertmanager", 9093);
const POSTGRES: ServiceEndpoint = {
  ...endpoint(NS.data, "postgresql", 5432, "tcp"),
  podSelector: { app: "postgresql" },
};
const SCRAPE_TARGETS: [string, ServiceEndpoint, number?][] = [
  ["kube-state-metrics", endpoint(NS.monitoring, "kube-state-metrics", 8080)],
  ["postgres-exporter", endpoint(NS.data, "postgres-exporter", 9187)],
  ["redis-exporter", endpoint(NS.data, "redis-exporter", 9121)],
  // The API's Service listens on 80 and forwards to the pods' 8080: the policy must name 8080.
  ["api", { ...endpoint(NS.app, "zarish-sphere-api", 80), podSelector: { app: "zarish-sphere-api" } }, 8080],
  ["falco", endpoint(NS.nodeAgents, "falco", 8765)],
  ["falcosidekick", endpoint(NS.security, "falcosidekick", 2801)],
  ["logstash", endpoint(NS.logging, "logstash", 9600)],
];

const FLOWS: Flow[] = [
  ...SCRAPE_TARGETS.map(
    ([name, to, targetPort]): Flow => ({ name: `prometheus-scrape-${name}`, from: prometheus, to, targetPort }),
  ),
  {
    name: "prometheus-scrape-cert-manager",
    from: prometheus,
    to: {
      ...endpoint(NS.certManager, "cert-manager", 9402),
      podSelector: { "app.kubernetes.io/name": "cert-manager" },
    },
    ingress: false,
  },
  ...kubeApiServerFlows("prometheus-apiserver", prometheus, API_SERVER),
  { name: "prometheus-alertmanager", from: prometheus, to: ALERTMANAGER },
  { name: "grafana-prometheus", from: grafana, to: endpoint(NS.monitoring, "prometheus", 9090) },
  { name: "filebeat-logstash", from: filebeat, to: endpoint(NS.logging, "logstash", 5044, "tcp") },
  { name: "logstash-elasticsearch", from: logstash, to: ELASTICSEARCH },
  { name: "kibana-elasticsearch", from: kibana, to: ELASTICSEARCH },
  { name: "grafana-elasticsearch", from: grafana, to: ELASTICSEARCH },
  { name: "jaeger-elasticsearch", from: jaeger, to: ELASTICSEARCH },
  { name: "database-backup-postgresql", from: databaseBackup, to: POSTGRES },
  { name: "database-backup-s3", from: databaseBackup, to: internetHttps() },
  { name: "object-backup-s3", from: objectBackup, to: internetHttps() },
  ...kubeApiServerFlows("object-backup-apiserver", objectBackup, API_SERVER),
  { name: "falco-falcosidekick", from: falco, to: endpoint(NS.security, "falcosidekick", 2801) },
  { name: "falcosidekick-alertmanager", from: falcosidekick, to: ALERTMANAGER },
];

/** What PlatformNamespace creates in every namespace of the platform: default-deny both ways, and DNS. */
function namespaceBaseline(namespace: string): NetworkPolicyObject[] {
  return [
    { metadata: { name: "default-deny", namespace }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    {
      metadata: { name: "allow-dns-egress", namespace },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    },
  ];
}

/**
 * The namespaces the platform creates (PlatformNamespace). cert-manager's is not among them here: this is the
 * prod case, an existing cert-manager, which is why its scrape flow is egress-only (when the program installs
 * cert-manager, CertManager admits the scrape itself: tests/security-cert-manager.test.ts).
 */
const PLATFORM_NAMESPACES = Object.values(NS).filter((ns) => ns !== NS.certManager);
const POLICIES = [...PLATFORM_NAMESPACES.flatMap(namespaceBaseline), ...flowPolicies(FLOWS)];

/** A pod as it runs: its selector labels plus the other recommended labels. */
function podOf(p: PodPeer): PodRef {
  return { namespace: p.namespace, labels: { ...p.podSelector, "app.kubernetes.io/part-of": "zarish-sphere" } };
}

/** An address inside the destination CIDR and outside its exceptions. */
function addressIn(to: CidrDestination): string {
  return to.cidr === "0.0.0.0/0" ? "52.216.8.34" : to.cidr.replace(/\.0\/\d+$/, ".10");
}

test("every flow the platform needs is allowed through default-deny on both sides", (t) => {
  t.true(FLOWS.length >= 20);
  for (const flow of FLOWS) {
    if ("cidr" in flow.to) {
      for (const port of flow.to.ports) {
        t.true(connectionAllowed(POLICIES, podOf(flow.from), { ip: addressIn(flow.to) }, port), `${flow.name}:${port}`);
      }
    } else {
      const server: PodRef = { namespace: flow.to.namespace, labels: { ...flow.to.podSelector, extra: "label" } };
      t.true(connectionAllowed(POLICIES, podOf(flow.from), server, flow.targetPort ?? flow.to.port), flow.name);
    }
  }
});

test("every pod of the platform still resolves names (DNS to kube-dns)", (t) => {
  const kubeDns = pod("kube-system", { "k8s-app": "kube-dns" });
  for (const namespace of PLATFORM_NAMESPACES) {
    t.true(connectionAllowed(POLICIES, pod(namespace, { any: "pod" }), kubeDns, 53, "UDP"), namespace);
    t.false(connectionAllowed(POLICIES, pod(namespace, { any: "pod" }), pod("kube-system", { other: "x" }), 53, "UDP"));
  }
});

const DENIED: [string, PodRef, Endpoint, number][] = [
  [
    "logstash to the database",
    podOf(logstash),
    podOf({ namespace: NS.data, podSelector: { app: "postgresql" } }),
    5432,
  ],
  ["filebeat straight to Elasticsearch", podOf(filebeat), podOf(peer(NS.logging, "elasticsearch")), 9200],
  ["Elasticsearch back to logstash", podOf(peer(NS.logging, "elasticsearch")), podOf(logstash), 5044],
  ["kibana to logstash's beats port", podOf(kibana), podOf(logstash), 5044],
  [
    "the API to Elasticsearch",
    pod(NS.app, { app: "zarish-sphere-api" }),
    podOf(peer(NS.logging, "elasticsearch")),
    9200,
  ],
  ["Prometheus to PostgreSQL itself (only its exporter)", podOf(prometheus), pod(NS.data, { app: "postgresql" }), 5432],
  [
    "Prometheus to the API's Service port instead of the pod port",
    podOf(prometheus),
    pod(NS.app, { app: "zarish-sphere-api" }),
    80,
  ],
  ["the database backup to the object store's private addresses", podOf(databaseBackup), { ip: "10.1.2.3" }, 443],
  ["a backup job to the instance metadata service", podOf(objectBackup), { ip: "169.254.169.254" }, 80],
  ["a backup job to the internet over plain HTTP", podOf(objectBackup), { ip: "52.216.8.34" }, 80],
  [
    "the database backup to the API server (only the object backup needs it)",
    podOf(databaseBackup),
    { ip: "10.0.0.10" },
    443,
  ],
  ["the database to the internet", pod(NS.data, { app: "postgresql" }), { ip: "52.216.8.34" }, 443],
  ["Grafana to Alertmanager", podOf(grafana), podOf(peer(NS.monitoring, "alertmanager")), 9093],
  ["Falco straight to Alertmanager", podOf(falco), podOf(peer(NS.monitoring, "alertmanager")), 9093],
  ["a pod in the application namespace to falcosidekick", pod(NS.app, { app: "x" }), podOf(falcosidekick), 2801],
];
for (const [what, source, destination, port] of DENIED) {
  test(`an unlisted flow is denied: ${what}`, (t) => {
    t.false(connectionAllowed(POLICIES, source, destination, port));
  });
}

test("an egress-only flow (an existing cert-manager) creates no policy in the destination namespace", (t) => {
  const names = flowPolicies(FLOWS)
    .filter((p) => p.metadata.labels?.["zarish.health/flow"] === "prometheus-scrape-cert-manager")
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  t.deepEqual(names, ["monitoring/allow-prometheus-scrape-cert-manager-egress"]);
});

test("flowPolicies: one egress allow at the client, one ingress allow at the server, on the pod port", (t) => {
  const [egress, ingress] = flowPolicies([
    { name: "grafana-prometheus", from: grafana, to: endpoint(NS.monitoring, "prometheus", 80), targetPort: 9090 },
  ]);
  t.deepEqual(egress.spec, {
    podSelector: { matchLabels: grafana.podSelector },
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: selectorLabels({ name: "prometheus" }) },
          },
        ],
        ports: [{ protocol: "TCP", port: 9090 }],
      },
    ],
  });
  t.is(egress.metadata.name, "allow-grafana-prometheus-egress");
  t.is(ingress.metadata.name, "allow-grafana-prometheus-ingress");
  t.deepEqual(ingress.spec.podSelector, { matchLabels: selectorLabels({ name: "prometheus" }) });
  t.deepEqual(ingress.spec.ingress?.[0].ports, [{ protocol: "TCP", port: 9090 }]);
});

test("internet HTTPS excludes private, CGNAT and link-local ranges (IMDS)", (t) => {
  t.deepEqual(internetHttps(), {
    cidr: "0.0.0.0/0",
    except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"],
    ports: [443],
  });
  t.deepEqual(
    kubeApiServerFlows("x", prometheus, { cidrs: ["10.0.0.0/20", "10.0.16.0/20"], port: 443 }).map((f) => f.name),
    ["x-1", "x-2"],
  );
});

test("NetworkIsolation creates exactly the policies of flowPolicies, schema-valid and labelled", async (t) => {
  const flows = FLOWS.slice(0, 6);
  const recorded = await runComponent(() => new NetworkIsolation("netiso", { flows }));
  await assertObjectInvariants(t, recorded);
  const key = (p: { metadata: unknown }) => {
    const m = p.metadata as { namespace: string; name: string };
    return `${m.namespace}/${m.name}`;
  };
  const sent = objectsOfKind(recorded, "NetworkPolicy")
    .map((r) => ({ metadata: r.inputs.metadata, spec: r.inputs.spec }))
    .sort((a, b) => key(a).localeCompare(key(b)));
  const expected = flowPolicies(flows).sort((a, b) => key(a).localeCompare(key(b)));
  t.is(sent.length, expected.length);
  t.deepEqual(sent, JSON.parse(JSON.stringify(expected)));
  for (const r of objectsOfKind(recorded, "NetworkPolicy")) {
    t.is(metadataOf(r).labels?.["app.kubernetes.io/component"], "network-isolation");
  }
});

const BAD_FLOWS: [string, Flow[], RegExp][] = [
  [
    "a name that is not a DNS label",
    [{ name: "Grafana_Prom", from: grafana, to: ALERTMANAGER }],
    /flows\[0\] "Grafana_Prom": name must be a DNS-1123 label of at most 49 characters/,
  ],
  [
    "a name too long for the policy names",
    [{ name: "x".repeat(50), from: grafana, to: ALERTMANAGER }],
    /name must be a DNS-1123 label of at most 49/,
  ],
  [
    "a duplicate name",
    [
      { name: "dup", from: grafana, to: ALERTMANAGER },
      { name: "dup", from: prometheus, to: ALERTMANAGER },
    ],
    /flows\[1\] "dup": name is used by another flow/,
  ],
  [
    "a bad source namespace",
    [{ name: "f", from: { namespace: "Mon", podSelector: {} }, to: ALERTMANAGER }],
    /from\.namespace must be a DNS-1123 label \(got "Mon"\)/,
  ],
  [
    "a bad destination namespace",
    [{ name: "f", from: grafana, to: { ...ALERTMANAGER, namespace: "" } }],
    /to\.namespace must be a DNS-1123 label/,
  ],
  [
    "a bad port",
    [{ name: "f", from: grafana, to: { ...ALERTMANAGER, port: 70000 } }],
    /to\.port must be a port 1-65535 \(got 70000\)/,
  ],
  [
    "a bad target port",
    [{ name: "f", from: grafana, to: ALERTMANAGER, targetPort: 0 }],
    /targetPort must be a port 1-65535 \(got 0\)/,
  ],
  [
    "a bad CIDR",
    [{ name: "f", from: grafana, to: { cidr: "10.0.0.0/33", ports: [443] } }],
    /to\.cidr must be an IPv4 CIDR \(got "10\.0\.0\.0\/33"\)/,
  ],
  [
    "an exception outside the CIDR",
    [{ name: "f", from: grafana, to: { cidr: "10.0.0.0/16", except: ["10.1.0.0/24"], ports: [443] } }],
    /to\.except 10\.1\.0\.0\/24 is outside to\.cidr 10\.0\.0\.0\/16/,
  ],
  [
    "a CIDR flow without ports",
    [{ name: "f", from: grafana, to: { cidr: "10.0.0.0/16", ports: [] } }],
    /to\.ports must not be empty/,
  ],
  [
    "a target port on a CIDR flow",
    [{ name: "f", from: grafana, to: { cidr: "10.0.0.0/16", ports: [443] }, targetPort: 443 }],
    /targetPort applies only to Service endpoints/,
  ],
];
for (const [what, flows, message] of BAD_FLOWS) {
  test(`flowPolicies rejects ${what}`, (t) => {
    t.throws(() => flowPolicies(flows), { message });
  });
}

test("flowProblems reports every problem of the list at once", (t) => {
  const problems = flowProblems([
    { name: "A", from: grafana, to: ALERTMANAGER },
    { name: "b", from: grafana, to: { ...ALERTMANAGER, port: 0 } },
  ]);
  t.is(problems.length, 2);
});
