/**
 * Security: TLS certificates (cert-manager and Let's Encrypt), runtime detection (Falco and falcosidekick to
 * Alertmanager), and namespace isolation (the flows allowed on top of each namespace's default-deny).
 */
export {
  ACME_DIRECTORIES,
  ACME_ISSUER_NAMES,
  CERT_MANAGER_METRICS_PORT,
  CertManager,
  type CertManagerArgs,
  certificateManifests,
  certificateSecretName,
  certManagerMetricsEndpoint,
  certManagerPolicies,
  certManagerValues,
  clusterIssuerManifest,
  resolveCertManagerArgs,
} from "./cert-manager";
export { FALCO_CAPABILITIES, FALCO_NAME, Falco, type FalcoArgs, falcoFiles, resolveFalcoArgs } from "./falco";
export { type FalcoConfig, falcoConfig, renderFalcoConfig } from "./falco-config";
export {
  FALCO_DEFAULT_LISTS,
  FALCO_DEFAULT_MACROS,
  FALCO_PRIORITIES,
  type FalcoList,
  type FalcoMacro,
  type FalcoPriority,
  type FalcoRule,
  type FalcoRuleset,
  platformFalcoRules,
  renderFalcoRules,
} from "./falco-rules";
export { falcoRulesProblems, parseCondition } from "./falco-rules-check";
export { FALCO_SEVERITY_MAP, Falcosidekick, type FalcosidekickArgs, falcosidekickEnv } from "./falcosidekick";
export {
  type CidrDestination,
  type Flow,
  type FlowDestination,
  flowPolicies,
  flowProblems,
  internetHttps,
  type KubeApiServer,
  kubeApiServerFlows,
  NetworkIsolation,
  type NetworkIsolationArgs,
  PRIVATE_RANGES,
} from "./network-isolation";
export * from "./network-policy-eval";
