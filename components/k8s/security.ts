import type * as k8s from "@pulumi/kubernetes";
import { type ComputeResources, toK8sResources } from "./resources";

/**
 * The Pod Security Standards "restricted" profile for a container: non-root, no privilege escalation, read-only
 * root filesystem, every capability dropped, seccomp RuntimeDefault. Workloads that need writable paths mount an
 * emptyDir there rather than loosening this.
 */
export function restrictedSecurityContext(
  runAsUser: number,
  runAsGroup: number = runAsUser,
): k8s.types.input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Pod-level counterpart: the volume group so mounted volumes are writable by the non-root user. */
export function restrictedPodSecurityContext(
  runAsUser: number,
  fsGroup: number = runAsUser,
): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: fsGroup,
    fsGroup,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export interface HardenedContainerArgs
  extends Omit<k8s.types.input.core.v1.Container, "resources" | "securityContext"> {
  /** CPU and memory: required, there is no default that fits every container. */
  readonly compute: ComputeResources;
  /** UID (and GID) the container runs as; must not be 0. */
  readonly runAsUser: number;
  /** Overrides merged over the restricted profile; only node agents use it, and say why where they do. */
  readonly securityContextOverrides?: k8s.types.input.core.v1.SecurityContext;
}

/** A container with the restricted security profile and the given requests and limits. */
export function hardenedContainer(args: HardenedContainerArgs): k8s.types.input.core.v1.Container {
  const { compute, runAsUser, securityContextOverrides, ...container } = args;
  return {
    imagePullPolicy: "IfNotPresent",
    ...container,
    resources: toK8sResources(compute),
    securityContext: { ...restrictedSecurityContext(runAsUser), ...securityContextOverrides },
  };
}
