import { readFileSync } from "node:fs";
import * as path from "node:path";
import test from "ava";
import { SECRET_KEYS } from "../config";

const ROOT = path.resolve(__dirname, "..");
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
const ci = readFileSync(path.join(ROOT, ".ci", "run"), "utf8");

/** The first command of the README code block that follows `heading`. */
function commandUnder(heading: string): string {
  const section = readme.slice(readme.indexOf(heading));
  const block = /```bash\n([^\n]+)\n/.exec(section);
  if (!block) throw new Error(`no bash block under ${heading}`);
  return block[1].trim();
}

test("CI runs the README's set-up and test commands, exactly as written", (t) => {
  const setup = commandUnder("## Set up");
  const tests = commandUnder("## Test");
  t.is(setup, "bash tools/setup.sh");
  t.is(tests, "npm test");
  const ciCommands = ci
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#") && !l.startsWith("set ") && !l.startsWith("cd "));
  t.deepEqual(ciCommands, [setup, tests]);
});

test("the README lists every secret key and how to set it", (t) => {
  for (const key of Object.keys(SECRET_KEYS)) t.true(readme.includes(`| \`${key}\` |`), key);
  t.true(readme.includes("pulumi config set --secret"));
});

test("the test command runs typecheck, lint and ava", (t) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
  t.is(pkg.scripts.test, "npm run typecheck && npm run lint && ava");
  t.regex(pkg.scripts.typecheck, /tsc --noEmit --noCheck false/);
  t.regex(pkg.scripts.lint, /biome check/);
});
