import type { PlanResource, PlanViolation } from "./plan-output";

/** One line per violation, as the policy-check contract prints it: `<level> <policy> <type> <namespace>/<name>: <message>`. */
export function formatViolation(v: PlanViolation, resource: PlanResource | undefined): string {
  const type = resource?.type ?? v.urn.split("::")[2]?.split("$").pop() ?? "unknown";
  const metadata = (resource?.inputs.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  const name = typeof metadata.name === "string" ? metadata.name : (resource?.name ?? v.urn.split("::").pop() ?? "");
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : "";
  return `${v.level} ${v.policy} ${type} ${namespace}/${name}: ${v.message.replace(/\s*\n\s*/g, " ")}`;
}
