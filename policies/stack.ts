/**
 * Stack-wide Kubernetes checks, which look at several resources together: every namespace the stack creates is
 * closed by a default-deny NetworkPolicy (everything else is then allowed by name), and in prod every replicated
 * StatefulSet (Elasticsearch, Alertmanager, Prometheus) has a PodDisruptionBudget so a node drain cannot take a
 * quorum down. (The bucket-settings link is checked with the other S3 policies, in security-aws.ts.)
 */
import type { PolicyConfigSchema, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import {
  arr,
  configOf,
  ENVIRONMENT_PROPERTY,
  environmentOf,
  known,
  metadataOf,
  num,
  obj,
  type Props,
  resourcesOfTypes,
  str,
  unlessUnknown,
} from "./common";
import { K8S } from "./types";

const props = (r: PolicyResource): Props => r.props as Props;

function isEmptySelector(selector: unknown): boolean {
  const s = obj(selector);
  return s !== undefined && Object.keys(obj(s.matchLabels) ?? {}).length === 0 && arr(s.matchExpressions).length === 0;
}

/**
 * Whether a NetworkPolicy denies all traffic of one direction to every pod of its namespace: it selects every pod,
 * names the direction in policyTypes, and allows nothing in it.
 */
export function deniesAll(policy: Props, direction: "Ingress" | "Egress"): boolean {
  const spec = obj(policy.spec) ?? {};
  if (!isEmptySelector(spec.podSelector)) return false;
  const rules = arr(direction === "Ingress" ? spec.ingress : spec.egress);
  // Without policyTypes, Kubernetes infers Ingress always and Egress only when egress rules exist.
  const types = Array.isArray(spec.policyTypes)
    ? spec.policyTypes
    : ["Ingress", ...(arr(spec.egress).length ? ["Egress"] : [])];
  return types.includes(direction) && rules.length === 0;
}

export const namespaceDefaultDeny: StackValidationPolicy = {
  name: "namespace-default-deny",
  description: "Every namespace the stack creates has a default-deny NetworkPolicy for ingress and egress.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const namespaces = resourcesOfTypes(args, [K8S.namespace]);
    if (namespaces.length === 0) return;
    const policies = resourcesOfTypes(args, K8S.networkPolicy);
    for (const namespace of namespaces) {
      unlessUnknown(() => {
        const name = str(metadataOf(props(namespace)).name) ?? namespace.name;
        // A policy belongs to the namespace by its metadata.namespace, or, when that is an Output unknown during a
        // preview, by its metadata depending on the Namespace resource.
        const inNamespace = policies.filter(
          (p) =>
            known(() => str(metadataOf(props(p)).namespace)) === name ||
            (p.propertyDependencies?.metadata ?? []).includes(namespace),
        );
        const missing = (["Ingress", "Egress"] as const).filter(
          (d) => !inNamespace.some((p) => deniesAll(props(p), d)),
        );
        if (missing.length > 0) {
          reportViolation(
            `namespace ${name} does not deny ${missing.join(" and ").toLowerCase()} by default: add a NetworkPolicy with ` +
              "podSelector: {}, policyTypes: [Ingress, Egress] and no rules, then allow each needed flow by name",
            namespace.urn,
          );
        }
      });
    }
  },
};

/** Whether a label selector (matchLabels and matchExpressions) selects pods with these labels. */
export function selects(selector: unknown, labels: Record<string, unknown>): boolean {
  const s = obj(selector);
  if (!s) return false; // policy/v1: a null selector selects no pods
  for (const [key, value] of Object.entries(obj(s.matchLabels) ?? {})) if (labels[key] !== value) return false;
  for (const item of arr(s.matchExpressions)) {
    const e = obj(item) ?? {};
    const key = str(e.key) ?? "";
    const values = arr(e.values);
    const has = key in labels;
    const ok =
      e.operator === "In"
        ? has && values.includes(labels[key])
        : e.operator === "NotIn"
          ? !has || !values.includes(labels[key])
          : e.operator === "Exists"
            ? has
            : e.operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

const pdbSchema: PolicyConfigSchema = {
  properties: {
    environment: ENVIRONMENT_PROPERTY,
    environments: {
      type: "array",
      items: { type: "string", enum: ["staging", "prod"] },
      default: ["prod"],
      description: "Environments where replicated StatefulSets need a PodDisruptionBudget",
    },
    minReplicas: {
      type: "integer",
      default: 2,
      description: "Replica count from which a PodDisruptionBudget is required",
    },
  },
};

export const statefulSetDisruptionBudget: StackValidationPolicy = {
  name: "statefulset-disruption-budget",
  description: "In prod, every StatefulSet with more than one replica has a PodDisruptionBudget selecting its pods.",
  enforcementLevel: "mandatory",
  configSchema: pdbSchema,
  validateStack: (args, reportViolation) => {
    const statefulSets = resourcesOfTypes(args, K8S.statefulSet);
    if (statefulSets.length === 0) return;
    const config = configOf<Props>(args, pdbSchema);
    const environment = environmentOf(config.environment, args.resources[0]?.urn);
    if (!arr(config.environments).includes(environment)) return;
    const minReplicas = num(config.minReplicas) ?? 2;
    const budgets = resourcesOfTypes(args, K8S.podDisruptionBudget);
    for (const statefulSet of statefulSets) {
      unlessUnknown(() => {
        const p = props(statefulSet);
        const replicas = num(obj(p.spec)?.replicas) ?? 1;
        if (replicas < minReplicas) return;
        const metadata = metadataOf(p);
        const namespace = str(metadata.namespace);
        const labels = obj(obj(obj(obj(p.spec)?.template)?.metadata)?.labels) ?? {};
        // A budget with a value unknown during the preview cannot be matched yet; it does not stop the others.
        const covered = budgets.some(
          (b) =>
            known(
              () => str(metadataOf(props(b)).namespace) === namespace && selects(obj(props(b).spec)?.selector, labels),
            ) === true,
        );
        if (!covered) {
          reportViolation(
            `StatefulSet ${namespace ?? ""}/${str(metadata.name) ?? statefulSet.name} runs ${replicas} replicas in ${environment} ` +
              "without a PodDisruptionBudget: add one whose selector matches its pod labels (e.g. maxUnavailable: 1)",
            statefulSet.urn,
          );
        }
      });
    }
  },
};

export const stackPolicies = [namespaceDefaultDeny, statefulSetDisruptionBudget];
