/**
 * ZARISH SPHERE operations platform. Reads and validates the stack's config (a bad value stops here, before any
 * resource is registered), builds the platform, and exports what an operator needs.
 */
import { Platform } from "./components/platform";
import { loadConfig } from "./config";

const config = loadConfig();
const platform = new Platform("zarish", { config });

export const environment = config.environment;
export const namespaces = platform.namespaces;
export const grafanaUrl = platform.grafanaUrl;
export const grafanaAdminPassword = platform.grafanaAdminPassword;
export const prometheusUrl = platform.prometheusUrl;
export const alertmanagerUrl = platform.alertmanagerUrl;
export const elasticsearchUrl = platform.elasticsearchUrl;
export const kibanaUrl = platform.kibanaUrl;
export const certificateIssuer = platform.certificateIssuer;
export const backupBuckets = platform.backupBuckets;
