/**
 * `npm run bench [-- --rounds N]`: how long the offline plan of each stack takes, against the floor of a bare
 * `node` that only imports @pulumi/pulumi, @pulumi/kubernetes and @pulumi/aws. The runs alternate (floor,
 * staging, prod, floor, ...) so machine noise hits all of them alike. Goal (issue 2): plan <= 2x the floor.
 * A benchmark, not a test: it prints figures and exits 0.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/program";

const FLOOR = "require('@pulumi/pulumi'); require('@pulumi/kubernetes'); require('@pulumi/aws');";

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: "string", default: "7" } } });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds must be a positive integer (got ${values.rounds})`);
  const out = mkdtempSync(path.join(tmpdir(), "zarish-bench-"));
  const runs: Record<string, string[]> = {
    floor: ["-e", FLOOR],
    staging: [path.join(ROOT, "tools", "run.js"), "plan", "--stack", "staging", "--out", path.join(out, "staging")],
    prod: [path.join(ROOT, "tools", "run.js"), "plan", "--stack", "prod", "--out", path.join(out, "prod")],
  };
  const times: Record<string, number[]> = { floor: [], staging: [], prod: [] };
  try {
    for (const name of Object.keys(runs)) timeOnce(runs[name]); // warm the file cache once, untimed
    for (let i = 0; i < rounds; i++) for (const name of Object.keys(runs)) times[name].push(timeOnce(runs[name]));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const floor = median(times.floor);
  console.log(`node ${process.version}, ${rounds} alternating rounds, medians (min-max):`);
  for (const name of Object.keys(runs)) {
    const t = times[name];
    const ratio = name === "floor" ? "" : `  ratio ${(median(t) / floor).toFixed(2)}x the floor (goal <= 2x)`;
    console.log(
      `  ${name.padEnd(8)} ${median(t).toFixed(0).padStart(6)} ms (${Math.min(...t).toFixed(0)}-${Math.max(...t).toFixed(0)})${ratio}`,
    );
  }
  return 0;
}
