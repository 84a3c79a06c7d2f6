import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AcmeServer, SecurityConfig } from "../../config/types";
import {
  type ComputeResources,
  charts,
  type PodPeer,
  recommendedLabels,
  resources,
  type ServiceEndpoint,
} from "../k8s";
import { SECURITY_COMPONENT } from "./falcosidekick";
import { internetHttps, type KubeApiServer, PRIVATE_RANGES } from "./network-isolation";
import type { NetworkPolicyObject, PolicyPeer } from "./network-policy-eval";

/**
 * TLS certificates from Let's Encrypt through cert-manager: optionally cert-manager itself (Helm, pinned chart,
 * CRDs included) for clusters that do not have it, one ACME ClusterIssuer, and a Certificate per public host.
 *
 * Certificate monitoring: the seed ran an openssl cron script that connected to each host and POSTed to an
 * alerts URL. It is gone. cert-manager already knows every certificate it manages and exports
 * certmanager_certificate_expiration_timestamp_seconds and certmanager_certificate_ready_status on :9402;
 * Prometheus scrapes them (this component admits the scrape) and the monitoring rules alert on expiry and on a
 * certificate that is not Ready, through Alertmanager like everything else. That also covers what the script
 * missed: a renewal that fails long before expiry, hosts added later, and the script's own silent failures.
 */

/** Let's Encrypt's ACME v2 directories. Staging has generous rate limits and untrusted certificates. */
export const ACME_DIRECTORIES: Readonly<Record<AcmeServer, string>> = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
};
export const ACME_ISSUER_NAMES: Readonly<Record<AcmeServer, string>> = {
  production: "letsencrypt-prod",
  staging: "letsencrypt-staging",
};

/** The Helm release name; the chart names its objects and labels after it. */
export const CERT_MANAGER_RELEASE = "cert-manager";
export const CERT_MANAGER_METRICS_PORT = 9402;
/** The chart's webhook port (the API server calls it). */
export const CERT_MANAGER_WEBHOOK_PORT = 10250;
/** Port of the pods cert-manager starts to answer HTTP-01 challenges. */
export const ACME_SOLVER_PORT = 8089;

/** Labels of the chart's pods, per component (controller, webhook, cainjector, startupapicheck). */
export function certManagerPodSelector(component: string): Record<string, string> {
  const appName = component === "controller" ? "cert-manager" : component;
  return {
    "app.kubernetes.io/name": appName,
    "app.kubernetes.io/instance": CERT_MANAGER_RELEASE,
    "app.kubernetes.io/component": component,
  };
}

/**
 * The controller's metrics (:9402). For an existing cert-manager this assumes the chart's default release name
 * and labels.
 */
export function certManagerMetricsEndpoint(namespace: string): ServiceEndpoint {
  return {
    namespace,
    service: CERT_MANAGER_RELEASE,
    port: CERT_MANAGER_METRICS_PORT,
    scheme: "http",
    podSelector: certManagerPodSelector("controller"),
  };
}

export interface CertManagerArgs {
  /** Install cert-manager, and its namespace (config security.certManager). */
  readonly settings: SecurityConfig["certManager"];
  /** ACME account e-mail and endpoint (config security.acme). */
  readonly acme: SecurityConfig["acme"];
  /** Hosts that get a certificate (config security.certificateHosts). */
  readonly certificateHosts: readonly string[];
  /** Ingress class of the HTTP-01 solver (config kubernetes.ingressClass). */
  readonly ingressClass: string;
  /** Namespace of the Certificates and their Secrets: where the API and FHIR ingresses are (config kubernetes.applicationNamespace). */
  readonly applicationNamespace: string;
  /** The API server, for the egress and webhook policies of an installed cert-manager. Required when installing. */
  readonly kubeApiServer?: KubeApiServer;
  /** Pods that scrape cert-manager's metrics (Prometheus); admitted on :9402 when installing. Default: none. */
  readonly metricsScrapers?: readonly PodPeer[];
  /** Replicas of the controller and the webhook (leader election picks one active controller). Default: 1. */
  readonly replicas?: number;
  /** CPU and memory of each cert-manager container. Default: requests 10m / 64Mi, limits 100m / 256Mi. */
  readonly compute?: ComputeResources;
}

