/**
 * The monitoring concern: Prometheus, Alertmanager, Grafana, Jaeger, node-exporter, kube-state-metrics and the
 * database exporters as Kubernetes workloads (this folder), configured by the pure builders in ./config.
 * The platform builds `Monitoring`; the parts are exported for tests and for reuse.
 */
export {
  ALERTMANAGER_CONFIGMAP,
  ALERTMANAGER_SECRET,
  ALERTMANAGER_SECRET_FILES,
  ALERTMANAGER_SECRETS_DIR,
  Alertmanager,
  type AlertmanagerArgs,
  type AlertmanagerSecrets,
  resolveAlertmanagerArgs,
} from "./alertmanager";
export type { ElasticsearchClientAccess, SecretKeyRef } from "./common";
export {
  GRAFANA_ADMIN_SECRET,
  GRAFANA_DASHBOARDS_CONFIGMAP,
  GRAFANA_DATASOURCES_CONFIGMAP,
  GRAFANA_ELASTICSEARCH_ENV,
  Grafana,
  type GrafanaArgs,
  type GrafanaElasticsearchAccess,
  resolveGrafanaArgs,
} from "./grafana";
export { Jaeger, type JaegerArgs, type JaegerElasticsearchAccess, resolveJaegerArgs } from "./jaeger";
export { KubeStateMetrics, type KubeStateMetricsArgs, resolveKubeStateMetricsArgs } from "./kube-state-metrics";
export {
  type ElasticsearchCredentials,
  Monitoring,
  type MonitoringArgs,
  type MonitoringElasticsearch,
  resolveMonitoringArgs,
} from "./monitoring";
export { NODE_EXPORTER_COMPUTE, NodeExporter, type NodeExporterArgs, resolveNodeExporterArgs } from "./node-exporter";
export { PostgresExporter, type PostgresExporterArgs, resolvePostgresExporterArgs } from "./postgres-exporter";
export {
  PROMETHEUS_CONFIGMAP,
  PROMETHEUS_RULES_CONFIGMAP,
  Prometheus,
  type PrometheusArgs,
  resolvePrometheusArgs,
} from "./prometheus";
export { RedisExporter, type RedisExporterArgs, resolveRedisExporterArgs } from "./redis-exporter";
