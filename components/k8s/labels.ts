/** The Kubernetes recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/). */
export const PART_OF = "zarish-sphere";
export const MANAGED_BY = "pulumi";

export interface LabelArgs {
  /** app.kubernetes.io/name: the application, e.g. "prometheus". */
  readonly name: string;
  /** app.kubernetes.io/component: its role in the architecture, e.g. "monitoring". */
  readonly component: string;
  /** app.kubernetes.io/instance: distinguishes several installs of one app. Default: the name. */
  readonly instance?: string;
  /** app.kubernetes.io/version: the image version, when known. */
  readonly version?: string;
}

/** Labels that select the pods of one workload; stable across upgrades (no version), as selectors are immutable. */
export function selectorLabels(args: Pick<LabelArgs, "name" | "instance">): Record<string, string> {
  return {
    "app.kubernetes.io/name": args.name,
    "app.kubernetes.io/instance": args.instance ?? args.name,
  };
}

/** Every recommended label for an object of the platform. */
export function recommendedLabels(args: LabelArgs): Record<string, string> {
  return {
    ...selectorLabels(args),
    "app.kubernetes.io/component": args.component,
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": MANAGED_BY,
    ...(args.version === undefined ? {} : { "app.kubernetes.io/version": args.version }),
  };
}

/** The version part of a pinned image reference ("repo:1.2.3@sha256:..." gives "1.2.3"). */
export function imageVersion(image: string): string {
  const withoutDigest = image.split("@")[0];
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? "" : withoutDigest.slice(colon + 1);
}
