import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recommendedLabels } from "./labels";

/** Pod Security Admission levels (https://kubernetes.io/docs/concepts/security/pod-security-admission/). */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** The Kubernetes minor version the PSA policy is evaluated at; pinned so a cluster upgrade cannot loosen it. */
export const POD_SECURITY_VERSION = "v1.30";

export interface PlatformNamespaceArgs {
  /** The namespace name. */
  readonly name: string;
  /** The concern it hosts, for the app.kubernetes.io/component label. */
  readonly component: string;
  /** Pod Security Admission level enforced. Default: "restricted". */
  readonly podSecurity?: PodSecurityLevel;
  /** Why a level below "restricted" is needed; required when podSecurity is not "restricted". */
  readonly podSecurityReason?: string;
}

export interface ResolvedNamespaceArgs {
  readonly name: string;
  readonly component: string;
  readonly podSecurity: PodSecurityLevel;
  readonly podSecurityReason: string | undefined;
}

/** Defaults and validation, without Pulumi, so tests can pin them. */
export function resolveNamespaceArgs(args: PlatformNamespaceArgs): ResolvedNamespaceArgs {
  const podSecurity = args.podSecurity ?? "restricted";
  const problems: string[] = [];
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(args.name)) {
    problems.push(`namespace name must be a DNS-1123 label (got "${args.name}")`);
  }
  if (podSecurity !== "restricted" && !args.podSecurityReason?.trim()) {
    problems.push(`namespace "${args.name}": podSecurityReason is required for podSecurity "${podSecurity}"`);
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return { name: args.name, component: args.component, podSecurity, podSecurityReason: args.podSecurityReason };
}

/** Namespace labels: recommended labels plus PSA enforce, audit and warn at the same level and pinned version. */
export function namespaceLabels(args: ResolvedNamespaceArgs): Record<string, string> {
  const labels: Record<string, string> = {
    ...recommendedLabels({ name: args.name, component: args.component }),
    "kubernetes.io/metadata.name": args.name,
  };
  for (const mode of ["enforce", "audit", "warn"]) {
    labels[`pod-security.kubernetes.io/${mode}`] = args.podSecurity;
    labels[`pod-security.kubernetes.io/${mode}-version`] = POD_SECURITY_VERSION;
  }
  return labels;
}

/**
 * A namespace of the platform: PSA labels, a default-deny NetworkPolicy for ingress and egress (everything a pod
 * may do is then allowed by name, see components/security), and the one allow every pod needs: DNS to kube-dns.
 */
export class PlatformNamespace extends pulumi.ComponentResource {
  /** The namespace name, known at plan time, for other components' metadata. */
  public readonly name: string;
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly defaultDeny: k8s.networking.v1.NetworkPolicy;
  public readonly allowDns: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: PlatformNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:k8s:PlatformNamespace", name, {}, opts);
    const resolved = resolveNamespaceArgs(args);
    this.name = resolved.name;
    const annotations: Record<string, string> =
      resolved.podSecurityReason === undefined
        ? {}
        : { "zarish.health/pod-security-reason": resolved.podSecurityReason };

    this.namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: resolved.name, labels: namespaceLabels(resolved), annotations } },
      { parent: this },
    );
    const metadata = (policyName: string) => ({
      name: policyName,
      namespace: this.namespace.metadata.name,
      labels: recommendedLabels({ name: policyName, component: "network-isolation" }),
    });
    this.defaultDeny = new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      { metadata: metadata("default-deny"), spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
      { parent: this },
    );
    this.allowDns = new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-dns`,
      {
        metadata: metadata("allow-dns-egress"),
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ],
        },
      },
      { parent: this },
    );
    this.registerOutputs({ name: this.name });
  }
}
