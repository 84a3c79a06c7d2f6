import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recommendedLabels } from "../k8s";
import { NAMES, TLS_SECRETS } from "./names";

/**
 * The TLS material of the logging stack, issued in-cluster by cert-manager from two namespaced CAs:
 * - the logging CA signs every endpoint clients connect to (Elasticsearch HTTP, Logstash Beats, Kibana). Its
 *   certificate is public and published to the client namespaces by the bootstrap Job.
 * - the transport CA signs only the Elasticsearch nodes' transport certificate. The transport layer verifies
 *   "certificate" (signed by a trusted CA) without host names, so that CA must sign nothing but cluster nodes:
 *   a Logstash or Kibana certificate must not be able to join the cluster.
 * Both CAs come from a self-signed Issuer; their keys stay in this namespace's Secrets. cert-manager renews every
 * certificate before expiry; Elasticsearch, Logstash and Kibana re-read PEM files that change on disk, and the
 * Secrets are mounted as directories (not subPath), so renewals reach the processes without a restart.
 */

/** Cluster DNS suffix. */
export const CLUSTER_DOMAIN = "cluster.local";

export interface CertManagerObject {
  readonly kind: "Issuer" | "Certificate";
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

const ISSUERS = {
  selfSigned: "logging-selfsigned",
  loggingCa: "logging-ca",
  transportCa: "elasticsearch-transport-ca",
} as const;

function serviceNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.${CLUSTER_DOMAIN}`,
  ];
}

function caCertificate(name: string, secretName: string, commonName: string): CertManagerObject {
  return {
    kind: "Certificate",
    name,
    spec: {
      isCA: true,
      commonName,
      secretName,
      duration: "87600h", // 10 years: a CA rotation means re-publishing trust to every client.
      renewBefore: "2160h",
      privateKey: { algorithm: "RSA", size: 4096, rotationPolicy: "Always" },
      issuerRef: { name: ISSUERS.selfSigned, kind: "Issuer", group: "cert-manager.io" },
    },
  };
}

function leafCertificate(
  name: string,
  secretName: string,
  issuer: string,
  dnsNames: string[],
  ipAddresses: string[] = [],
): CertManagerObject {
  return {
    kind: "Certificate",
    name,
    spec: {
      secretName,
      commonName: dnsNames[0],
      dnsNames,
      ...(ipAddresses.length > 0 ? { ipAddresses } : {}),
      duration: "8760h",
      renewBefore: "720h",
      // PKCS#8: the Logstash Beats input accepts only PKCS#8 keys; Elasticsearch and Kibana read both.
      privateKey: { algorithm: "RSA", size: 2048, encoding: "PKCS8", rotationPolicy: "Always" },
      usages: ["digital signature", "key encipherment", "server auth", "client auth"],
      issuerRef: { name: issuer, kind: "Issuer", group: "cert-manager.io" },
    },
  };
}

/** Every cert-manager object of the stack, in creation order (pure, for tests and schema validation). */
export function certManagerObjects(namespace: string): CertManagerObject[] {
  const headless = `*.${NAMES.elasticsearchHeadless}.${namespace}.svc`;
  return [
    { kind: "Issuer", name: ISSUERS.selfSigned, spec: { selfSigned: {} } },
    caCertificate(TLS_SECRETS.loggingCa, TLS_SECRETS.loggingCa, "zarish-sphere logging CA"),
    { kind: "Issuer", name: ISSUERS.loggingCa, spec: { ca: { secretName: TLS_SECRETS.loggingCa } } },
    caCertificate(TLS_SECRETS.transportCa, TLS_SECRETS.transportCa, "zarish-sphere elasticsearch transport CA"),
    { kind: "Issuer", name: ISSUERS.transportCa, spec: { ca: { secretName: TLS_SECRETS.transportCa } } },
    leafCertificate(
      "elasticsearch-http",
      TLS_SECRETS.elasticsearchHttp,
      ISSUERS.loggingCa,
      [
        ...serviceNames(NAMES.elasticsearch, namespace),
        headless,
        `${headless}.${CLUSTER_DOMAIN}`,
        // The readiness probe calls its own node.
        "localhost",
      ],
      ["127.0.0.1"],
    ),
    leafCertificate("elasticsearch-transport", TLS_SECRETS.elasticsearchTransport, ISSUERS.transportCa, [
      headless,
      `${headless}.${CLUSTER_DOMAIN}`,
    ]),
    leafCertificate(
      "logstash-beats",
      TLS_SECRETS.logstashBeats,
      ISSUERS.loggingCa,
      serviceNames(NAMES.logstash, namespace),
    ),
    leafCertificate("kibana", TLS_SECRETS.kibana, ISSUERS.loggingCa, serviceNames(NAMES.kibana, namespace)),
  ];
}

export interface LoggingTlsArgs {
  /** Namespace of the logging stack. */
  readonly namespace: string;
}

/** The Issuers and Certificates above as cert-manager custom resources. Needs cert-manager's CRDs installed. */
export class LoggingTls extends pulumi.ComponentResource {
  /** Every Issuer and Certificate, for dependsOn of the workloads that mount the Secrets. */
  public readonly resources: k8s.apiextensions.CustomResource[];

  constructor(name: string, args: LoggingTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:LoggingTls", name, {}, opts);
    const created = new Map<string, k8s.apiextensions.CustomResource>();
    this.resources = certManagerObjects(args.namespace).map((object) => {
      // An Issuer backed by a CA Secret waits for the Certificate that writes it; a Certificate for its Issuer.
      const issuerRef = (object.spec.issuerRef as { name: string } | undefined)?.name;
      const caSecret = (object.spec.ca as { secretName: string } | undefined)?.secretName;
      const after = [
        issuerRef && created.get(`Issuer/${issuerRef}`),
        caSecret && created.get(`Certificate/${caSecret}`),
      ];
      const resource = new k8s.apiextensions.CustomResource(
        `${name}-${object.kind.toLowerCase()}-${object.name}`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: object.kind,
          metadata: {
            name: object.name,
            namespace: args.namespace,
            labels: recommendedLabels({ name: object.name, component: "logging" }),
          },
          spec: object.spec,
        },
        { parent: this, dependsOn: after.filter((r): r is k8s.apiextensions.CustomResource => !!r) },
      );
      created.set(`${object.kind}/${object.name}`, resource);
      return resource;
    });
    this.registerOutputs({});
  }
}
