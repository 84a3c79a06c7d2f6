/** The public face of the platform component. */
export { type FlowSources, platformFlows } from "./flows";
export { NAMESPACES, type NamespaceKey } from "./namespaces";
export { Platform, type PlatformArgs } from "./platform";
