/**
 * The monitoring component's configuration files, as pure functions of typed data (no Pulumi resources):
 * prometheus.yml, the alert rule files, alertmanager.yml and Grafana's provisioning. The workloads in
 * components/monitoring put their output in ConfigMaps; the tests hand the same output to promtool and amtool.
 */
export {
  ALERTMANAGER_SECRET_KEYS,
  type AlertmanagerConfigArgs,
  DEFAULT_ALERTMANAGER_SECRETS_DIR,
  RECEIVERS,
  renderAlertmanagerConfig,
} from "./alertmanager";
export {
  DATASOURCE_UIDS,
  DEFAULT_GRAFANA_DASHBOARDS_DIR,
  type GrafanaDashboardArgs,
  type GrafanaDashboardProviderArgs,
  type GrafanaDatasourcesArgs,
  grafanaDashboards,
  renderGrafanaDashboardProvider,
  renderGrafanaDashboards,
  renderGrafanaDatasources,
} from "./grafana";
export { JOBS } from "./jobs";
export {
  CERT_MANAGER_METRICS_PORT,
  DEFAULT_NODE_EXPORTER,
  DEFAULT_RULE_FILES_GLOB,
  type PrometheusConfigArgs,
  renderPrometheusConfig,
} from "./prometheus";
export {
  type AlertRuleArgs,
  alertRuleFiles,
  allAlertRules,
  type BackupRuleArgs,
  DEFAULT_DATABASE_BACKUP,
  DEFAULT_RUNBOOK_BASE_URL,
  INHIBIT_GROUP_LABEL,
  INHIBIT_GROUPS,
  type ResolvedAlertRuleArgs,
  renderRuleFiles,
  resolveAlertRuleArgs,
  runbookUrl,
} from "./rules";
export type { AlertRule, InhibitGroup, InhibitGroupName, RuleFile, RuleGroup, Severity } from "./types";
