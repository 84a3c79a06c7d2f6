import test from "ava";
import { charts } from "../components/k8s";
import {
  CertManager,
  type CertManagerArgs,
  certificateManifests,
  certManagerMetricsEndpoint,
  certManagerPolicies,
  certManagerValues,
  clusterIssuerManifest,
  connectionAllowed,
  flowPolicies,
  type NetworkPolicyObject,
  resolveCertManagerArgs,
} from "../components/security";
import type { PlatformConfig } from "../config/types";
import { testConfig } from "./helpers/config";
import { findResource, type RecordedResource, runComponent } from "./helpers/harness";
import { assertObjectInvariants } from "./helpers/invariants";
import { metadataOf, objectNamed, objectsOfKind } from "./helpers/objects";
import { validateManifest } from "./helpers/schema";

const PROD = testConfig("prod");
const STAGING = testConfig("staging");
const PROMETHEUS = { namespace: "monitoring", podSelector: { "app.kubernetes.io/name": "prometheus" } };

function argsFor(config: PlatformConfig, overrides: Partial<CertManagerArgs> = {}): CertManagerArgs {
  return {
    settings: config.security.certManager,
    acme: config.security.acme,
    certificateHosts: config.security.certificateHosts,
    ingressClass: config.kubernetes.ingressClass,
    applicationNamespace: config.kubernetes.applicationNamespace,
    kubeApiServer: config.security.kubeApiServer,
    metricsScrapers: [PROMETHEUS],
    ...overrides,
  };
}

test("prod's ClusterIssuer is the seed's letsencrypt-prod on the production ACME endpoint and valid against the CRD", async (t) => {
  const issuer = clusterIssuerManifest(resolveCertManagerArgs(argsFor(PROD)));
  await t.notThrowsAsync(validateManifest(issuer));
  t.is(issuer.metadata.name, "letsencrypt-prod");
  t.deepEqual(issuer.spec.acme, {
    server: "https://acme-v02.api.letsencrypt.org/directory",
    email: "admin@zarishsphere.com",
    privateKeySecretRef: { name: "letsencrypt-prod" },
    solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }],
  });
});

test("staging's ClusterIssuer uses Let's Encrypt's staging endpoint and is valid against the CRD", async (t) => {
  const issuer = clusterIssuerManifest(resolveCertManagerArgs(argsFor(STAGING)));
  await t.notThrowsAsync(validateManifest(issuer));
  t.is(issuer.metadata.name, "letsencrypt-staging");
  t.is(issuer.spec.acme.server, "https://acme-staging-v02.api.letsencrypt.org/directory");
  t.deepEqual(issuer.spec.acme.privateKeySecretRef, { name: "letsencrypt-staging" });
});

test("the CRD schema check is not a rubber stamp: an issuer without its ACME server fails it", async (t) => {
  const issuer = clusterIssuerManifest(resolveCertManagerArgs(argsFor(PROD)));
  const broken = { ...issuer, spec: { acme: { ...issuer.spec.acme, server: undefined } } };
  await t.throwsAsync(validateManifest(broken), { message: /server/ });
});

test("one Certificate per configured host (the seed's api, fhir and docs), valid against the CRD", async (t) => {
  const certificates = certificateManifests(resolveCertManagerArgs(argsFor(PROD)));
  t.deepEqual(
    certificates.map((c) => [c.metadata.namespace, c.metadata.name, c.spec.dnsNames]),
    [
      ["zarish-sphere", "api-zarishsphere-com-tls", ["api.zarishsphere.com"]],
      ["zarish-sphere", "fhir-zarishsphere-com-tls", ["fhir.zarishsphere.com"]],
      ["zarish-sphere", "docs-zarishsphere-com-tls", ["docs.zarishsphere.com"]],
    ],
  );
  for (const certificate of certificates) {
    await t.notThrowsAsync(validateManifest(certificate), certificate.metadata.name);
    t.deepEqual(certificate.spec.issuerRef, {
      group: "cert-manager.io",
      kind: "ClusterIssuer",
      name: "letsencrypt-prod",
    });
    t.is(certificate.spec.secretName, certificate.metadata.name);
    t.is(certificate.spec.renewBefore, "720h");
    t.is(certificate.spec.privateKey.rotationPolicy, "Always");
  }
});

