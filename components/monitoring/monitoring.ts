import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import type { Environment, KubernetesConfig, MonitoringConfig } from "../../config/types";
import type { PodPeer, ServiceEndpoint } from "../k8s";
import { ALERTMANAGER_SECRETS_DIR, Alertmanager } from "./alertmanager";
import { checkDnsLabel, type ElasticsearchClientAccess, throwIfProblems } from "./common";
import {
  JOBS,
  renderAlertmanagerConfig,
  renderGrafanaDashboardProvider,
  renderGrafanaDashboards,
  renderGrafanaDatasources,
  renderPrometheusConfig,
  renderRuleFiles,
} from "./config";
import { toYaml } from "./config/yaml";
import { GRAFANA_DASHBOARDS_DIR, GRAFANA_ELASTICSEARCH_ENV, Grafana } from "./grafana";
import { Jaeger } from "./jaeger";
import { KubeStateMetrics } from "./kube-state-metrics";
import { NODE_EXPORTER_PORT, NodeExporter } from "./node-exporter";
import { PostgresExporter } from "./postgres-exporter";
import { PROMETHEUS_PORT, PROMETHEUS_RULES_DIR, Prometheus } from "./prometheus";
import { RedisExporter } from "./redis-exporter";

/**
 * The credentials the logging component creates for one Elasticsearch client, in the client's namespace (the
 * shape of its ElasticsearchClientCredentials): a Secret with the password and a ConfigMap with the CA.
 */
export interface ElasticsearchCredentials {
  /** Namespace of the Secret and the ConfigMap: must be the monitoring namespace. */
  readonly namespace: string;
  readonly username: string;
  readonly secretName: string;
  readonly passwordKey: string;
  readonly caConfigMap: string;
  readonly caKey: string;
}

/** What the monitoring clients of Elasticsearch get from the logging component. */
export interface MonitoringElasticsearch {
  /** Elasticsearch's HTTPS endpoint (logging.elasticsearch). */
  readonly endpoint: ServiceEndpoint;
  /** Grafana's user, a "logs-reader" client: read-only on the application log indices. */
  readonly grafana: ElasticsearchCredentials;
  /** Jaeger's user, a "jaeger-writer" client (jaeger-* indices); used when monitoring.jaeger.mode is "production". */
  readonly jaeger: ElasticsearchCredentials;
  /** What the clients wait for before starting (logging.ready: users and CA exist). Default: nothing. */
  readonly ready?: pulumi.Resource;
}

function clientAccess(endpoint: ServiceEndpoint, c: ElasticsearchCredentials): ElasticsearchClientAccess {
  return {
    endpoint,
    username: c.username,
    password: { name: c.secretName, key: c.passwordKey },
    caCert: { name: c.caConfigMap, key: c.caKey },
  };
}

export interface MonitoringArgs {
  /** Namespace of everything but node-exporter (the platform's `monitoring`, Pod Security "restricted"). */
  readonly namespace: string;
  /** Namespace of node-exporter (the platform's `node-agents`, Pod Security "privileged"). */
  readonly nodeAgentsNamespace: string;
  readonly environment: Environment;
  /** config.monitoring. */
  readonly monitoring: MonitoringConfig;
  /** config.kubernetes: storage class and the application namespace scraped. */
  readonly kubernetes: KubernetesConfig;
  /** Elasticsearch for Grafana's logs and Jaeger's spans; undefined leaves both out (Jaeger must be all-in-one). */
  readonly elasticsearch: MonitoringElasticsearch | undefined;
  /** The Elasticsearch exporter Prometheus scrapes; required with `elasticsearch` (its health alerts need it). */
  readonly elasticsearchMetrics?: ServiceEndpoint;
  /** Namespace cert-manager runs in (its metrics feed the certificate alerts). */
  readonly certManagerNamespace: string;
  /** Namespace of the backup CronJobs (the backup freshness alerts and dashboard watch them). */
  readonly backupNamespace: string;
  /** Prometheus external label `cluster`. Default: "zarish-sphere-<environment>". */
  readonly clusterName?: string;
  /** Base URL of docs/runbooks in every alert's runbook_url. Default: the rule builder's DEFAULT_RUNBOOK_BASE_URL. */
  readonly runbookBaseUrl?: string;
}

export interface ResolvedMonitoringArgs extends MonitoringArgs {
  readonly clusterName: string;
}

