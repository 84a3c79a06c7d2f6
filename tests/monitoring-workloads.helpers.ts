/**
 * Shared by the monitoring workload tests (tests/monitoring-workloads*.test.ts): fixture secrets whose plain
 * values must never reach the engine, and the invariants every monitoring object holds.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ExecutionContext } from "ava";
import type { MonitoringConfig } from "../config/types";
import type { RecordedResource } from "./helpers/harness";
import { assertObjectInvariants, describeObject } from "./helpers/invariants";
import { allStrings, kubernetesObjects } from "./helpers/objects";

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

/**
 * The invariants every monitoring object holds: those of every component (tests/helpers/invariants.ts), and none
 * of the fixture's plain secret values anywhere in what was sent to the engine.
 */
export async function assertMonitoringInvariants(
  t: ExecutionContext,
  resources: readonly RecordedResource[],
): Promise<void> {
  await assertObjectInvariants(t, resources);
  for (const r of kubernetesObjects(resources)) {
    const strings = allStrings(r.inputs);
    for (const plain of Object.values(PLAIN_SECRETS)) {
      t.false(
        strings.some((s) => s.includes(plain)),
        `${describeObject(r)} carries a plain secret value`,
      );
    }
  }
}
