import type * as k8s from "@pulumi/kubernetes";

/** CPU and memory for one container: both requested and limited, always (the policy pack refuses less). */
export interface ComputeResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Shorthand: `resources("100m", "128Mi", "200m", "256Mi")` = requests cpu/memory, then limits cpu/memory. */
export function resources(
  requestCpu: string,
  requestMemory: string,
  limitCpu: string,
  limitMemory: string,
): ComputeResources {
  return { requests: { cpu: requestCpu, memory: requestMemory }, limits: { cpu: limitCpu, memory: limitMemory } };
}

/** The Kubernetes shape of a ComputeResources (a fresh object: the engine may not share one between containers). */
export function toK8sResources(r: ComputeResources): k8s.types.input.core.v1.ResourceRequirements {
  return { requests: { ...r.requests }, limits: { ...r.limits } };
}
