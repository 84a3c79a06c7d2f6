import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Where Debian installs tools that are not on PATH by default. */
const EXTRA_DIRS = ["/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"];

/**
 * The absolute path of an external validator a test needs. A missing tool fails the test with the command that
 * installs it: these tests prove generated files with the real tools, and never skip.
 */
export function requireTool(name: string, debianPackage: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
  } catch {
    for (const dir of EXTRA_DIRS) {
      if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
    }
    throw new Error(`${name} not found: install it with \`apt-get install ${debianPackage}\` (bash .ci/run does)`);
  }
}
