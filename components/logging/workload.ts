import type * as k8s from "@pulumi/kubernetes";
import { imageVersion, type PodPeer, recommendedLabels, type ServiceEndpoint, selectorLabels } from "../k8s";
import { TLS_KEYS, TLS_SECRETS } from "./names";

/**
 * What a logging workload derives from its name, namespace and image, so that its objects, the endpoints it
 * offers and the peer the network flows admit all select the same pods.
 */
export interface LoggingWorkload {
  /** The recommended labels (component "logging", version from the image). */
  readonly labels: Record<string, string>;
  /** The pod selector: app.kubernetes.io/name and instance. */
  readonly selector: Record<string, string>;
  /** The workload's pods, as a NetworkPolicy peer. */
  readonly peer: PodPeer;
  /** Explicit name, namespace (default: the workload's) and the labels. */
  meta(objectName: string, namespace?: string): { name: string; namespace: string; labels: Record<string, string> };
  /** A Service of the workload's namespace in front of its pods. */
  endpoint(service: string, port: number, scheme: ServiceEndpoint["scheme"]): ServiceEndpoint;
}

export function loggingWorkload(name: string, namespace: string, image: string): LoggingWorkload {
  const labels = recommendedLabels({ name, component: "logging", version: imageVersion(image) });
  const selector = selectorLabels({ name });
  return {
    labels,
    selector,
    peer: { namespace, podSelector: selector },
    meta: (objectName, objectNamespace = namespace) => ({ name: objectName, namespace: objectNamespace, labels }),
    endpoint: (service, port, scheme) => ({ namespace, service, port, scheme, podSelector: selector }),
  };
}

/**
 * The "elasticsearch-ca" volume the Elasticsearch clients mount: only the CA (the issuer of the Elasticsearch
 * HTTP certificate) from its TLS Secret, never the certificate's private key.
 */
export function elasticsearchCaVolume(): k8s.types.input.core.v1.Volume {
  return {
    name: "elasticsearch-ca",
    secret: { secretName: TLS_SECRETS.elasticsearchHttp, items: [{ key: TLS_KEYS.ca, path: TLS_KEYS.ca }] },
  };
}
