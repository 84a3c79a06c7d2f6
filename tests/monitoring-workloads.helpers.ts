/**
 * Shared by the monitoring workload tests (tests/monitoring-workloads*.test.ts): fixture secrets whose plain
 * values must never reach the engine, and checks every recorded Kubernetes object must pass.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ExecutionContext } from "ava";
import type { MonitoringConfig } from "../config/types";
import { containersOf, type RecordedResource, SECRET } from "./helpers/harness";
import { validateManifest } from "./helpers/schema";

/** Recognisable plain values: a test fails if any of them appears in what was sent to the engine. */
export const PLAIN_SECRETS = {
  slackWebhookUrl: "https://hooks.slack.com/services/T000/B000/plain-slack-secret",
  pagerDutyRoutingKey: "plain-pagerduty-routing-key-0123456789",
  smtpPassword: "plain-smtp-password",
  postgresExporterPassword: "plain-postgres-exporter-password",
  redisPassword: "plain-redis-password",
} as const;

/** config.monitoring.secrets with the plain values above, as Pulumi secrets (as config/index.ts delivers them). */
export function fixtureSecrets(): MonitoringConfig["secrets"] {
  return {
    slackWebhookUrl: pulumi.secret(PLAIN_SECRETS.slackWebhookUrl),
    pagerDutyRoutingKey: pulumi.secret(PLAIN_SECRETS.pagerDutyRoutingKey),
    smtpPassword: pulumi.secret(PLAIN_SECRETS.smtpPassword),
    postgresExporterPassword: pulumi.secret(PLAIN_SECRETS.postgresExporterPassword),
    redisPassword: pulumi.secret(PLAIN_SECRETS.redisPassword),
  };
}

export function kubernetesObjects(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
}

export function objectsOfKind(resources: readonly RecordedResource[], kind: string): RecordedResource[] {
  return kubernetesObjects(resources).filter((r) => r.inputs.kind === kind);
}

/** The recorded object of `kind` with metadata.name `name`; fails the test with the names present otherwise. */
export function objectNamed(resources: readonly RecordedResource[], kind: string, name: string): RecordedResource {
  const all = objectsOfKind(resources, kind);
  const found = all.find((r) => metadataOf(r).name === name);
  if (found === undefined)
    throw new Error(`no ${kind} ${name} (have: ${all.map((r) => metadataOf(r).name).join(", ")})`);
  return found;
}

export function metadataOf(r: RecordedResource): {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
} {
  return (r.inputs.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
}

/** The pod spec of a workload (Deployment, StatefulSet, DaemonSet, CronJob). */
export function podSpecOf(r: RecordedResource): Record<string, any> {
  const spec = (r.inputs.spec ?? {}) as Record<string, any>;
  return r.inputs.kind === "CronJob" ? spec.jobTemplate.spec.template.spec : spec.template.spec;
}

export function containerNamed(r: RecordedResource, name: string): Record<string, any> {
  const found = containersOf(r).find((c) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name} in ${r.inputs.kind} ${metadataOf(r).name}`);
  return found as Record<string, any>;
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod"]);

export function workloads(resources: readonly RecordedResource[]): RecordedResource[] {
  return kubernetesObjects(resources).filter((r) => WORKLOAD_KINDS.has(r.inputs.kind as string));
}

/** Every string anywhere in a value (object keys included), for leak checks. */
export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
  }
  return [];
}

/**
 * The invariants every monitoring object holds, asserted in one place: explicit name and namespace, the
 * recommended labels, schema validity, no secret in a ConfigMap or in plain text anywhere, and requests and
 * limits on every container (init containers included).
 */
export async function assertObjectInvariants(
  t: ExecutionContext,
  resources: readonly RecordedResource[],
): Promise<void> {
  const objects = kubernetesObjects(resources);
  t.true(objects.length > 0, "no Kubernetes object recorded");
  for (const r of objects) {
    const m = metadataOf(r);
    const where = `${r.inputs.kind} ${m.name}`;
    t.is(typeof m.name, "string", `${r.name}: metadata.name`);
    if (!["ClusterRole", "ClusterRoleBinding"].includes(r.inputs.kind as string))
      t.is(typeof m.namespace, "string", `${where}: namespace`);
    for (const label of [
      "app.kubernetes.io/name",
      "app.kubernetes.io/instance",
      "app.kubernetes.io/component",
      "app.kubernetes.io/part-of",
      "app.kubernetes.io/managed-by",
    ]) {
      t.truthy(m.labels?.[label], `${where}: label ${label}`);
    }
    await t.notThrowsAsync(validateManifest(r.inputs), `${where}: schema`);
    const strings = allStrings(r.inputs);
    for (const plain of Object.values(PLAIN_SECRETS)) {
      t.false(
        strings.some((s) => s.includes(plain)),
        `${where} carries a plain secret value`,
      );
    }
    if (r.inputs.kind === "ConfigMap") {
      t.false(strings.includes(SECRET), `${where}: a ConfigMap holds a secret`);
    }
  }
  for (const w of workloads(resources)) {
    for (const c of containersOf(w) as Record<string, any>[]) {
      const where = `${w.inputs.kind} ${metadataOf(w).name} container ${c.name}`;
      for (const kind of ["requests", "limits"]) {
        t.truthy(c.resources?.[kind]?.cpu, `${where}: ${kind}.cpu`);
        t.truthy(c.resources?.[kind]?.memory, `${where}: ${kind}.memory`);
      }
      t.regex(c.image, /:[^:@/]+(@sha256:[a-f0-9]{64})?$/, `${where}: pinned image`);
      t.notRegex(c.image, /:latest(@|$)/, `${where}: not latest`);
    }
  }
}
