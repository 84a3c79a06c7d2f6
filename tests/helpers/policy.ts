/**
 * Builders for the policy-pack tests and fixtures: a hardened container, pod spec and workload of every kind (which
 * pass every policy), Kubernetes and AWS resources in the plan.json shape, and a shortcut to evaluate them.
 */

import {
  type EvaluateOptions,
  evaluatePolicies,
  type PlanResource,
  type Violation,
} from "../../tools/lib/policy-engine";
import { manifestResource } from "../../tools/lib/policy-input";

/** Manifests are untyped JSON, changed freely by the tests. */
export type Json = Record<string, any>;

export const WORKLOAD_KINDS = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "Job",
  "CronJob",
] as const;
export type TestWorkloadKind = (typeof WORKLOAD_KINDS)[number] | "ReplicationController";

export const PINNED_IMAGE = "registry.example.com/zarish/app:1.4.2";

/** A container that passes every policy (probes only where they make sense: not in init containers). */
export function hardenedContainer(name: string, options: { probes?: boolean; image?: string } = {}): Json {
  return {
    name,
    image: options.image ?? PINNED_IMAGE,
    imagePullPolicy: "IfNotPresent",
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...(options.probes === false
      ? {}
      : {
          ports: [{ name: "http", containerPort: 8080 }],
          livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 },
          readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 5 },
        }),
  };
}

export function selectorOf(name: string): Json {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": name };
}

/** A pod spec that passes every policy: one init container and one container, both hardened. */
export function hardenedPodSpec(name: string): Json {
  return {
    serviceAccountName: name,
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    },
    initContainers: [hardenedContainer("init", { probes: false })],
    containers: [hardenedContainer("app")],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: "kubernetes.io/hostname",
              labelSelector: { matchLabels: selectorOf(name) },
            },
          },
        ],
      },
    },
  };
}

/** A workload object of the given kind around a pod spec (replicated kinds get 2 replicas). */
export function workload(kind: TestWorkloadKind, name: string, namespace: string, podSpec: Json): Json {
  const labels = selectorOf(name);
  const metadata = { name, namespace, labels };
  const template = { metadata: { labels }, spec: podSpec };
  const batchTemplate = (restartPolicy: string) => ({ metadata: { labels }, spec: { ...podSpec, restartPolicy } });
  switch (kind) {
    case "Pod":
      return { apiVersion: "v1", kind, metadata, spec: podSpec };
    case "Deployment":
    case "ReplicaSet":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata,
        spec: { replicas: 2, selector: { matchLabels: labels }, template },
      };
    case "StatefulSet":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata,
        spec: { replicas: 2, serviceName: name, selector: { matchLabels: labels }, template },
      };
    case "DaemonSet":
      return { apiVersion: "apps/v1", kind, metadata, spec: { selector: { matchLabels: labels }, template } };
    case "ReplicationController":
      return { apiVersion: "v1", kind, metadata, spec: { replicas: 2, selector: labels, template } };
    case "Job":
      return { apiVersion: "batch/v1", kind, metadata, spec: { backoffLimit: 2, template: batchTemplate("Never") } };
    case "CronJob":
      return {
        apiVersion: "batch/v1",
        kind,
        metadata,
        spec: {
          schedule: "0 2 * * *",
          concurrencyPolicy: "Forbid",
          jobTemplate: { spec: { backoffLimit: 2, template: batchTemplate("OnFailure") } },
        },
      };
  }
}

/** The PodDisruptionBudget a replicated StatefulSet needs in prod. */
export function disruptionBudget(name: string, namespace: string): Json {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf(name) } },
  };
}

/** The pod spec inside any workload object (the CronJob's job template included). */
export function podSpecOf(object: Json): Json {
  if (object.kind === "Pod") return object.spec;
  if (object.kind === "CronJob") return object.spec.jobTemplate.spec.template.spec;
  return object.spec.template.spec;
}

/** A manifest as a plan resource, with its URN in the given stack. */
export function k8s(manifest: Json, stack = "staging"): PlanResource {
  const resource = manifestResource(structuredClone(manifest) as Parameters<typeof manifestResource>[0], stack);
  return resource;
}

/** An AWS (or any) resource in the plan shape; `bucketOf` links a bucket setting to its bucket as the engine does. */
export function awsResource(
  type: string,
  name: string,
  inputs: Json,
  links: { bucketOf?: PlanResource; targetBucket?: PlanResource; stack?: string } = {},
): PlanResource {
  const stack = links.stack ?? "staging";
  const propertyDependencies: Record<string, string[]> = {};
  if (links.bucketOf) propertyDependencies.bucket = [links.bucketOf.urn];
  if (links.targetBucket) propertyDependencies.targetBucket = [links.targetBucket.urn];
  return {
    urn: `urn:pulumi:${stack}::zarish-sphere-ops::${type}::${name}`,
    type,
    name,
    dependencies: Object.values(propertyDependencies).flat(),
    propertyDependencies,
    inputs,
  };
}

export function evaluate(resources: readonly PlanResource[], options: EvaluateOptions = {}): Violation[] {
  return evaluatePolicies(resources, options);
}

/** The violations of one policy. */
export function of(violations: readonly Violation[], policy: string): Violation[] {
  return violations.filter((v) => v.policy === policy);
}

/** The names of the policies with mandatory violations, sorted and unique. */
export function mandatoryPolicies(violations: readonly Violation[]): string[] {
  return [...new Set(violations.filter((v) => v.level === "mandatory").map((v) => v.policy))].sort();
}
