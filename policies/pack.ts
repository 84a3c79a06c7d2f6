/**
 * The policy list of the pack, without constructing a PolicyPack: constructing one starts the analyzer's gRPC
 * server, so index.ts does that and nothing else, while the offline check (tools/lib/policy-engine.ts) and the tests
 * import this module. Each domain lives in its own module; the order here is the order violations are listed.
 */
import type { EnforcementLevel, Policies, PolicyConfigSchema } from "@pulumi/policy";
import { resourcePolicies } from "./resources";
import { retentionPolicies } from "./retention";
import { awsSecurityPolicies } from "./security-aws";
import { securityBaselinePolicies } from "./security-baseline";
import { stackPolicies } from "./stack";

export const packName = "zarish-sphere";

/** Level of a policy that does not set its own; every policy of this pack sets one. */
export const packEnforcementLevel: EnforcementLevel = "mandatory";

export const policies: Policies = [
  ...resourcePolicies,
  ...retentionPolicies,
  ...securityBaselinePolicies,
  ...awsSecurityPolicies,
  ...stackPolicies,
];

/** Every policy's config schema by policy name (what `--policy-pack-config` files are validated against). */
export const configSchemas: Readonly<Record<string, PolicyConfigSchema | undefined>> = Object.fromEntries(
  policies.map((p) => [p.name, p.configSchema]),
);
