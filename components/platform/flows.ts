import type { PlatformConfig } from "../../config/types";
import type { PodPeer, ServiceEndpoint } from "../k8s/endpoints";
import { type CidrDestination, type Flow, internetHttps, kubeApiServerFlows } from "../security";

/**
 * Every connection the platform needs, assembled from the components' typed outputs. Each namespace denies all
 * traffic by default; NetworkIsolation turns each flow into an egress allow on the client and an ingress allow on
 * the server. Adding a workload that talks to another means adding its flow here (tests/platform-flows.test.ts
 * proves each listed connection is allowed and an unlisted one denied).
 */
export interface FlowSources {
  readonly config: PlatformConfig;
  readonly monitoring: {
    readonly prometheus: ServiceEndpoint;
    readonly alertmanager: ServiceEndpoint;
    readonly alertmanagerCluster: ServiceEndpoint;
    readonly jaegerCollector: ServiceEndpoint;
    readonly jaegerQuery: ServiceEndpoint;
    readonly scraper: PodPeer;
    readonly grafanaPeer: PodPeer;
    readonly alertmanagerPeer: PodPeer;
    readonly kubeStateMetricsPeer: PodPeer;
    readonly elasticsearchClients: readonly PodPeer[];
    readonly postgresExporterPeer: PodPeer;
    readonly redisExporterPeer: PodPeer;
    readonly scrapeTargets: readonly ServiceEndpoint[];
  };
  readonly logging: {
    readonly elasticsearch: ServiceEndpoint;
    readonly elasticsearchTransport: ServiceEndpoint;
    readonly logstash: ServiceEndpoint;
    readonly metrics: ServiceEndpoint;
    readonly peers: {
      readonly elasticsearch: PodPeer;
      readonly kibana: PodPeer;
      readonly logstash: PodPeer;
      readonly filebeat: PodPeer;
      readonly exporter: PodPeer;
      readonly bootstrap: PodPeer;
    };
  };
  readonly certManager: { readonly metricsEndpoint: ServiceEndpoint };
  readonly falco:
    | {
        readonly metricsEndpoint: ServiceEndpoint;
        readonly sidekickEndpoint: ServiceEndpoint;
        readonly flows: readonly Flow[];
      }
    | undefined;
  readonly backup?: {
    /** Pods that connect to the database (backup, restore verification, maintenance, report). */
    readonly databaseClients: readonly PodPeer[];
    /** Pods that upload to or read from S3. */
    readonly s3Clients: readonly PodPeer[];
    /** Pods that read the Kubernetes API (object backup). */
    readonly kubernetesApiClients: readonly PodPeer[];
  };
}

/** A Service outside the platform's namespaces (the application's, the database's): no ingress half from us. */
function external(namespace: string, service: string, port: number): ServiceEndpoint {
  return { namespace, service, port, scheme: "tcp", podSelector: {} };
}

/** A flow name from a Service, for the scrape flows (`scrape-<namespace>-<service>`, bounded). */
function scrapeName(e: ServiceEndpoint): string {
  return `scrape-${e.namespace}-${e.service}`.slice(0, 49).replace(/-+$/, "");
}

