import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import {
  type HardenedContainerArgs,
  hardenedContainer,
  imageVersion,
  type PodPeer,
  recommendedLabels,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
  selectorLabels,
} from "../k8s";

/** The app.kubernetes.io/component label of every monitoring object. */
export const MONITORING_COMPONENT = "monitoring";

/** Identity of one workload: its object name, namespace and image; everything label-shaped derives from it. */
export interface Workload {
  /** Object name (StatefulSet, Service, ServiceAccount...) and app.kubernetes.io/name. */
  readonly name: string;
  readonly namespace: string;
  /** Pinned image reference, for app.kubernetes.io/version. */
  readonly image: string;
  /** app.kubernetes.io/component. Default: "monitoring". */
  readonly component?: string;
}

export function workloadLabels(w: Workload): Record<string, string> {
  return recommendedLabels({
    name: w.name,
    component: w.component ?? MONITORING_COMPONENT,
    version: imageVersion(w.image),
  });
}

export function workloadSelector(w: Workload): Record<string, string> {
  return selectorLabels({ name: w.name });
}

/** Explicit name, namespace and recommended labels: nothing is autonamed, so the plan and the cluster agree. */
export function objectMeta(
  w: Workload,
  name: string = w.name,
  annotations?: Record<string, string>,
): k8s.types.input.meta.v1.ObjectMeta {
  return {
    name,
    namespace: w.namespace,
    labels: workloadLabels(w),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

/** Cluster-scoped objects (ClusterRole, ClusterRoleBinding) carry the same labels but no namespace. */
export function clusterObjectMeta(w: Workload, name: string): k8s.types.input.meta.v1.ObjectMeta {
  return { name, labels: workloadLabels(w) };
}

export function podPeer(w: Workload): PodPeer {
  return { namespace: w.namespace, podSelector: workloadSelector(w) };
}

export function serviceEndpoint(
  w: Workload,
  port: number,
  scheme: ServiceEndpoint["scheme"] = "http",
  service: string = w.name,
): ServiceEndpoint {
  return { namespace: w.namespace, service, port, scheme, podSelector: workloadSelector(w) };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Appends a problem when `value` is not a DNS-1123 label (namespace and object names). */
export function checkDnsLabel(problems: string[], where: string, value: string): void {
  if (!DNS_LABEL.test(value)) problems.push(`${where} must be a DNS-1123 label (got "${value}")`);
}

/** Appends a problem when `value` is not a whole number >= min. */
export function checkInteger(problems: string[], where: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) problems.push(`${where} must be an integer >= ${min} (got ${value})`);
}

/** Throws every collected problem at once, so a config is fixed in one pass. */
export function throwIfProblems(component: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new Error(`${component}: ${problems.join("; ")}`);
}

/**
 * A Kubernetes Secret key: the Secret must live in the namespace of the pod that reads it (Kubernetes cannot
 * reference a Secret across namespaces). The name is an Input so that passing `secret.metadata.name` makes the
 * reader depend on the Secret.
 */
export interface SecretKeyRef {
  readonly name: pulumi.Input<string>;
  readonly key: string;
}

/** A ConfigMap key, in the namespace of the pod that reads it. */
export interface ConfigMapKeyRef {
  readonly name: pulumi.Input<string>;
  readonly key: string;
}

/** How a monitoring client logs in to Elasticsearch (the logging component's HTTPS endpoint). */
export interface ElasticsearchClientAccess {
  /** The Elasticsearch HTTP endpoint; https. */
  readonly endpoint: ServiceEndpoint;
  /** The Elasticsearch user (not secret; its password is). */
  readonly username: string;
  /** That user's password, in a Secret of the client's namespace. */
  readonly password: SecretKeyRef;
  /** PEM CA certificate of Elasticsearch's HTTP certificate (public), in a ConfigMap of the client's namespace. */
  readonly caCert: ConfigMapKeyRef;
}

/** A Secret key as an environment variable. */
export function envFromSecret(name: string, ref: SecretKeyRef): k8s.types.input.core.v1.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

/** With more than one replica, prefer different nodes so that one node failure does not take every copy. */
export function spreadAcrossNodes(w: Workload): k8s.types.input.core.v1.Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: workloadSelector(w) },
          },
        },
      ],
    },
  };
}

/**
 * A PodDisruptionBudget for a replicated workload, so a node drain keeps all but one replica serving (the policy
 * pack requires one for every multi-replica StatefulSet in prod). A single replica gets none: a budget of
 * maxUnavailable 1 would not protect it, and minAvailable 1 would block every drain.
 */
export function disruptionBudget(
  name: string,
  w: Workload,
  replicas: number,
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget | undefined {
  if (replicas < 2) return undefined;
  return new k8s.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    { metadata: objectMeta(w), spec: { maxUnavailable: 1, selector: { matchLabels: workloadSelector(w) } } },
    opts,
  );
}

/** One named container port, published by the Service under the same name and number. */
export interface NamedPort {
  readonly name: string;
  readonly port: number;
}

/**
 * `${name}-deployment`: one replica of one hardened container under the restricted pod profile of its user, for
 * the stateless exporters (postgres-exporter, redis-exporter, kube-state-metrics). Only a pod given a
 * ServiceAccount mounts its token: kube-state-metrics lists and watches the API with it; the others need none.
 */
export function singleContainerDeployment(
  name: string,
  w: Workload,
  pod: { readonly container: HardenedContainerArgs; readonly serviceAccountName?: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions,
): k8s.apps.v1.Deployment {
  return new k8s.apps.v1.Deployment(
    `${name}-deployment`,
    {
      metadata: objectMeta(w),
      spec: {
        replicas: 1,
        selector: { matchLabels: workloadSelector(w) },
        template: {
          metadata: { labels: workloadLabels(w) },
          spec: {
            ...(pod.serviceAccountName === undefined ? {} : { serviceAccountName: pod.serviceAccountName }),
            automountServiceAccountToken: pod.serviceAccountName !== undefined,
            securityContext: restrictedPodSecurityContext(pod.container.runAsUser),
            containers: [hardenedContainer(pod.container)],
          },
        },
      },
    },
    opts,
  );
}

/** `${name}-service`: a ClusterIP Service named like the workload, each port targeting the container port of its name. */
export function serviceFor(
  name: string,
  w: Workload,
  ports: readonly NamedPort[],
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    `${name}-service`,
    {
      metadata: objectMeta(w),
      spec: {
        selector: workloadSelector(w),
        ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name })),
      },
    },
    opts,
  );
}
