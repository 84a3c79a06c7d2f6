/**
 * The offline plan of a stack, rendered once per test run by the real tool (`npm run plan`), shared by every test
 * worker: the first worker renders under a lock, the others reuse the output of the same run (same ava process).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Plan } from "../../tools/lib/plan-output";
import { ROOT } from "../../tools/lib/program";

export interface RenderedPlan {
  readonly dir: string;
  readonly plan: Plan;
  /** Exit code of the plan tool (0, or 1 when it found mandatory violations). */
  readonly exitCode: number;
  readonly stdout: string;
}

const cache = new Map<string, RenderedPlan>();

export async function renderedPlan(stack: "staging" | "prod"): Promise<RenderedPlan> {
  const cached = cache.get(stack);
  if (cached) return cached;
  const dir = path.join(ROOT, "out", "test", stack);
  const lock = `${dir}.lock`;
  const stamp = path.join(dir, ".rendered-by");
  const runId = String(process.ppid); // every ava worker of one run shares the main process
  mkdirSync(path.dirname(dir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker is rendering; a lock older than two minutes is from a crashed run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    let result: { exitCode: number; stdout: string };
    if (existsSync(stamp) && readFileSync(stamp, "utf8").split("\n")[0] === runId) {
      result = JSON.parse(readFileSync(stamp, "utf8").split("\n").slice(1).join("\n"));
    } else {
      result = render(stack, dir);
      writeFileSync(stamp, `${runId}\n${JSON.stringify(result)}`);
    }
    const rendered: RenderedPlan = {
      dir,
      plan: JSON.parse(readFileSync(path.join(dir, "plan.json"), "utf8")),
      ...result,
    };
    cache.set(stack, rendered);
    return rendered;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function render(stack: string, dir: string): { exitCode: number; stdout: string } {
  try {
    const stdout = execFileSync(
      process.execPath,
      [path.join(ROOT, "tools", "run.js"), "plan", "--stack", stack, "--out", dir],
      {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    return { exitCode: 0, stdout };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    if (e.status === 1 && existsSync(path.join(dir, "plan.json"))) return { exitCode: 1, stdout: e.stdout ?? "" };
    throw new Error(`npm run plan -- --stack ${stack} failed (exit ${e.status}): ${e.stderr ?? ""}${e.stdout ?? ""}`);
  }
}

/** Every file under a folder of the rendered plan, relative to it. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}
