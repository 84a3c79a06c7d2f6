import type * as pulumi from "@pulumi/pulumi";

/**
 * Options for a component's children that carry the component's own dependsOn down to them: Pulumi does not pass
 * it on, so without this a workload inside a component could start before what the component was told to wait for
 * (Kibana before the Elasticsearch bootstrap, say).
 */
export function childOptions(
  parent: pulumi.Resource,
  opts?: pulumi.ComponentResourceOptions,
): pulumi.CustomResourceOptions {
  return { parent, dependsOn: opts?.dependsOn };
}