export function platformFlows(s: FlowSources): Flow[] {
  const c = s.config;
  const m = s.monitoring;
  const l = s.logging;
  const app = c.kubernetes.applicationNamespace;
  const db = c.kubernetes.databaseNamespace;
  const [pgHost, pgPort] = c.monitoring.exporters.postgresAddress.split(":");
  const redisPort = Number(/:(\d+)$/.exec(c.monitoring.exporters.redisAddress)?.[1] ?? 6379);
  const smtpPort = Number(c.monitoring.alerting.smarthost.split(":")[1]);
  const notifications: CidrDestination = { ...internetHttps(), ports: [...new Set([443, smtpPort])] };

  const flows: Flow[] = [
    // Prometheus: every scrape target of the platform, the application's jobs, and the API server for discovery.
    ...m.scrapeTargets.map((to) => ({ name: scrapeName(to), from: m.scraper, to })),
    { name: "scrape-elasticsearch-exporter", from: m.scraper, to: l.metrics },
    // cert-manager's namespace admits Prometheus itself when the program installs it, and is not ours otherwise.
    { name: "scrape-cert-manager", from: m.scraper, to: s.certManager.metricsEndpoint, ingress: false },
    { name: "scrape-api", from: m.scraper, to: external(app, "api", 3000), ingress: false },
    { name: "scrape-fhir", from: m.scraper, to: external(app, "fhir", 8080), ingress: false },
    ...kubeApiServerFlows("prometheus-to-kube-api", m.scraper, c.security.kubeApiServer),
    { name: "prometheus-to-alertmanager", from: m.scraper, to: m.alertmanager },
    // Alertmanager: gossip between replicas (TCP and UDP), and notifications to PagerDuty, Slack and SMTP.
    {
      name: "alertmanager-gossip",
      from: m.alertmanagerPeer,
      to: { ...m.alertmanagerCluster, port: 9094 },
      protocols: ["TCP", "UDP"],
    },
    { name: "alertmanager-notifications", from: m.alertmanagerPeer, to: notifications },
    ...kubeApiServerFlows("kube-state-metrics-to-kube-api", m.kubeStateMetricsPeer, c.security.kubeApiServer),
    // Grafana reads Prometheus, Jaeger and Elasticsearch; Jaeger stores spans in Elasticsearch.
    { name: "grafana-to-prometheus", from: m.grafanaPeer, to: m.prometheus },
    { name: "grafana-to-jaeger", from: m.grafanaPeer, to: m.jaegerQuery },
    ...m.elasticsearchClients.map((from) => ({
      name: `${from.podSelector["app.kubernetes.io/name"] ?? "client"}-to-elasticsearch`,
      from,
      to: l.elasticsearch,
    })),
    // Applications send spans to the collector; their namespace allows its own egress.
    { name: "app-spans-to-jaeger", from: { namespace: app, podSelector: {} }, to: m.jaegerCollector, egress: false },
    // The database exporters reach the databases, whose namespace admits them (not ours).
    {
      name: "postgres-exporter-to-db",
      from: m.postgresExporterPeer,
      to: external(db, pgHost.split(".")[0], Number(pgPort)),
      ingress: false,
    },
    {
      name: "redis-exporter-to-redis",
      from: m.redisExporterPeer,
      to: external(db, "redis", redisPort),
      ingress: false,
    },
    // Logging: Filebeat ships to Logstash; everything else of the stack talks to Elasticsearch.
    { name: "filebeat-to-logstash", from: l.peers.filebeat, to: l.logstash },
    { name: "logstash-to-elasticsearch", from: l.peers.logstash, to: l.elasticsearch },
    { name: "kibana-to-elasticsearch", from: l.peers.kibana, to: l.elasticsearch },
    { name: "es-exporter-to-elasticsearch", from: l.peers.exporter, to: l.elasticsearch },
    { name: "es-bootstrap-to-elasticsearch", from: l.peers.bootstrap, to: l.elasticsearch },
    { name: "elasticsearch-transport", from: l.peers.elasticsearch, to: l.elasticsearchTransport },
    // Snapshots go to S3 (and STS for the IRSA role), outside the VPC ranges.
    { name: "elasticsearch-to-s3", from: l.peers.elasticsearch, to: internetHttps() },
    ...kubeApiServerFlows("es-bootstrap-to-kube-api", l.peers.bootstrap, c.security.kubeApiServer),
  ];
  if (s.falco) {
    flows.push(
      { name: "scrape-falco", from: m.scraper, to: s.falco.metricsEndpoint },
      { name: "scrape-falcosidekick", from: m.scraper, to: s.falco.sidekickEndpoint },
      ...s.falco.flows,
    );
  }
  for (const [i, from] of (s.backup?.databaseClients ?? []).entries()) {
    flows.push({
      name: `backup-to-db-${i + 1}`,
      from,
      to: external(db, pgHost.split(".")[0], c.backup.database.port),
      ingress: false,
    });
  }
  for (const [i, from] of (s.backup?.s3Clients ?? []).entries()) {
    flows.push({ name: `backup-to-s3-${i + 1}`, from, to: internetHttps() });
  }
  for (const [i, from] of (s.backup?.kubernetesApiClients ?? []).entries()) {
    flows.push(...kubeApiServerFlows(`backup-to-kube-api-${i + 1}`, from, c.security.kubeApiServer));
  }
  return flows;
}
