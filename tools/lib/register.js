// Registers TypeScript the way `pulumi up` does, so that the offline plan, the tests and the CLI compile the
// program identically. This mirrors @pulumi/pulumi cmd/run/run.js (non-ESM branch): the same tsconfig.json, the
// same ts-node and typescript resolution (the SDK's own tsutils), `noCheck` read as transpile-only, and the same
// compiler option overrides. Keep it in step with the SDK when upgrading @pulumi/pulumi.

const path = require("node:path");
const tsutils = require("@pulumi/pulumi/tsutils");

let registered = false;

function registerTypeScript(root = path.resolve(__dirname, "..", "..")) {
  if (registered) return;
  registered = true;
  const tsConfigPath = path.join(root, "tsconfig.json");
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
  const transpileEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  const transpileOnly = transpileEnv ? transpileEnv === "true" : compilerOptions.noCheck;
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  require(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly,
    project: tsConfigPath,
    skipProject: false,
    compilerOptions: {
      target: "ES2020",
      module: "nodenext",
      moduleResolution: "nodenext",
      sourceMap: "true",
      ...compilerOptions,
    },
  });
}

module.exports = { registerTypeScript };
registerTypeScript();
