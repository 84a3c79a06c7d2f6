/** The public face of the platform component. */
export { NAMESPACES, type NamespaceKey } from "./namespaces";
export { Platform, type PlatformArgs } from "./platform";
