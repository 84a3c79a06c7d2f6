import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../../config/types";
import { BackupJobs, BackupStorage } from "../backup";
import { endpointUrl } from "../k8s/endpoints";
import { PlatformNamespace, type PlatformNamespaceArgs } from "../k8s/namespace";
import { Logging } from "../logging";
import { Monitoring } from "../monitoring";
import { CertManager, Falco, NetworkIsolation } from "../security";
import { platformFlows } from "./flows";
import { NAMESPACES, type NamespaceKey } from "./namespaces";

export interface PlatformArgs {
  /** The validated configuration of the stack (config/index.ts). */
  readonly config: PlatformConfig;
}

/**
 * The whole operations platform of one environment: namespaces and their isolation, logging and audit,
 * monitoring, and security, wired to each other through typed outputs (endpoints, pod peers, credentials).
 */
export class Platform extends pulumi.ComponentResource {
  /** Namespace names by concern. */
  public readonly namespaces: Record<NamespaceKey, string>;
  public readonly grafanaUrl: string;
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  public readonly prometheusUrl: string;
  public readonly alertmanagerUrl: string;
  public readonly elasticsearchUrl: string;
  public readonly kibanaUrl: string;
  public readonly certificateIssuer: string;
  /** Backup bucket names by purpose, and the DR replicas in prod. */
  public readonly backupBuckets: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:platform:Platform", name, {}, opts);
    const c = args.config;

    const namespaceArgs: PlatformNamespaceArgs[] = Object.values(NAMESPACES);
    if (c.security.certManager.install) {
      namespaceArgs.push({ name: c.security.certManager.namespace, component: "cert-manager" });
    }
    const namespaces = namespaceArgs.map((ns) => new PlatformNamespace(`${name}-ns-${ns.name}`, ns, { parent: this }));
    // Components receive namespace names as plain strings (known at plan time), and a component's dependsOn does not
    // reach its children. This makes every Kubernetes object of the components wait for what it needs on a first
    // `pulumi up`: namespaced objects for the namespaces, cert-manager objects (the logging CAs and certificates as
    // much as the issuers) for the cert-manager release when the program installs it.
    let certManagerRelease: pulumi.Resource | undefined;
    const inNamespaces: pulumi.ComponentResourceOptions = {
      parent: this,
      transformations: [
        (t) => {
          if (!t.type.startsWith("kubernetes:") || t.type === "kubernetes:core/v1:Namespace") return undefined;
          const needsCrds = certManagerRelease !== undefined && t.type.startsWith("kubernetes:cert-manager.io/");
          const dependsOn = needsCrds ? [...namespaces, certManagerRelease!] : namespaces;
          return { props: t.props, opts: pulumi.mergeOptions(t.opts, { dependsOn }) };
        },
      ],
    };
    const ns = NAMESPACES;

    const certManager = new CertManager(
      `${name}-cert-manager`,
      {
        settings: c.security.certManager,
        acme: c.security.acme,
        certificateHosts: c.security.certificateHosts,
        ingressClass: c.kubernetes.ingressClass,
        applicationNamespace: c.kubernetes.applicationNamespace,
        kubeApiServer: c.security.kubeApiServer,
        metricsScrapers: [{ namespace: ns.monitoring.name, podSelector: { "app.kubernetes.io/name": "prometheus" } }],
      },
      inNamespaces,
    );
    // Storage first: the Elasticsearch snapshot repository and the backup jobs need its buckets and roles.
    const backupStorage = new BackupStorage(
      `${name}-backup-storage`,
      {
        bucketPrefix: c.backup.bucketPrefix,
        retentionDays: c.backup.retentionDays,
        noncurrentRetentionDays: c.backup.noncurrentRetentionDays,
        objectLock: c.backup.objectLock,
        replication: c.backup.replication,
        aws: c.aws,
        namespace: ns.backup.name,
        // A `pulumi destroy` or a refactoring typo must never delete patient-data backups in prod.
        protect: c.environment === "prod",
      },
      { parent: this },
    );

    certManagerRelease = certManager.release;

    const logging = new Logging(
      `${name}-logging`,
      {
        namespace: ns.logging.name,
        agentsNamespace: ns.nodeAgents.name,
        environment: c.environment,
        config: c.logging,
        storageClass: c.kubernetes.storageClass,
        snapshots: backupStorage.elasticsearchSnapshots,
        clients: {
          grafana: { namespace: ns.monitoring.name, access: "logs-reader" },
          jaeger: { namespace: ns.monitoring.name, access: "jaeger-writer" },
        },
      },
      inNamespaces,
    );

    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        namespace: ns.monitoring.name,
        nodeAgentsNamespace: ns.nodeAgents.name,
        environment: c.environment,
        monitoring: c.monitoring,
        kubernetes: c.kubernetes,
        elasticsearch: {
          endpoint: logging.elasticsearch,
          grafana: logging.elasticsearchCredentials.grafana,
          jaeger: logging.elasticsearchCredentials.jaeger,
          ready: logging.ready,
        },
        elasticsearchMetrics: logging.metrics,
        certManagerNamespace: certManager.namespace,
        backupNamespace: ns.backup.name,
      },
      inNamespaces,
    );

    const falco = c.security.falco.enabled
      ? new Falco(
          `${name}-falco`,
          {
            namespace: ns.nodeAgents.name,
            sidekickNamespace: ns.security.name,
            alertmanager: monitoring.alertmanager,
            apiHost: c.security.apiHost,
            databaseNamespace: c.kubernetes.databaseNamespace,
            databaseClientNamespaces: [ns.backup.name, ns.monitoring.name],
          },
          inNamespaces,
        )
      : undefined;

    const backupJobs = new BackupJobs(
      `${name}-backup-jobs`,
      {
        namespace: ns.backup.name,
        database: c.backup.database,
        schedules: c.backup.schedules,
        secretsPublicKey: c.backup.secretsPublicKey,
        storage: backupStorage,
      },
      inNamespaces,
    );

    new NetworkIsolation(
      `${name}-isolation`,
      { flows: platformFlows({ config: c, monitoring, logging, certManager, falco, backup: backupJobs.peers }) },
      inNamespaces,
    );

    this.namespaces = Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, v.name])) as Record<
      NamespaceKey,
      string
    >;
    this.grafanaUrl = monitoring.grafanaUrl;
    this.grafanaAdminPassword = monitoring.grafanaAdminPassword;
    this.prometheusUrl = endpointUrl(monitoring.prometheus);
    this.alertmanagerUrl = endpointUrl(monitoring.alertmanager);
    this.elasticsearchUrl = endpointUrl(logging.elasticsearch);
    this.kibanaUrl = `https://${c.logging.kibana.host}`;
    this.certificateIssuer = certManager.issuerName;
    const buckets: Record<string, pulumi.Output<string>> = {
      ...backupStorage.buckets,
      accessLogs: backupStorage.accessLogBucket,
      ...Object.fromEntries(Object.entries(backupStorage.replicaBuckets ?? {}).map(([k, v]) => [`${k}Replica`, v])),
    };
    this.backupBuckets = pulumi.all(buckets);
    this.registerOutputs({ namespaces: this.namespaces, grafanaUrl: this.grafanaUrl });
  }
}
