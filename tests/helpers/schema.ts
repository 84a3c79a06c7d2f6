/**
 * Schema validation of Kubernetes manifests, for every test that checks one: core and apps kinds against the
 * Kubernetes OpenAPI (kubernetes-models), cert-manager kinds against its CRDs (@kubernetes-models/cert-manager).
 * Both packages are ES modules: loaded with import(), which resolves `apps/v1/StatefulSet` and core `v1/Service` alike.
 */

/** A model class: its constructor takes the manifest, `validate()` throws on the first schema violation. */
export type SchemaModel = new (data: unknown) => { validate(): void };

/** Groups served by @kubernetes-models/cert-manager: cert-manager.io and its subgroups (acme.cert-manager.io ...). */
const CERT_MANAGER_GROUP = /(^|\.)cert-manager\.io$/;

/** What a missing module path looks like to require(), import() and a package's exports map. */
const NOT_FOUND = new Set(["MODULE_NOT_FOUND", "ERR_MODULE_NOT_FOUND", "ERR_PACKAGE_PATH_NOT_EXPORTED"]);

/** The model class of `apiVersion` `kind`, or undefined when neither package has a schema for it. */
export async function schemaModel(apiVersion: string, kind: string): Promise<SchemaModel | undefined> {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const path = CERT_MANAGER_GROUP.test(group)
    ? `@kubernetes-models/cert-manager/${apiVersion}/${kind}`
    : `kubernetes-models/${apiVersion}/${kind}`;
  let module: Record<string, SchemaModel | undefined>;
  try {
    module = await import(path);
  } catch (error) {
    // Only "there is no such model" means no schema; anything else (a broken package) is the test's failure.
    if (NOT_FOUND.has((error as { code?: string }).code ?? "")) return undefined;
    throw error;
  }
  return module[kind] ?? module.default;
}

/** Validates a manifest against the schema of its kind; throws when it violates it or when there is no schema. */
export async function validateManifest(manifest: Record<string, unknown>): Promise<void> {
  const { apiVersion, kind } = manifest as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    throw new Error(`manifest without apiVersion and kind (got ${String(apiVersion)} ${String(kind)})`);
  }
  const Model = await schemaModel(apiVersion, kind);
  if (Model === undefined) {
    throw new Error(`no schema for ${apiVersion} ${kind} in kubernetes-models or @kubernetes-models/cert-manager`);
  }
  new Model(manifest).validate();
}
