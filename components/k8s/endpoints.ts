/**
 * How one component tells another where to reach it: the Service, its port and the pods behind it. Components
 * pass these typed values to each other (and to the network policies) instead of typing host names twice.
 */
export interface ServiceEndpoint {
  /** Namespace of the Service. */
  readonly namespace: string;
  /** Service name. */
  readonly service: string;
  /** The port clients connect to. */
  readonly port: number;
  /** "http" or "https" for web endpoints, "tcp" otherwise. */
  readonly scheme: "http" | "https" | "tcp";
  /** Labels of the pods that serve it (for NetworkPolicy ingress rules). */
  readonly podSelector: Readonly<Record<string, string>>;
}

/** The in-cluster DNS name of an endpoint (`svc.namespace.svc`), without the cluster domain suffix. */
export function endpointHost(e: ServiceEndpoint): string {
  return `${e.service}.${e.namespace}.svc`;
}

/** `scheme://host:port` for http(s) endpoints, `host:port` for tcp ones. */
export function endpointUrl(e: ServiceEndpoint): string {
  const hostPort = `${endpointHost(e)}:${e.port}`;
  return e.scheme === "tcp" ? hostPort : `${e.scheme}://${hostPort}`;
}

/** The pods of one workload, as a NetworkPolicy peer. */
export interface PodPeer {
  readonly namespace: string;
  readonly podSelector: Readonly<Record<string, string>>;
}
