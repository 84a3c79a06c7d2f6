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
