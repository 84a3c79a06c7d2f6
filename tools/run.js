#!/usr/bin/env node
// Entry of the team's tools (`npm run plan|policy|bench`): registers TypeScript the way `pulumi up` does, then
// runs tools/<name>.ts's `main(argv)` and exits with the code it returns.

// Cache V8's compiled code of the big SDK modules between runs (Node >= 22.1): a plan is mostly module loading.
require("node:module").enableCompileCache?.();
require("./lib/register.js");
const name = process.argv[2];
const allowed = ["plan", "policy", "bench", "bench-policy"];
if (!allowed.includes(name)) {
  console.error(`error: unknown tool "${name}" (allowed: ${allowed.join(", ")})`);
  process.exit(2);
}
require(`./${name}`)
  .main(process.argv.slice(3))
  .then(
    (code) => process.exit(code),
    (err) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.ZARISH_DEBUG) console.error(err);
      process.exit(2);
    },
  );