export function resolveMonitoringArgs(args: MonitoringArgs): ResolvedMonitoringArgs {
  const problems: string[] = [];
  for (const [what, ns] of Object.entries({
    namespace: args.namespace,
    nodeAgentsNamespace: args.nodeAgentsNamespace,
    certManagerNamespace: args.certManagerNamespace,
    backupNamespace: args.backupNamespace,
  })) {
    checkDnsLabel(problems, what, ns);
  }
  if (args.namespace === args.nodeAgentsNamespace) {
    // node-exporter needs hostPath volumes, which the restricted monitoring namespace refuses (and must keep refusing).
    problems.push(`nodeAgentsNamespace must differ from namespace (both "${args.namespace}")`);
  }
  if (args.monitoring.jaeger.mode === "production" && args.elasticsearch === undefined) {
    problems.push('monitoring.jaeger.mode "production" stores spans in Elasticsearch, but no elasticsearch was given');
  }
  if (args.elasticsearch !== undefined && args.elasticsearch.endpoint.scheme !== "https") {
    problems.push(`elasticsearch.endpoint must be https (got ${args.elasticsearch.endpoint.scheme})`);
  }
  for (const client of ["grafana", "jaeger"] as const) {
    const ns = args.elasticsearch?.[client].namespace;
    if (ns !== undefined && ns !== args.namespace) {
      // Pods read Secrets and ConfigMaps of their own namespace only.
      problems.push(`elasticsearch.${client} credentials must be in namespace "${args.namespace}" (got "${ns}")`);
    }
  }
  if (args.elasticsearch !== undefined && args.elasticsearchMetrics === undefined) {
    problems.push(
      "elasticsearchMetrics is required with elasticsearch: the Elasticsearch health alerts read its exporter",
    );
  }
  const clusterName = args.clusterName ?? `zarish-sphere-${args.environment}`;
  if (clusterName.trim() === "") problems.push("clusterName must not be empty");
  throwIfProblems("Monitoring", problems);
  return { ...args, clusterName };
}

/** Re-renders a generated YAML document without the entries `keep` rejects (used when Elasticsearch is absent). */
function filtered(
  text: string,
  list: string,
  keep: (item: Record<string, unknown>) => boolean,
  source: string,
): string {
  const doc = yaml.load(text) as Record<string, unknown>;
  return toYaml({ ...doc, [list]: (doc[list] as Record<string, unknown>[]).filter(keep) }, source);
}

