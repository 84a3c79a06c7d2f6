import { type BackupRuleArgs, resolveAlertRuleArgs } from "../rules";
import { toYaml } from "../yaml";
import { apiDashboard, clinicalDashboard, platformDashboard } from "./dashboards";
import { type Dashboard, renderDashboard } from "./model";

export { DATASOURCE_UIDS, type GrafanaDatasourcesArgs, renderGrafanaDatasources } from "./datasources";
export type { Dashboard, Panel, Query, Row, Variable } from "./model";

/** Where the dashboard provider reads the dashboard files (the dashboards ConfigMap's mount). */
export const DEFAULT_GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana/dashboards";

export interface GrafanaDashboardArgs {
  /** The backup CronJob shown on the platform dashboard. Default: the alert rules' DEFAULT_DATABASE_BACKUP. */
  readonly databaseBackup?: Partial<BackupRuleArgs>;
}

/** Every dashboard, as typed data. */
export function grafanaDashboards(args: GrafanaDashboardArgs = {}): readonly Dashboard[] {
  const backup = resolveAlertRuleArgs({ databaseBackup: args.databaseBackup }).databaseBackup;
  return [clinicalDashboard, apiDashboard, platformDashboard(backup)];
}

/** Dashboard JSON by file name (`<uid>.json`), the keys of the dashboards ConfigMap. */
export function renderGrafanaDashboards(args: GrafanaDashboardArgs = {}): Record<string, string> {
  return Object.fromEntries(
    grafanaDashboards(args).map((d) => [`${d.uid}.json`, `${JSON.stringify(renderDashboard(d), null, 2)}\n`]),
  );
}

export interface GrafanaDashboardProviderArgs {
  /** Directory holding the dashboard files. Default: DEFAULT_GRAFANA_DASHBOARDS_DIR. */
  readonly path?: string;
  /** Grafana folder the dashboards appear in. Default: "ZARISH SPHERE". */
  readonly folder?: string;
}

/**
 * provisioning/dashboards/*.yaml. Dashboards are code: edits in the UI are refused (allowUiUpdates false) and a
 * dashboard removed from the repository disappears from Grafana (disableDeletion false).
 */
export function renderGrafanaDashboardProvider(args: GrafanaDashboardProviderArgs = {}): string {
  return toYaml(
    {
      apiVersion: 1,
      providers: [
        {
          name: "zarish-sphere",
          orgId: 1,
          folder: args.folder ?? "ZARISH SPHERE",
          type: "file",
          disableDeletion: false,
          allowUiUpdates: false,
          updateIntervalSeconds: 60,
          options: { path: args.path ?? DEFAULT_GRAFANA_DASHBOARDS_DIR, foldersFromFilesStructure: false },
        },
      ],
    },
    "components/monitoring/config/grafana/index.ts",
  );
}
