/** tests/helpers/schema.ts: the schema check every component test relies on finds each package's models and fails when it should. */
import test from "ava";
import { schemaModel, validateManifest } from "./helpers/schema";

test("schemaModel finds core, apps and cert-manager kinds (subgroups included)", async (t) => {
  for (const [apiVersion, kind] of [
    ["v1", "Service"],
    ["apps/v1", "Deployment"],
    ["cert-manager.io/v1", "ClusterIssuer"],
    ["acme.cert-manager.io/v1", "Challenge"],
  ]) {
    t.is(typeof (await schemaModel(apiVersion, kind)), "function", `${apiVersion} ${kind}`);
  }
});

test("schemaModel returns undefined for a kind no package knows", async (t) => {
  t.is(await schemaModel("v1", "NoSuchKind"), undefined);
  t.is(await schemaModel("example.com/v1", "Widget"), undefined);
  t.is(await schemaModel("cert-manager.io/v1", "NoSuchKind"), undefined);
});

test("validateManifest rejects a kind without schema, a manifest without kind, and a schema violation", async (t) => {
  await t.throwsAsync(validateManifest({ apiVersion: "example.com/v1", kind: "Widget" }), {
    message: /no schema for example\.com\/v1 Widget/,
  });
  await t.throwsAsync(validateManifest({ metadata: { name: "x" } }), { message: /without apiVersion and kind/ });
  await t.throwsAsync(
    validateManifest({ apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { ports: 1 } }),
  );
  await t.throwsAsync(
    validateManifest({
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "x" },
      spec: { acme: {} },
    }),
  );
});

test("validateManifest accepts a valid manifest of each package", async (t) => {
  await t.notThrowsAsync(validateManifest({ apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: {} }));
  await t.notThrowsAsync(
    validateManifest({
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "x" },
      spec: { selfSigned: {} },
    }),
  );
});
