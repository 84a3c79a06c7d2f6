import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { findResource, runComponent, SECRET } from "./helpers/harness";

test("an invoke that is not mocked fails loudly", async (t) => {
  const err = await t.throwsAsync(runComponent(() => aws.getCallerIdentity({})));
  t.regex(err!.message, /unmocked invoke aws:index\/getCallerIdentity:getCallerIdentity/);
});

test("secrets are recorded as [secret], dependencies implicit and explicit", async (t) => {
  const recorded = await runComponent(() => {
    const ns = new k8s.core.v1.Namespace("h-ns", { metadata: { name: "h" } });
    const other = new k8s.core.v1.ConfigMap("h-other", { metadata: { name: "o", namespace: "h" }, data: { a: "1" } });
    new k8s.core.v1.Secret(
      "h-secret",
      { metadata: { name: "s", namespace: ns.metadata.name }, stringData: { password: pulumi.secret("hunter2") } },
      { dependsOn: [other] },
    );
  });
  const secret = findResource(recorded, "kubernetes:core/v1:Secret", "h-secret");
  t.deepEqual(secret.inputs.stringData, { password: SECRET });
  const ns = findResource(recorded, "kubernetes:core/v1:Namespace", "h-ns");
  const other = findResource(recorded, "kubernetes:core/v1:ConfigMap", "h-other");
  t.deepEqual([...secret.dependencies].sort(), [ns.urn, other.urn].sort());
  t.deepEqual(secret.propertyDependencies, { metadata: [ns.urn] });
  t.false(JSON.stringify(recorded).includes("hunter2"));
});

test("component children record their parent", async (t) => {
  class Box extends pulumi.ComponentResource {
    constructor(name: string) {
      super("zarish:test:Box", name, {});
      new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name } }, { parent: this });
      this.registerOutputs({});
    }
  }
  const recorded = await runComponent(() => new Box("hbox"));
  const box = findResource(recorded, "zarish:test:Box", "hbox");
  t.false(box.custom);
  t.is(findResource(recorded, "kubernetes:core/v1:Namespace", "hbox-ns").parent, box.urn);
});
