import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../../config/types";
import { PlatformNamespace } from "../k8s/namespace";
import { NAMESPACES, type NamespaceKey } from "./namespaces";

export interface PlatformArgs {
  /** The validated configuration of the stack (config/index.ts). */
  readonly config: PlatformConfig;
}

/**
 * The whole operations platform of one environment: namespaces and their isolation, backups, logging and audit,
 * monitoring, and security, wired to each other through typed outputs.
 */
export class Platform extends pulumi.ComponentResource {
  public readonly namespaces: Record<NamespaceKey, string>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:platform:Platform", name, {}, opts);
    const namespaces = {} as Record<NamespaceKey, PlatformNamespace>;
    for (const [key, ns] of Object.entries(NAMESPACES) as [NamespaceKey, (typeof NAMESPACES)[NamespaceKey]][]) {
      namespaces[key] = new PlatformNamespace(`${name}-ns-${ns.name}`, ns, { parent: this });
    }
    this.namespaces = Object.fromEntries(Object.entries(namespaces).map(([k, ns]) => [k, ns.name])) as Record<
      NamespaceKey,
      string
    >;
    this.registerOutputs({ namespaces: this.namespaces });
  }
}
