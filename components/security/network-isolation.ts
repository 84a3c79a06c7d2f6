import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type PodPeer, recommendedLabels, type ServiceEndpoint } from "../k8s";
import { cidrContains, type NetworkPolicyObject, type PolicyPeer, type PolicyPort } from "./network-policy-eval";

/**
 * Namespace isolation, part two. Every namespace the platform creates starts with a default-deny policy for
 * ingress AND egress plus a DNS allow (components/k8s/namespace.ts); everything else a pod may do is a named Flow
 * here. Because both sides deny by default, each flow needs two policies: an egress allow on the client's pods in
 * its namespace and an ingress allow on the server's pods in theirs. `flowPolicies` builds both from one typed
 * flow, so the two halves cannot drift apart; `NetworkIsolation` creates them.
 */

export const NETWORK_ISOLATION_COMPONENT = "network-isolation";

/**
 * Address ranges an "internet" egress allow must not reach: RFC 1918 (the VPC, pods and Services on EKS), the
 * carrier-grade NAT range (EKS custom pod networking), and link-local, which holds the EC2 instance metadata
 * service (169.254.169.254): pods authenticate to AWS through IRSA tokens, and a pod that can reach IMDS can take
 * the node's role. Excluding them means an internet allow can never be used to reach a pod or a Service that has
 * not admitted the caller through its own flow.
 */
export const PRIVATE_RANGES: readonly string[] = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "169.254.0.0/16",
];

/** A destination outside the cluster's pods, by address: AWS APIs, the Kubernetes API server. */
export interface CidrDestination {
  /** IPv4 CIDR allowed. */
  readonly cidr: string;
  /** Ranges inside `cidr` that stay denied. Default: none. */
  readonly except?: readonly string[];
  /** TCP ports allowed. */
  readonly ports: readonly number[];
}

export type FlowDestination = ServiceEndpoint | CidrDestination;

/** One connection the platform needs: pods of `from` open connections to `to`. */
export interface Flow {
  /** DNS-1123 label, unique in the flow list; names the two policies (`allow-<name>-egress`, `allow-<name>-ingress`). */
  readonly name: string;
  /** The client pods. */
  readonly from: PodPeer;
  /** The server: a Service endpoint (pods in a namespace) or an address range. */
  readonly to: FlowDestination;
  /**
   * The port on the server pods, when it differs from the Service port: NetworkPolicy is evaluated after the
   * Service has translated the address, so it sees the pod's port. Default: `to.port`.
   */
  readonly targetPort?: number;
  /**
   * Whether to create the ingress half in the server's namespace. Default: true. Set false only when that
   * namespace is not managed by this program (an existing cert-manager) or its owner already admits the caller.
   */
  readonly ingress?: boolean;
  /**
   * Whether to create the egress half in the client's namespace. Default: true. Set false when the client's
   * namespace is not managed by this program (applications sending spans): its owner allows the egress.
   */
  readonly egress?: boolean;
  /** Transport protocols allowed on the port. Default: ["TCP"] (Alertmanager's gossip also needs UDP). */
  readonly protocols?: readonly ("TCP" | "UDP")[];
}

/** How pods reach the Kubernetes API server (config security.kubeApiServer). */
export interface KubeApiServer {
  /**
   * Where the API server's endpoints live (EKS: the VPC subnets holding the control-plane ENIs). Policies see the
   * endpoint address after kube-proxy's DNAT, not the ClusterIP of `kubernetes.default`.
   */
  readonly cidrs: readonly string[];
  /** The endpoint port (EKS: 443; kubeadm: 6443). */
  readonly port: number;
}

export function isCidrDestination(to: FlowDestination): to is CidrDestination {
  return "cidr" in to;
}

/**
 * HTTPS to public addresses: S3 (also through a gateway VPC endpoint, which keeps S3's public IPs), STS for IRSA
 * and the other AWS APIs, and ACME. Public AWS ranges change weekly, so the allow is 0.0.0.0/0 on 443 minus
 * PRIVATE_RANGES. If the VPC uses interface endpoints (PrivateLink) their addresses are private: add a flow to
 * their subnets.
 */
export function internetHttps(): CidrDestination {
  return { cidr: "0.0.0.0/0", except: PRIVATE_RANGES, ports: [443] };
}

