import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import test from "ava";
import { IAM, K8S, kubernetesKind, kubernetesType, S3, WORKLOAD_TYPES } from "../policies/types";

// The pack compares type tokens as strings (loading the SDKs in the analyzer would cost seconds); these tests prove
// each string is the SDK class's own token, so a typo cannot turn a policy off.

/** The SDK class of a Kubernetes token: kubernetes:<group>/<version>:<Kind> is k8s.<group's first label>.<version>.<Kind>. */
function kubernetesClass(token: string): { __pulumiType?: string } | undefined {
  const [, apiVersion, kind] = token.split(":");
  const [group, version] = apiVersion.split("/");
  const module = (k8s as unknown as Record<string, Record<string, Record<string, { __pulumiType?: string }>>>)[
    group.split(".")[0]
  ];
  return module?.[version]?.[kind];
}

/** The SDK class of an AWS token: aws:<module>/<file>:<Class> is aws.<module>.<Class>. */
function awsClass(token: string): { __pulumiType?: string } | undefined {
  const [, moduleAndFile, className] = token.split(":");
  const module = (aws as unknown as Record<string, Record<string, { __pulumiType?: string }>>)[
    moduleAndFile.split("/")[0]
  ];
  return module?.[className];
}

const kubernetesTokens = [
  ...Object.values(WORKLOAD_TYPES).flat(),
  K8S.namespace,
  K8S.service,
  K8S.configMap,
  ...K8S.networkPolicy,
  ...K8S.podDisruptionBudget,
];
const awsTokens = [...Object.values(S3).flat(), ...Object.values(IAM)];

for (const token of kubernetesTokens) {
  test(`${token} is the @pulumi/kubernetes class token`, (t) => {
    t.is(kubernetesClass(token)?.__pulumiType, token);
  });
}

for (const token of awsTokens) {
  test(`${token} is the @pulumi/aws class token`, (t) => {
    t.is(awsClass(token)?.__pulumiType, token);
  });
}

test("kubernetesType maps apiVersion and kind as the Kubernetes provider names them", (t) => {
  t.is(kubernetesType("apps/v1", "Deployment"), "kubernetes:apps/v1:Deployment");
  t.is(kubernetesType("v1", "Pod"), "kubernetes:core/v1:Pod");
  t.is(kubernetesType("networking.k8s.io/v1", "NetworkPolicy"), "kubernetes:networking.k8s.io/v1:NetworkPolicy");
  t.is(kubernetesType("batch/v1", "CronJob"), "kubernetes:batch/v1:CronJob");
  t.is(kubernetesType("policy/v1", "PodDisruptionBudget"), "kubernetes:policy/v1:PodDisruptionBudget");
  t.is(kubernetesType("cert-manager.io/v1", "ClusterIssuer"), "kubernetes:cert-manager.io/v1:ClusterIssuer");
  t.is(kubernetesKind("kubernetes:apps/v1:Deployment"), "Deployment");
  t.is(kubernetesKind("aws:s3/bucket:Bucket"), undefined);
});