/**
 * The monitoring stack of one environment: Prometheus (with kube-state-metrics, node-exporter and the database
 * exporters it scrapes), Alertmanager, Grafana and Jaeger. Every configuration file comes from the pure builders
 * in ./config, rendered with the endpoints of the workloads built here, so names cannot drift between them.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly prometheus: ServiceEndpoint;
  public readonly alertmanager: ServiceEndpoint;
  public readonly grafana: ServiceEndpoint;
  /** https://<config.monitoring.grafana.host>. */
  public readonly grafanaUrl: string;
  /** Grafana's generated admin password (secret). */
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  /** OTLP gRPC 4317 (OTLP HTTP on 4318 of the same Service): where applications send spans. */
  public readonly jaegerCollector: ServiceEndpoint;
  public readonly jaegerQuery: ServiceEndpoint;
  /** The Prometheus pods: every scrape target's NetworkPolicy admits them. */
  public readonly scraper: PodPeer;
  /** Grafana pods (they query Prometheus, Jaeger and Elasticsearch). */
  public readonly grafanaPeer: PodPeer;
  /** Pods that receive spans (collector or all-in-one). */
  public readonly jaegerCollectorPeer: PodPeer;
  /** Every pod of this component that connects to Elasticsearch (Grafana, Jaeger collector/query/cleaner). */
  public readonly elasticsearchClients: PodPeer[];
  /** Exporter pods the database NetworkPolicies admit (PostgreSQL 5432, Redis 6379). */
  public readonly postgresExporterPeer: PodPeer;
  public readonly redisExporterPeer: PodPeer;
  /** Every Service of this component that Prometheus scrapes (for the scrape flows' allows). */
  public readonly scrapeTargets: ServiceEndpoint[];
  /** Alertmanager pods: they send notifications out (PagerDuty, Slack, SMTP) and gossip with each other. */
  public readonly alertmanagerPeer: PodPeer;
  /** The gossip endpoint between Alertmanager replicas (9094). */
  public readonly alertmanagerCluster: ServiceEndpoint;
  /** kube-state-metrics pods: they watch the Kubernetes API. */
  public readonly kubeStateMetricsPeer: PodPeer;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:Monitoring", name, {}, opts);
    const r = resolveMonitoringArgs(args);
    const m = r.monitoring;
    const ns = r.namespace;
    const storageClass = r.kubernetes.storageClass;
    const child = { parent: this };

    const nodeExporter = new NodeExporter(`${name}-node-exporter`, { namespace: r.nodeAgentsNamespace }, child);
    const ksm = new KubeStateMetrics(`${name}-kube-state-metrics`, { namespace: ns }, child);
    const postgres = new PostgresExporter(
      `${name}-postgres-exporter`,
      { namespace: ns, exporters: m.exporters, password: m.secrets.postgresExporterPassword },
      child,
    );
    const redis = new RedisExporter(
      `${name}-redis-exporter`,
      { namespace: ns, exporters: m.exporters, password: m.secrets.redisPassword },
      child,
    );

    const alertmanager = new Alertmanager(
      `${name}-alertmanager`,
      {
        namespace: ns,
        settings: m.alertmanager,
        storageClass,
        config: renderAlertmanagerConfig({ alerting: m.alerting, secretsDir: ALERTMANAGER_SECRETS_DIR }),
        secrets: m.secrets,
      },
      child,
    );

    const databaseBackup = { namespace: r.backupNamespace };
    let prometheusYml = renderPrometheusConfig({
      environment: r.environment,
      cluster: r.clusterName,
      applicationNamespace: r.kubernetes.applicationNamespace,
      nodeAgentsNamespace: r.nodeAgentsNamespace,
      certManagerNamespace: r.certManagerNamespace,
      endpoints: {
        alertmanager: alertmanager.endpoint,
        postgresExporter: postgres.endpoint,
        redisExporter: redis.endpoint,
        // Without Elasticsearch the job is removed below; the endpoint only satisfies the builder's signature.
        elasticsearchExporter: r.elasticsearchMetrics ?? { ...postgres.endpoint, service: "elasticsearch-exporter" },
        kubeStateMetrics: ksm.endpoint,
      },
      nodeExporter: { podSelector: nodeExporter.peer.podSelector, port: NODE_EXPORTER_PORT },
      ruleFilesGlob: `${PROMETHEUS_RULES_DIR}/*.yml`,
      selfPort: PROMETHEUS_PORT,
    });
    if (r.elasticsearchMetrics === undefined) {
      prometheusYml = filtered(
        prometheusYml,
        "scrape_configs",
        (job) => job.job_name !== JOBS.elasticsearchExporter,
        "components/monitoring/config/prometheus.ts (no Elasticsearch exporter)",
      );
    }
    const prometheus = new Prometheus(
      `${name}-prometheus`,
      {
        namespace: ns,
        settings: m.prometheus,
        storageClass,
        config: prometheusYml,
        ruleFiles: renderRuleFiles({ runbookBaseUrl: r.runbookBaseUrl, databaseBackup }),
      },
      child,
    );

    const es = r.elasticsearch;
    const jaeger = new Jaeger(
      `${name}-jaeger`,
      {
        namespace: ns,
        settings: m.jaeger,
        elasticsearch: es === undefined ? undefined : clientAccess(es.endpoint, es.jaeger),
        waitFor: es?.ready === undefined ? [] : [es.ready],
      },
      child,
    );

    const datasources =
      es === undefined
        ? filtered(
            renderGrafanaDatasources({
              prometheus: prometheus.endpoint,
              elasticsearch: { ...prometheus.endpoint, service: "none" },
              jaeger: jaeger.query,
              elasticsearchUser: "none",
            }),
            "datasources",
            (d) => d.type !== "elasticsearch",
            "components/monitoring/config/grafana/datasources.ts (no Elasticsearch)",
          )
        : renderGrafanaDatasources({
            prometheus: prometheus.endpoint,
            elasticsearch: es.endpoint,
            jaeger: jaeger.query,
            elasticsearchUser: es.grafana.username,
            elasticsearchPasswordEnv: GRAFANA_ELASTICSEARCH_ENV.password,
            elasticsearchCaCertEnv: GRAFANA_ELASTICSEARCH_ENV.caCert,
          });
    const grafana = new Grafana(
      `${name}-grafana`,
      {
        namespace: ns,
        settings: m.grafana,
        storageClass,
        datasources: { "datasources.yaml": datasources },
        dashboardProviders: { "dashboards.yaml": renderGrafanaDashboardProvider({ path: GRAFANA_DASHBOARDS_DIR }) },
        dashboards: renderGrafanaDashboards({ databaseBackup }),
        elasticsearch: es === undefined ? undefined : clientAccess(es.endpoint, es.grafana),
        waitFor: es?.ready === undefined ? [] : [es.ready],
      },
      child,
    );

    this.prometheus = prometheus.endpoint;
    this.alertmanager = alertmanager.endpoint;
    this.grafana = grafana.endpoint;
    this.grafanaUrl = grafana.url;
    this.grafanaAdminPassword = grafana.adminPassword;
    this.jaegerCollector = jaeger.collector;
    this.jaegerQuery = jaeger.query;
    this.scraper = prometheus.scraper;
    this.grafanaPeer = grafana.peer;
    this.jaegerCollectorPeer = jaeger.collectorPeer;
    this.elasticsearchClients = es === undefined ? [] : [grafana.peer, ...jaeger.elasticsearchClients];
    this.postgresExporterPeer = postgres.peer;
    this.redisExporterPeer = redis.peer;
    this.scrapeTargets = [
      nodeExporter.endpoint,
      ksm.endpoint,
      postgres.endpoint,
      redis.endpoint,
      alertmanager.endpoint,
      prometheus.endpoint,
    ];
    this.alertmanagerPeer = alertmanager.peer;
    this.alertmanagerCluster = alertmanager.clusterEndpoint;
    this.kubeStateMetricsPeer = ksm.peer;
    this.registerOutputs({
      prometheus: this.prometheus,
      alertmanager: this.alertmanager,
      grafana: this.grafana,
      grafanaUrl: this.grafanaUrl,
      jaegerCollector: this.jaegerCollector,
      jaegerQuery: this.jaegerQuery,
    });
  }
}