/** Flows from `from` to the Kubernetes API server, one per CIDR (Prometheus service discovery, backups of objects). */
export function kubeApiServerFlows(name: string, from: PodPeer, api: KubeApiServer): Flow[] {
  return api.cidrs.map((cidr, i) => ({
    name: api.cidrs.length === 1 ? name : `${name}-${i + 1}`,
    from,
    to: { cidr, ports: [api.port] },
  }));
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Longest flow name that keeps `allow-<name>-ingress` within a DNS label, so names stay readable in kubectl. */
const MAX_FLOW_NAME = 63 - "allow--ingress".length;

function isCidr(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (m === null) return false;
  return m.slice(1, 5).every((octet) => Number(octet) <= 255) && Number(m[5]) <= 32;
}

function checkCidr(problems: string[], where: string, cidr: string): boolean {
  if (isCidr(cidr)) return true;
  problems.push(`${where} must be an IPv4 CIDR (got "${cidr}")`);
  return false;
}

function checkPort(problems: string[], where: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(`${where} must be a port 1-65535 (got ${port})`);
}

/** Every problem of a flow list (names, namespaces, ports, CIDRs), collected; empty when the list is sound. */
export function flowProblems(flows: readonly Flow[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [i, flow] of flows.entries()) {
    const where = `flows[${i}] "${flow.name}"`;
    if (!DNS_LABEL.test(flow.name) || flow.name.length > MAX_FLOW_NAME) {
      problems.push(`${where}: name must be a DNS-1123 label of at most ${MAX_FLOW_NAME} characters`);
    }
    if (seen.has(flow.name)) problems.push(`${where}: name is used by another flow`);
    if (flow.egress === false && (flow.ingress === false || isCidrDestination(flow.to))) {
      problems.push(
        `${where}: with egress false the flow needs an ingress half (a Service destination and ingress not false)`,
      );
    }
    seen.add(flow.name);
    if (!DNS_LABEL.test(flow.from.namespace)) {
      problems.push(`${where}: from.namespace must be a DNS-1123 label (got "${flow.from.namespace}")`);
    }
    if (isCidrDestination(flow.to)) {
      if (flow.to.ports.length === 0) problems.push(`${where}: to.ports must not be empty`);
      for (const port of flow.to.ports) checkPort(problems, `${where}: to.ports`, port);
      if (checkCidr(problems, `${where}: to.cidr`, flow.to.cidr)) {
        for (const except of flow.to.except ?? []) {
          if (!checkCidr(problems, `${where}: to.except`, except)) continue;
          const [base, bits] = except.split("/");
          if (!cidrContains(flow.to.cidr, base) || Number(bits) < Number(flow.to.cidr.split("/")[1])) {
            problems.push(`${where}: to.except ${except} is outside to.cidr ${flow.to.cidr}`);
          }
        }
      }
      if (flow.targetPort !== undefined) problems.push(`${where}: targetPort applies only to Service endpoints`);
    } else {
      if (!DNS_LABEL.test(flow.to.namespace)) {
        problems.push(`${where}: to.namespace must be a DNS-1123 label (got "${flow.to.namespace}")`);
      }
      checkPort(problems, `${where}: to.port`, flow.to.port);
      if (flow.targetPort !== undefined) checkPort(problems, `${where}: targetPort`, flow.targetPort);
    }
  }
  return problems;
}

function namespacePeer(namespace: string, podSelector: Readonly<Record<string, string>>): PolicyPeer {
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    podSelector: { matchLabels: { ...podSelector } },
  };
}

function metadata(name: string, namespace: string, flow: string): NetworkPolicyObject["metadata"] {
  return {
    name,
    namespace,
    labels: { ...recommendedLabels({ name, component: NETWORK_ISOLATION_COMPONENT }), "zarish.health/flow": flow },
  };
}

/**
 * The NetworkPolicies that allow `flows` on top of default-deny: for each flow an egress allow in the client's
 * namespace and (for Service endpoints, unless `ingress: false`) an ingress allow in the server's namespace.
 * Throws once with every problem of the list.
 */
export function flowPolicies(flows: readonly Flow[]): NetworkPolicyObject[] {
  const problems = flowProblems(flows);
  if (problems.length > 0) throw new Error(`NetworkIsolation: ${problems.join("; ")}`);
  const policies: NetworkPolicyObject[] = [];
  for (const flow of flows) {
    const source = { matchLabels: { ...flow.from.podSelector } };
    if (isCidrDestination(flow.to)) {
      const ports: PolicyPort[] = flow.to.ports.flatMap((port) =>
        (flow.protocols ?? ["TCP"]).map((protocol) => ({ protocol, port })),
      );
      const ipBlock =
        flow.to.except === undefined ? { cidr: flow.to.cidr } : { cidr: flow.to.cidr, except: [...flow.to.except] };
      if (flow.egress ?? true) {
        policies.push({
          metadata: metadata(`allow-${flow.name}-egress`, flow.from.namespace, flow.name),
          spec: { podSelector: source, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock }], ports }] },
        });
      }
      continue;
    }
    const port = flow.targetPort ?? flow.to.port;
    const ports: PolicyPort[] = (flow.protocols ?? ["TCP"]).map((protocol) => ({ protocol, port }));
    if (flow.egress ?? true) {
      policies.push({
        metadata: metadata(`allow-${flow.name}-egress`, flow.from.namespace, flow.name),
        spec: {
          podSelector: source,
          policyTypes: ["Egress"],
          egress: [{ to: [namespacePeer(flow.to.namespace, flow.to.podSelector)], ports }],
        },
      });
    }
    if (flow.ingress ?? true) {
      policies.push({
        metadata: metadata(`allow-${flow.name}-ingress`, flow.to.namespace, flow.name),
        spec: {
          podSelector: { matchLabels: { ...flow.to.podSelector } },
          policyTypes: ["Ingress"],
          ingress: [{ from: [namespacePeer(flow.from.namespace, flow.from.podSelector)], ports }],
        },
      });
    }
  }
  return policies;
}

export interface NetworkIsolationArgs {
  /** The flows to allow (the platform assembles them from its components' outputs). */
  readonly flows: readonly Flow[];
}

/** Creates the NetworkPolicies of `flowPolicies(args.flows)`. */
export class NetworkIsolation extends pulumi.ComponentResource {
  /** Every policy created, by `<namespace>/<name>`. */
  public readonly policies: Record<string, k8s.networking.v1.NetworkPolicy>;
  /** The policy objects as data, for tests and the plan (the same values that were sent). */
  public readonly policyObjects: readonly NetworkPolicyObject[];

  constructor(name: string, args: NetworkIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:security:NetworkIsolation", name, {}, opts);
    this.policyObjects = flowPolicies(args.flows);
    this.policies = {};
    for (const policy of this.policyObjects) {
      const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
      this.policies[key] = new k8s.networking.v1.NetworkPolicy(
        `${name}-${policy.metadata.namespace}-${policy.metadata.name}`,
        {
          metadata: { ...policy.metadata, labels: { ...policy.metadata.labels } },
          spec: policy.spec as k8s.types.input.networking.v1.NetworkPolicySpec,
        },
        { parent: this },
      );
    }
    this.registerOutputs({ policies: Object.keys(this.policies) });
  }
}
