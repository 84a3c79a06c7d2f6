/**
 * A small, pure model of Kubernetes NetworkPolicy semantics
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/), so a test (or the offline plan) can
 * ask "is this connection allowed by the union of these policies?" without a cluster. It covers what the
 * platform's policies use: pod and namespace selectors (matchLabels and matchExpressions), IPv4 ipBlocks with
 * `except`, numeric ports with `endPort`, protocols, and the policyTypes defaulting rules. Named ports cannot be
 * resolved without the pod spec and never match here, which errs on the side of "denied".
 */

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface IpBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IpBlock;
}

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface PolicyPort {
  readonly protocol?: Protocol;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface IngressRule {
  readonly from?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

export interface EgressRule {
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

export type PolicyType = "Ingress" | "Egress";

/** The fields of a networking.k8s.io/v1 NetworkPolicy that decide what it allows, as plain data. */
export interface NetworkPolicyObject {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string> };
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly policyTypes?: readonly PolicyType[];
    readonly ingress?: readonly IngressRule[];
    readonly egress?: readonly EgressRule[];
  };
}

/** A pod: its namespace and labels (and IP, only needed when ipBlocks should be able to match it). */
export interface PodRef {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip?: string;
}

/** An address outside the cluster's pods (an AWS endpoint, the API server). */
export interface ExternalRef {
  readonly ip: string;
}

export type Endpoint = PodRef | ExternalRef;

function isPod(e: Endpoint): e is PodRef {
  return "namespace" in e;
}

/** Namespace labels: Kubernetes sets kubernetes.io/metadata.name on every namespace; extra labels can be given. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>>;

export const defaultNamespaceLabels: NamespaceLabels = (namespace) => ({ "kubernetes.io/metadata.name": namespace });

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(labels[req.key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[req.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function ipv4ToNumber(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`not an IPv4 address: "${ip}"`);
  let n = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) throw new Error(`not an IPv4 address: "${ip}"`);
    n = n * 256 + octet;
  }
  return n;
}

/** Whether an IPv4 address lies in an IPv4 CIDR. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`not an IPv4 CIDR: "${cidr}"`);
  const size = 2 ** (32 - bits);
  const start = Math.floor(ipv4ToNumber(base) / size) * size;
  const address = ipv4ToNumber(ip);
  return address >= start && address < start + size;
}

function ipBlockMatches(block: IpBlock, ip: string | undefined): boolean {
  if (ip === undefined) return false;
  return cidrContains(block.cidr, ip) && !(block.except ?? []).some((e) => cidrContains(e, ip));
}

/** Whether one peer of a rule in a policy of `policyNamespace` designates `endpoint`. */
function peerMatches(
  peer: PolicyPeer,
  policyNamespace: string,
  endpoint: Endpoint,
  nsLabels: NamespaceLabels,
): boolean {
  if (peer.ipBlock !== undefined) return ipBlockMatches(peer.ipBlock, endpoint.ip);
  if (!isPod(endpoint)) return false;
  if (peer.namespaceSelector === undefined) {
    // A podSelector alone selects pods in the policy's own namespace.
    return endpoint.namespace === policyNamespace && selectorMatches(peer.podSelector ?? {}, endpoint.labels);
  }
  return (
    selectorMatches(peer.namespaceSelector, nsLabels(endpoint.namespace)) &&
    selectorMatches(peer.podSelector ?? {}, endpoint.labels)
  );
}

function portMatches(ports: readonly PolicyPort[] | undefined, port: number, protocol: Protocol): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "string") return false;
    return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
  });
}

/** policyTypes as the API server defaults them: Ingress always, Egress when the policy has egress rules. */
export function effectivePolicyTypes(policy: NetworkPolicyObject): readonly PolicyType[] {
  if (policy.spec.policyTypes !== undefined && policy.spec.policyTypes.length > 0) return policy.spec.policyTypes;
  return policy.spec.egress === undefined ? ["Ingress"] : ["Ingress", "Egress"];
}

function policiesSelecting(
  policies: readonly NetworkPolicyObject[],
  pod: PodRef,
  type: PolicyType,
): NetworkPolicyObject[] {
  return policies.filter(
    (p) =>
      p.metadata.namespace === pod.namespace &&
      effectivePolicyTypes(p).includes(type) &&
      selectorMatches(p.spec.podSelector, pod.labels),
  );
}

/** Whether `source` may send to `destination` on port/protocol, as far as egress policies of the source go. */
export function egressAllowed(
  policies: readonly NetworkPolicyObject[],
  source: PodRef,
  destination: Endpoint,
  port: number,
  protocol: Protocol = "TCP",
  nsLabels: NamespaceLabels = defaultNamespaceLabels,
): boolean {
  const selecting = policiesSelecting(policies, source, "Egress");
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    (policy.spec.egress ?? []).some(
      (rule) =>
        portMatches(rule.ports, port, protocol) &&
        (rule.to === undefined ||
          rule.to.length === 0 ||
          rule.to.some((peer) => peerMatches(peer, policy.metadata.namespace, destination, nsLabels))),
    ),
  );
}

/** Whether `destination` admits traffic from `source` on port/protocol, as far as its ingress policies go. */
export function ingressAllowed(
  policies: readonly NetworkPolicyObject[],
  source: Endpoint,
  destination: PodRef,
  port: number,
  protocol: Protocol = "TCP",
  nsLabels: NamespaceLabels = defaultNamespaceLabels,
): boolean {
  const selecting = policiesSelecting(policies, destination, "Ingress");
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    (policy.spec.ingress ?? []).some(
      (rule) =>
        portMatches(rule.ports, port, protocol) &&
        (rule.from === undefined ||
          rule.from.length === 0 ||
          rule.from.some((peer) => peerMatches(peer, policy.metadata.namespace, source, nsLabels))),
    ),
  );
}

/**
 * Whether a connection is allowed end to end: both the source's egress and the destination's ingress must allow
 * it (a destination outside the cluster has no ingress policies; a source outside the cluster has no egress ones).
 */
export function connectionAllowed(
  policies: readonly NetworkPolicyObject[],
  source: Endpoint,
  destination: Endpoint,
  port: number,
  protocol: Protocol = "TCP",
  nsLabels: NamespaceLabels = defaultNamespaceLabels,
): boolean {
  const egress = isPod(source) ? egressAllowed(policies, source, destination, port, protocol, nsLabels) : true;
  const ingress = isPod(destination) ? ingressAllowed(policies, source, destination, port, protocol, nsLabels) : true;
  return egress && ingress;
}