export interface ResolvedCertManagerArgs {
  readonly install: boolean;
  readonly namespace: string;
  readonly acme: SecurityConfig["acme"];
  readonly issuerName: string;
  readonly certificateHosts: readonly string[];
  readonly ingressClass: string;
  readonly applicationNamespace: string;
  readonly kubeApiServer: KubeApiServer | undefined;
  readonly metricsScrapers: readonly PodPeer[];
  readonly replicas: number;
  readonly compute: ComputeResources;
}

export const CERT_MANAGER_DEFAULT_COMPUTE = resources("10m", "64Mi", "100m", "256Mi");

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function resolveCertManagerArgs(args: CertManagerArgs): ResolvedCertManagerArgs {
  const r: ResolvedCertManagerArgs = {
    install: args.settings.install,
    namespace: args.settings.namespace,
    acme: args.acme,
    issuerName: ACME_ISSUER_NAMES[args.acme.server],
    certificateHosts: args.certificateHosts,
    ingressClass: args.ingressClass,
    applicationNamespace: args.applicationNamespace,
    kubeApiServer: args.kubeApiServer,
    metricsScrapers: args.metricsScrapers ?? [],
    replicas: args.replicas ?? 1,
    compute: args.compute ?? CERT_MANAGER_DEFAULT_COMPUTE,
  };
  const problems: string[] = [];
  if (!DNS_LABEL.test(r.namespace))
    problems.push(`certManager.namespace must be a DNS-1123 label (got "${r.namespace}")`);
  if (!DNS_LABEL.test(r.applicationNamespace)) {
    problems.push(`applicationNamespace must be a DNS-1123 label (got "${r.applicationNamespace}")`);
  }
  if (!(args.acme.server in ACME_DIRECTORIES)) {
    problems.push(`acme.server must be "production" or "staging" (got "${args.acme.server}")`);
  }
  if (!EMAIL.test(r.acme.email)) problems.push(`acme.email must be an e-mail address (got "${r.acme.email}")`);
  if (r.certificateHosts.length === 0) problems.push("certificateHosts must name at least one host");
  const seen = new Set<string>();
  for (const host of r.certificateHosts) {
    // HTTP-01 cannot validate a wildcard: that needs DNS-01.
    if (!HOSTNAME.test(host))
      problems.push(`certificateHosts: "${host}" must be a lower-case DNS host name (no wildcard)`);
    if (seen.has(host)) problems.push(`certificateHosts: "${host}" is listed twice`);
    seen.add(host);
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(r.ingressClass)) {
    problems.push(`ingressClass must be an IngressClass name (got "${r.ingressClass}")`);
  }
  if (r.install && r.kubeApiServer === undefined) {
    problems.push(
      "kubeApiServer is required when certManager.install is true (its namespace denies egress by default)",
    );
  }
  if (!Number.isInteger(r.replicas) || r.replicas < 1)
    problems.push(`replicas must be an integer >= 1 (got ${r.replicas})`);
  if (problems.length > 0) throw new Error(`CertManager: ${problems.join("; ")}`);
  return r;
}

/** The ClusterIssuer of the seed (cert-manager-issuer.yaml), with the endpoint the environment selects. */
export function clusterIssuerManifest(r: ResolvedCertManagerArgs) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: r.issuerName, labels: recommendedLabels({ name: r.issuerName, component: SECURITY_COMPONENT }) },
    spec: {
      acme: {
        server: ACME_DIRECTORIES[r.acme.server],
        email: r.acme.email,
        // The ACME account key; named like the issuer, as in the seed.
        privateKeySecretRef: { name: r.issuerName },
        // The seed's `ingress.class: nginx` sets the legacy kubernetes.io/ingress.class annotation on the solver
        // ingress; `ingressClassName` is the field cert-manager recommends since 1.12 and ingress-nginx matches
        // against its IngressClass. Same class, from config.
        solvers: [{ http01: { ingress: { ingressClassName: r.ingressClass } } }],
      },
    },
  };
}

