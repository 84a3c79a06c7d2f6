/** A validated PlatformConfig built from a stack file, for component tests (secrets are placeholder Pulumi secrets). */
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, readStackValues } from "../../config";
import type { PlatformConfig } from "../../config/types";
import { ROOT } from "../../tools/lib/program";
import { loadStackConfig } from "../../tools/lib/stack-config";

export function testConfig(
  stack: "staging" | "prod",
  overrides: Record<string, string | undefined> = {},
): PlatformConfig {
  const stackConfig = loadStackConfig(ROOT, stack);
  const values: Record<string, string> = {};
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const [key, value] of Object.entries({ ...stackConfig.values, ...overrides })) {
    if (value === undefined) continue;
    if (stackConfig.secretKeys.includes(key)) secrets[key] = pulumi.secret(value);
    else values[key] = value;
  }
  return parseConfig({
    project: stackConfig.project,
    stack,
    values,
    secrets,
    staging: stack === "prod" ? readStackValues("staging", ROOT) : undefined,
  });
}