test("the chart values: CRDs installed and kept, metrics on, no ServiceMonitor, hardened and sized pods", (t) => {
  const values = certManagerValues(resolveCertManagerArgs(argsFor(STAGING))) as Record<string, any>;
  t.deepEqual(values.crds, { enabled: true, keep: true });
  t.is(values.installCRDs, undefined);
  t.deepEqual(values.prometheus, { enabled: true, servicemonitor: { enabled: false } });
  t.deepEqual(values.global, { leaderElection: { namespace: "cert-manager" } });
  for (const part of [values, values.webhook, values.cainjector, values.startupapicheck]) {
    t.deepEqual(part.resources, { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "100m", memory: "256Mi" } });
    t.deepEqual(part.securityContext, { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    t.deepEqual(part.containerSecurityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
  }
  t.is(values.replicaCount, 1);
  t.deepEqual(values.podDisruptionBudget, { enabled: false });
  const ha = certManagerValues(resolveCertManagerArgs(argsFor(STAGING, { replicas: 2 }))) as Record<string, any>;
  t.is(ha.replicaCount, 2);
  t.is(ha.webhook.replicaCount, 2);
  t.deepEqual(ha.podDisruptionBudget, { enabled: true, minAvailable: 1 });
});

function withDefaultDeny(policies: NetworkPolicyObject[], namespaces: string[]): NetworkPolicyObject[] {
  return [
    ...namespaces.map((namespace) => ({
      metadata: { name: "default-deny", namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] as ("Ingress" | "Egress")[] },
    })),
    ...policies,
  ];
}

test("an installed cert-manager works behind default-deny, and admits only Prometheus to its metrics", (t) => {
  const r = resolveCertManagerArgs(argsFor(STAGING));
  // Prometheus' side is a flow of the platform's NetworkIsolation; cert-manager admits the scrape itself.
  const metrics = certManagerMetricsEndpoint(r.namespace);
  const scrape = flowPolicies([{ name: "prometheus-cert-manager", from: PROMETHEUS, to: metrics, ingress: false }]);
  const policies = withDefaultDeny(
    [...certManagerPolicies(r), ...scrape],
    ["cert-manager", "zarish-sphere", "monitoring", "logging"],
  );
  const pod = (component: string, name = component === "controller" ? "cert-manager" : component) => ({
    namespace: "cert-manager",
    labels: {
      "app.kubernetes.io/name": name,
      "app.kubernetes.io/instance": "cert-manager",
      "app.kubernetes.io/component": component,
    },
  });
  const controller = pod("controller");
  const prometheus = { namespace: "monitoring", labels: { "app.kubernetes.io/name": "prometheus" } };
  const apiServer = { ip: "10.0.12.7" };
  // Metrics: Prometheus only, on 9402 only.
  t.true(connectionAllowed(policies, prometheus, controller, 9402));
  t.false(connectionAllowed(policies, prometheus, controller, 9403));
  t.false(connectionAllowed(policies, { namespace: "logging", labels: prometheus.labels }, controller, 9402));
  t.false(connectionAllowed(policies, prometheus, pod("webhook"), 9402));
  // Every pod reaches the API server; the API server reaches the webhook.
  for (const component of ["controller", "webhook", "cainjector", "startupapicheck"]) {
    t.true(connectionAllowed(policies, pod(component), apiServer, 443), component);
  }
  t.true(connectionAllowed(policies, apiServer, pod("webhook"), 10250));
  t.false(connectionAllowed(policies, { ip: "203.0.113.9" }, pod("webhook"), 10250));
  // ACME and the HTTP-01 self-check go to public addresses, never to private ones or IMDS.
  t.true(connectionAllowed(policies, controller, { ip: "172.65.32.248" }, 443));
  t.true(connectionAllowed(policies, controller, { ip: "198.51.100.10" }, 80));
  t.false(connectionAllowed(policies, controller, { ip: "169.254.169.254" }, 80));
  t.false(connectionAllowed(policies, controller, { ip: "10.1.2.3" }, 443));
  t.false(connectionAllowed(policies, pod("cainjector"), { ip: "172.65.32.248" }, 443));
  // The HTTP-01 solver in the application namespace answers the ingress controller.
  const solver = { namespace: "zarish-sphere", labels: { "acme.cert-manager.io/http01-solver": "true" } };
  const ingress = { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } };
  t.true(connectionAllowed(policies, ingress, solver, 8089));
  t.false(connectionAllowed(policies, ingress, { namespace: "zarish-sphere", labels: { app: "api" } }, 8089));
});

function certManagerObjects(recorded: RecordedResource[]): RecordedResource[] {
  return recorded.filter((r) => r.type.startsWith("kubernetes:cert-manager.io"));
}