/** Object and Secret names of a host's certificate: "api.zarishsphere.com" gives "api-zarishsphere-com-tls". */
export function certificateSecretName(host: string): string {
  return `${host.replaceAll(".", "-")}-tls`;
}

/** One Certificate per host, in the application namespace; its Secret is what the host's Ingress references. */
export function certificateManifests(r: ResolvedCertManagerArgs) {
  return r.certificateHosts.map((host) => {
    const name = certificateSecretName(host);
    return {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        name,
        namespace: r.applicationNamespace,
        labels: recommendedLabels({ name, component: SECURITY_COMPONENT }),
      },
      spec: {
        secretName: name,
        dnsNames: [host],
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: r.issuerName },
        // Renew 30 days before expiry (the seed's WARNING_DAYS), with a new key each time.
        renewBefore: "720h",
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
      },
    };
  });
}

/** Helm values of the cert-manager chart (v1.16). */
export function certManagerValues(r: ResolvedCertManagerArgs): Record<string, unknown> {
  const compute = { requests: { ...r.compute.requests }, limits: { ...r.compute.limits } };
  const securityContext = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
  const containerSecurityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  };
  const hardened = { resources: compute, securityContext, containerSecurityContext };
  const pdb = r.replicas > 1 ? { enabled: true, minAvailable: 1 } : { enabled: false };
  return {
    // crds.enabled replaces the deprecated installCRDs; keep: uninstalling the release must not delete the CRDs,
    // which would garbage-collect every Certificate and its Secret.
    crds: { enabled: true, keep: true },
    // Leader election in its own namespace, not kube-system: no Role for cert-manager outside its namespace.
    global: { leaderElection: { namespace: r.namespace } },
    replicaCount: r.replicas,
    podDisruptionBudget: pdb,
    ...hardened,
    // Metrics on :9402 for Prometheus' own scrape; no ServiceMonitor (the platform runs no Prometheus Operator).
    prometheus: { enabled: true, servicemonitor: { enabled: false } },
    webhook: { replicaCount: r.replicas, podDisruptionBudget: pdb, ...hardened },
    cainjector: { replicaCount: 1, ...hardened },
    startupapicheck: { ...hardened },
  };
}

function namespacedMeta(name: string, namespace: string): NetworkPolicyObject["metadata"] {
  return { name, namespace, labels: recommendedLabels({ name, component: "network-isolation" }) };
}

/**
 * What cert-manager needs in a default-deny namespace (installed by the program), plus the HTTP-01 solver's ingress
 * in the application namespace. Built as data so a test can evaluate them.
 */
export function certManagerPolicies(r: ResolvedCertManagerArgs): NetworkPolicyObject[] {
  const policies: NetworkPolicyObject[] = [
    {
      // The solver pods serve only the challenge token, which the ingress publishes to the internet anyway; the
      // ingress controller may run on the host network, so no source is named.
      metadata: namespacedMeta("allow-acme-http01-solver-ingress", r.applicationNamespace),
      spec: {
        podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
        policyTypes: ["Ingress"],
        ingress: [{ ports: [{ protocol: "TCP", port: ACME_SOLVER_PORT }] }],
      },
    },
  ];
  if (!r.install || r.kubeApiServer === undefined) return policies;
  const api = r.kubeApiServer;
  const apiPeers: PolicyPeer[] = api.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  const internet = internetHttps();
  policies.push(
    {
      // Every cert-manager pod (controller, webhook, cainjector, startupapicheck) watches the API server.
      metadata: namespacedMeta("allow-apiserver-egress", r.namespace),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: apiPeers, ports: [{ protocol: "TCP", port: api.port }] }],
      },
    },
    {
      // ACME on 443, and the HTTP-01 self-check, which fetches the token from the public host on 80.
      metadata: namespacedMeta("allow-acme-egress", r.namespace),
      spec: {
        podSelector: { matchLabels: certManagerPodSelector("controller") },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: internet.cidr, except: [...PRIVATE_RANGES] } }],
            ports: [
              { protocol: "TCP", port: 443 },
              { protocol: "TCP", port: 80 },
            ],
          },
        ],
      },
    },
    {
      // The API server calls the validating and mutating webhooks.
      metadata: namespacedMeta("allow-webhook-ingress", r.namespace),
      spec: {
        podSelector: { matchLabels: certManagerPodSelector("webhook") },
        policyTypes: ["Ingress"],
        ingress: [{ from: apiPeers, ports: [{ protocol: "TCP", port: CERT_MANAGER_WEBHOOK_PORT }] }],
      },
    },
  );
  if (r.metricsScrapers.length > 0) {
    policies.push({
      metadata: namespacedMeta("allow-metrics-ingress", r.namespace),
      spec: {
        podSelector: { matchLabels: certManagerPodSelector("controller") },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: r.metricsScrapers.map((peer) => ({
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
              podSelector: { matchLabels: { ...peer.podSelector } },
            })),
            ports: [{ protocol: "TCP", port: CERT_MANAGER_METRICS_PORT }],
          },
        ],
      },
    });
  }
  return policies;
}

