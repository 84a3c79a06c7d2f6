import type * as pulumi from "@pulumi/pulumi";

/**
 * The validated, frozen configuration of one stack. `config/index.ts` builds it from Pulumi config; components
 * receive the slices they need as plain values (and secrets as Pulumi secret Outputs) and never read config.
 */
export type Environment = "staging" | "prod";
export type AcmeServer = "production" | "staging";
export type JaegerMode = "all-in-one" | "production";
export type ObjectLockMode = "GOVERNANCE" | "COMPLIANCE";

export interface PlatformConfig {
  /** Pulumi project and stack names. */
  readonly project: string;
  readonly stack: string;
  /** staging or prod: selects the environment rules (replicas, retention floors, ACME endpoint). */
  readonly environment: Environment;
  /** Base DNS domain of the environment, e.g. zarishsphere.com. */
  readonly domain: string;
  readonly aws: AwsConfig;
  readonly kubernetes: KubernetesConfig;
  readonly monitoring: MonitoringConfig;
  readonly logging: LoggingConfig;
  readonly security: SecurityConfig;
  readonly backup: BackupConfig;
}

export interface AwsConfig {
  /** Primary region (provider key aws:region). */
  readonly region: string;
  /** Disaster-recovery region for bucket replication; differs from region. */
  readonly drRegion: string;
  /** The EKS cluster's IAM OIDC provider ARN, for IAM roles for service accounts. */
  readonly eksOidcProviderArn: string;
  /** Derived: the 12-digit account of the OIDC provider. */
  readonly accountId: string;
  /** Derived: the issuer host and path (oidc.eks.<region>.amazonaws.com/id/<id>), the trust-policy condition key. */
  readonly eksOidcIssuer: string;
}

export interface KubernetesConfig {
  /** StorageClass of every persistent volume. */
  readonly storageClass: string;
  /** Ingress class used by the ACME http01 solver and the ingresses. */
  readonly ingressClass: string;
  /** Namespace of the ZARISH SPHERE API and FHIR services (scrape targets). */
  readonly applicationNamespace: string;
  /** Namespace of PostgreSQL and Redis (exporter and backup targets). */
  readonly databaseNamespace: string;
}

export interface Sized {
  readonly replicas: number;
  /** Kubernetes quantity, e.g. "100Gi". */
  readonly storageSize: string;
}

export interface MonitoringConfig {
  readonly prometheus: Sized & {
    /** Prometheus --storage.tsdb.retention.time, e.g. "30d". */
    readonly retentionTime: string;
    /** Prometheus --storage.tsdb.retention.size, e.g. "45GB"; below the volume size. */
    readonly retentionSize: string;
  };
  readonly alertmanager: Sized;
  readonly grafana: { readonly host: string; readonly storageSize: string };
  readonly jaeger: { readonly mode: JaegerMode; readonly retentionDays: number };
  readonly alerting: AlertingConfig;
  readonly exporters: {
    /** PostgreSQL host:port the postgres-exporter connects to. */
    readonly postgresAddress: string;
    /** Database user of the exporter (pg_monitor role). */
    readonly postgresUser: string;
    /** Redis address, redis://host:port. */
    readonly redisAddress: string;
  };
  readonly secrets: {
    readonly slackWebhookUrl: pulumi.Output<string>;
    readonly pagerDutyRoutingKey: pulumi.Output<string>;
    readonly smtpPassword: pulumi.Output<string>;
    readonly postgresExporterPassword: pulumi.Output<string>;
    readonly redisPassword: pulumi.Output<string>;
  };
}

export interface AlertingConfig {
  /** Team mailbox for every severity. */
  readonly emailTo: readonly string[];
  readonly emailFrom: string;
  /** SMTP relay host:port. */
  readonly smarthost: string;
  readonly smtpUsername: string;
  readonly slackChannel: string;
  /** E-mail-to-SMS gateway addresses paged for critical alerts (the seed's "sms" channel). */
  readonly smsEmailTo: readonly string[];
}

export interface LoggingConfig {
  readonly elasticsearch: Sized & {
    /** JVM heap, the seed's "-Xms2g -Xmx2g" as "2g". */
    readonly heapSize: string;
    /** Container memory limit; at least twice the heap. */
    readonly memoryLimit: string;
    readonly cpuRequest: string;
    readonly cpuLimit: string;
  };
  /** Days the daily zarish-sphere-* application indices are kept. */
  readonly logRetentionDays: number;
  /** Days the daily zarish-audit-* indices are kept; >= 2192 (six years) in prod. */
  readonly auditRetentionDays: number;
  readonly kibana: { readonly replicas: number; readonly host: string };
  readonly logstash: { readonly replicas: number; readonly queueSize: string; readonly storageSize: string };
}

export interface SecurityConfig {
  readonly certManager: {
    /** Install cert-manager (Helm) for clusters that do not have it. */
    readonly install: boolean;
    /** Namespace cert-manager runs in (installed or existing). */
    readonly namespace: string;
  };
  readonly acme: { readonly email: string; readonly server: AcmeServer };
  /** Hosts that get certificates (the seed's api, fhir and docs hosts). */
  readonly certificateHosts: readonly string[];
  /** The public API host the Falco rule watches for unexpected clients. */
  readonly apiHost: string;
  readonly falco: { readonly enabled: boolean };
  /**
   * Where pods reach the Kubernetes API server, for NetworkPolicy egress (Prometheus service discovery, object
   * backups, an installed cert-manager). Policies see the endpoint address after kube-proxy's DNAT, not the
   * ClusterIP of kubernetes.default: on EKS the CIDRs of the VPC subnets holding the control-plane ENIs, port 443.
   */
  readonly kubeApiServer: { readonly cidrs: readonly string[]; readonly port: number };
}

export interface BackupConfig {
  /** Prefix of the bucket names (globally unique in S3). */
  readonly bucketPrefix: string;
  /** Days current backup objects are kept; never below 30 (the seed's RETENTION_DAYS). */
  readonly retentionDays: number;
  /** Days superseded object versions are kept. */
  readonly noncurrentRetentionDays: number;
  /** Object Lock (prod): mode and default retention days. */
  readonly objectLock: { readonly mode: ObjectLockMode; readonly days: number } | undefined;
  /** Replicate backups to aws.drRegion (prod). */
  readonly replication: boolean;
  readonly database: {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    readonly user: string;
    readonly password: pulumi.Output<string>;
  };
  /** Cron schedules (UTC). */
  readonly schedules: {
    readonly databaseBackup: string;
    readonly objectBackup: string;
    readonly restoreVerification: string;
    readonly maintenance: string;
    readonly weeklyReport: string;
  };
  /** PEM public key (RSA) Secrets are encrypted to before upload; the private key stays offline. */
  readonly secretsPublicKey: string;
}