test("prod (cert-manager already on the cluster): no Helm release, issuer and certificates only", async (t) => {
  const recorded = await runComponent(() => new CertManager("cm-prod", argsFor(PROD)));
  await assertObjectInvariants(
    t,
    recorded.filter((r) => r.type !== "kubernetes:helm.sh/v3:Release"),
  );
  t.is(recorded.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").length, 0);
  const issuer = findResource(recorded, "kubernetes:cert-manager.io/v1:ClusterIssuer", "cm-prod-issuer");
  t.is(metadataOf(issuer).name, "letsencrypt-prod");
  t.is(metadataOf(issuer).namespace, undefined);
  t.is(certManagerObjects(recorded).length, 4);
  for (const cert of objectsOfKind(recorded, "Certificate")) {
    t.true(cert.dependencies.includes(issuer.urn), `${metadataOf(cert).name} waits for the issuer`);
  }
  // Only the solver's ingress allow: an existing cert-manager's namespace is not this program's to police.
  t.deepEqual(
    objectsOfKind(recorded, "NetworkPolicy").map((p) => `${metadataOf(p).namespace}/${metadataOf(p).name}`),
    ["zarish-sphere/allow-acme-http01-solver-ingress"],
  );
});

test("staging (installs cert-manager): the pinned chart, and the issuer and certificates wait for it", async (t) => {
  const recorded = await runComponent(() => new CertManager("cm-staging", argsFor(STAGING)));
  const release = findResource(recorded, "kubernetes:helm.sh/v3:Release", "cm-staging-release");
  t.like(release.inputs, {
    name: "cert-manager",
    chart: "cert-manager",
    version: charts.certManager.version,
    namespace: "cert-manager",
    createNamespace: false,
  });
  t.deepEqual(release.inputs.repositoryOpts, { repo: "https://charts.jetstack.io" });
  t.deepEqual((release.inputs.values as Record<string, unknown>).crds, { enabled: true, keep: true });
  for (const object of certManagerObjects(recorded)) {
    t.true(object.dependencies.includes(release.urn), `${object.name} depends on the release`);
  }
  t.is(metadataOf(objectNamed(recorded, "ClusterIssuer", "letsencrypt-staging")).name, "letsencrypt-staging");
  t.deepEqual(
    objectsOfKind(recorded, "NetworkPolicy")
      .map((p) => `${metadataOf(p).namespace}/${metadataOf(p).name}`)
      .sort(),
    [
      "cert-manager/allow-acme-egress",
      "cert-manager/allow-apiserver-egress",
      "cert-manager/allow-metrics-ingress",
      "cert-manager/allow-webhook-ingress",
      "zarish-sphere/allow-acme-http01-solver-ingress",
    ],
  );
});

const invalid: [string, Partial<CertManagerArgs>, RegExp][] = [
  [
    "namespace",
    { settings: { install: false, namespace: "Cert_Manager" } },
    /certManager\.namespace must be a DNS-1123 label \(got "Cert_Manager"\)/,
  ],
  ["application namespace", { applicationNamespace: "" }, /applicationNamespace must be a DNS-1123 label/],
  [
    "acme server",
    { acme: { email: "a@b.org", server: "prod" as never } },
    /acme\.server must be "production" or "staging" \(got "prod"\)/,
  ],
  [
    "acme email",
    { acme: { email: "admin-at-zarish", server: "staging" } },
    /acme\.email must be an e-mail address \(got "admin-at-zarish"\)/,
  ],
  ["no hosts", { certificateHosts: [] }, /certificateHosts must name at least one host/],
  [
    "wildcard host",
    { certificateHosts: ["*.zarishsphere.com"] },
    /"\*\.zarishsphere\.com" must be a lower-case DNS host name \(no wildcard\)/,
  ],
  [
    "duplicate host",
    { certificateHosts: ["api.zarishsphere.com", "api.zarishsphere.com"] },
    /"api\.zarishsphere\.com" is listed twice/,
  ],
  ["ingress class", { ingressClass: "Nginx Class" }, /ingressClass must be an IngressClass name \(got "Nginx Class"\)/],
  [
    "install without API server",
    { settings: { install: true, namespace: "cert-manager" }, kubeApiServer: undefined },
    /kubeApiServer is required when certManager\.install is true/,
  ],
  ["replicas", { replicas: 0 }, /replicas must be an integer >= 1 \(got 0\)/],
];
for (const [rule, overrides, message] of invalid) {
  test(`rejects a bad ${rule}`, (t) => {
    t.throws(() => resolveCertManagerArgs(argsFor(PROD, overrides)), { message });
  });
}

test("every problem is reported at once", (t) => {
  const error = t.throws(() =>
    resolveCertManagerArgs(argsFor(PROD, { replicas: 0, certificateHosts: [], ingressClass: "X" })),
  );
  t.regex(error.message, /^CertManager: .*certificateHosts.*; .*ingressClass.*; .*replicas/);
});