/** cert-manager (optional install), the environment's ACME ClusterIssuer, and the platform's certificates. */
export class CertManager extends pulumi.ComponentResource {
  /** The cert-manager namespace (installed or existing). */
  public readonly namespace: string;
  /** The ClusterIssuer's name: letsencrypt-prod or letsencrypt-staging. */
  public readonly issuerName: string;
  /** Host to the Secret holding its certificate, for the Ingresses' tls sections. */
  public readonly certificateSecrets: Readonly<Record<string, string>>;
  /** The controller's metrics (:9402), for Prometheus' scrape flow (certManagerMetricsEndpoint). */
  public readonly metricsEndpoint: ServiceEndpoint;
  public readonly release: k8s.helm.v3.Release | undefined;
  public readonly issuer: k8s.apiextensions.CustomResource;
  public readonly certificates: readonly k8s.apiextensions.CustomResource[];

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:security:CertManager", name, {}, opts);
    const r = resolveCertManagerArgs(args);
    this.namespace = r.namespace;
    this.issuerName = r.issuerName;
    this.metricsEndpoint = certManagerMetricsEndpoint(r.namespace);

    this.release = r.install
      ? new k8s.helm.v3.Release(
          `${name}-release`,
          {
            name: CERT_MANAGER_RELEASE,
            chart: charts.certManager.chart,
            version: charts.certManager.version,
            repositoryOpts: { repo: charts.certManager.repo },
            namespace: r.namespace,
            // The platform creates the namespace (PSA labels, default-deny).
            createNamespace: false,
            atomic: true,
            timeout: 600,
            values: certManagerValues(r),
          },
          { parent: this },
        )
      : undefined;
    const afterInstall = this.release === undefined ? [] : [this.release];

    const policyObjects = certManagerPolicies(r);
    for (const policy of policyObjects) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${policy.metadata.namespace}-${policy.metadata.name}`,
        { metadata: { ...policy.metadata }, spec: policy.spec as k8s.types.input.networking.v1.NetworkPolicySpec },
        { parent: this },
      );
    }

    const issuer = clusterIssuerManifest(r);
    this.issuer = new k8s.apiextensions.CustomResource(`${name}-issuer`, issuer, {
      parent: this,
      dependsOn: afterInstall,
    });
    this.certificates = certificateManifests(r).map(
      (certificate) =>
        new k8s.apiextensions.CustomResource(`${name}-${certificate.metadata.name}`, certificate, {
          parent: this,
          dependsOn: [...afterInstall, this.issuer],
        }),
    );
    this.certificateSecrets = Object.fromEntries(r.certificateHosts.map((h) => [h, certificateSecretName(h)]));
    this.registerOutputs({
      namespace: this.namespace,
      issuerName: this.issuerName,
      certificateSecrets: this.certificateSecrets,
    });
  }
}
