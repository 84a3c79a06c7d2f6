/**
 * Resource limits: every container, init container included, requests and limits CPU and memory, with each limit
 * at least its request and below a per-container ceiling. Without them one pod can starve the node that runs the
 * clinical workloads, and the scheduler cannot place pods safely.
 */
import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { parseQuantity } from "../components/k8s/quantity";
import { configOf, obj, type Props, str, validateTypes } from "./common";
import { ALL_WORKLOAD_TYPES, describeContainer, workloadOf } from "./workloads";

const schema: PolicyConfigSchema = {
  properties: {
    maxCpu: { type: "string", default: "8", description: "Highest CPU limit of one container (Kubernetes quantity)" },
    maxMemory: {
      type: "string",
      default: "32Gi",
      description: "Highest memory limit of one container (Kubernetes quantity)",
    },
  },
};

interface Config {
  maxCpu: string;
  maxMemory: string;
}

const RESOURCES = ["cpu", "memory"] as const;

/** The problems of one container's `resources`, each with how to fix it. */
export function resourceProblems(resources: unknown, ceilings: Record<"cpu" | "memory", number | undefined>): string[] {
  const problems: string[] = [];
  const requests = obj(obj(resources)?.requests) ?? {};
  const limits = obj(obj(resources)?.limits) ?? {};
  for (const resource of RESOURCES) {
    const request = requests[resource];
    const limit = limits[resource];
    const requestValue = parseQuantity(request as string);
    const limitValue = parseQuantity(limit as string);
    if (request === undefined) problems.push(`has no ${resource} request: set resources.requests.${resource}`);
    else if (requestValue === undefined)
      problems.push(`has a malformed ${resource} request ${JSON.stringify(request)}`);
    if (limit === undefined) problems.push(`has no ${resource} limit: set resources.limits.${resource}`);
    else if (limitValue === undefined) problems.push(`has a malformed ${resource} limit ${JSON.stringify(limit)}`);
    if (requestValue !== undefined && limitValue !== undefined && limitValue < requestValue) {
      problems.push(
        `has a ${resource} limit (${limit}) below its request (${request}): raise the limit or lower the request`,
      );
    }
    const ceiling = ceilings[resource];
    if (limitValue !== undefined && ceiling !== undefined && limitValue > ceiling) {
      problems.push(
        `has a ${resource} limit (${limit}) above the ceiling of one container: split the work or raise max${resource === "cpu" ? "Cpu" : "Memory"}`,
      );
    }
  }
  return problems;
}

export const containerResources: ResourceValidationPolicy = {
  name: "container-resources",
  description:
    "Every container and init container sets CPU and memory requests and limits, limit >= request, below the ceiling.",
  enforcementLevel: "mandatory",
  configSchema: schema,
  validateResource: validateTypes(ALL_WORKLOAD_TYPES, (args, report) => {
    const config = configOf<Config>(args, schema);
    const ceilings = { cpu: parseQuantity(str(config.maxCpu)), memory: parseQuantity(str(config.maxMemory)) };
    const workload = workloadOf(args.type, args.props as Props, args.name);
    if (!workload) return;
    for (const ref of workload.containers) {
      // The API server refuses resources on ephemeral (debug) containers, so they cannot be required there.
      if (ref.role === "ephemeral container") continue;
      for (const problem of resourceProblems(ref.container.resources, ceilings)) {
        report(`${describeContainer(ref)} ${problem}`);
      }
    }
  }),
};

export const resourcePolicies = [containerResources];
